from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from core.calendar import business_date_today
from operations.nightly_close import INLINE, WORKERS, CloseFailed, business_days_advance


class Command(BaseCommand):
    help = ("Run the nightly close N times, advancing the business date by N days: in this "
            "process by default, or through the Celery workers with --workers.")

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=1)
        parser.add_argument("--workers", action="store_true",
                            help="Send each step's chunks to the Celery workers (needs a "
                                 "broker and running workers) and wait for them.")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args, days, workers, no_progress, **options):
        if days < 1:
            raise CommandError("--days must be at least 1.")
        start = business_date_today()
        with tqdm(total=days, unit="day", disable=no_progress, file=self.stderr) as bar:
            def progress(step, done, total):
                bar.set_postfix_str(f"{business_date_today()} {step} {done}/{total}")

            try:
                for _ in range(days):
                    business_days_advance(days=1, dispatch=WORKERS if workers else INLINE,
                                          progress=progress)
                    bar.update(1)
            except CloseFailed as exc:
                raise CommandError(f"{exc} Run the command again to resume.") from exc
        self.stdout.write(f"Business date advanced from {start} to {business_date_today()}.")
