from django.core.management.base import BaseCommand, CommandError

from core.audit import audit_chain_verify
from core.models import AuditChainHead, AuditEvent


def subject_of(text) -> dict:
    """`kind:id` as filters; the id may itself contain colons."""
    kind, colon, subject_id = text.partition(":")
    if not (kind and colon and subject_id):
        raise CommandError(f"--subject must be kind:id, such as loan:42, not {text!r}.")
    return {"subject_kind": kind, "subject_id": subject_id}


class Command(BaseCommand):
    help = ("Recompute the audit chains (docs/architecture.md, \"The audit trail\"); exit 1 "
            "naming the first broken link.")

    def add_arguments(self, parser):
        parser.add_argument("--subject", metavar="KIND:ID", help="verify one subject's chain")

    def handle(self, *args, **options):
        subject = subject_of(options["subject"]) if options["subject"] else {}
        broken = audit_chain_verify(**subject)
        if broken is not None:
            raise CommandError(f"Broken audit chain at {broken}")
        events = AuditEvent.objects.filter(**subject).count()
        chains = AuditChainHead.objects.filter(**subject).count()
        self.stdout.write(f"{events} events in {chains} chains verified")
