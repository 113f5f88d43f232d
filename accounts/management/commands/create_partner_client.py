from django.core.management.base import BaseCommand, CommandError

from accounts.models import PartnerBank
from accounts.services import partner_client_create


class Command(BaseCommand):
    help = ("Create OAuth2 client credentials for a partner bank's API client and print them. "
            "The secret is shown only this once.")

    def add_arguments(self, parser):
        parser.add_argument("--bank", required=True, help="the partner bank's code")
        parser.add_argument("--name", help="a label for the client (default: '<bank> API client')")

    def handle(self, *args, bank, name, **options):
        try:
            partner_bank = PartnerBank.objects.get(code=bank)
        except PartnerBank.DoesNotExist:
            known = ", ".join(PartnerBank.objects.order_by("code").values_list("code", flat=True))
            raise CommandError(f"No partner bank has the code {bank!r}. "
                               f"Known codes: {known or 'none'}.") from None
        try:
            credentials = partner_client_create(partner_bank=partner_bank,
                                                name=name or f"{partner_bank.name} API client")
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"client_id:     {credentials.client_id}")
        self.stdout.write(f"client_secret: {credentials.client_secret}")
        self.stdout.write("The secret is stored only as a hash and cannot be shown again: pass it "
                          "to the bank over a secure channel now.")
        if not partner_bank.is_active:
            self.stderr.write(f"Note: {partner_bank.code} is inactive; the API refuses its "
                              "tokens until the bank is active again.")
