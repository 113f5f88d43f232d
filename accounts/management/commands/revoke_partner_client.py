from django.core.management.base import BaseCommand, CommandError

from accounts.services.partner_clients import partner_client_revoke
from core.audit import actor_system
from core.errors import DomainError


class Command(BaseCommand):
    help = ("Revoke a partner bank's API client at once and for good: every access token it "
            "holds stops working and it gets no new one. The reason is kept on the audit trail.")

    def add_arguments(self, parser):
        parser.add_argument("--client-id", required=True, help="the client's OAuth2 client id")
        parser.add_argument("--reason", required=True, help="why, for the audit trail")

    def handle(self, *args, client_id, reason, **options):
        try:
            revocation = partner_client_revoke(client_id=client_id, reason=reason,
                                               actor=actor_system("revoke_partner_client"))
        except DomainError as exc:
            raise CommandError(str(exc)) from None
        bank = revocation.api_client.partner_bank
        self.stdout.write(f"Revoked the API client {revocation.client_id} of {bank.code}: "
                          f"{revocation.access_tokens_revoked} access token(s) stopped working, "
                          "and it gets no new one.")
