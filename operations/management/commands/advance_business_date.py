from django.core.management.base import BaseCommand, CommandError

from core.calendar import business_date_today
from operations.nightly_close import business_days_advance


class Command(BaseCommand):
    help = "Run the nightly close N times, advancing the business date by N days."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=1)

    def handle(self, *args, days, **options):
        if days < 1:
            raise CommandError("--days must be at least 1.")
        start = business_date_today()
        business_days_advance(days=days)
        self.stdout.write(f"Business date advanced from {start} to {business_date_today()}.")
