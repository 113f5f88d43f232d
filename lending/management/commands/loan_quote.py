import json
from datetime import date

from django.core.management.base import BaseCommand, CommandError

from core.errors import DomainError
from core.money import to_decimal
from lending.models import RepaymentMethod
from lending.rules.schedule import quote_loan


class Command(BaseCommand):
    help = "Print the exact schedule and APR that origination would book for these terms."

    def add_arguments(self, parser):
        parser.add_argument("--principal", required=True)
        parser.add_argument("--term", type=int, required=True, help="months")
        parser.add_argument("--daily-rate", required=True)
        parser.add_argument("--method", required=True, choices=RepaymentMethod.values)
        parser.add_argument("--start", type=date.fromisoformat, required=True,
                            help="disbursement date, YYYY-MM-DD")
        parser.add_argument("--apr-cap", default=None, help="refuse an APR above this percent")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **options):
        try:
            apr_cap = options["apr_cap"] and to_decimal(options["apr_cap"], what="APR cap")
            quote = quote_loan(principal=options["principal"], term_months=options["term"],
                               daily_rate=options["daily_rate"], method=options["method"],
                               start=options["start"], apr_cap=apr_cap)
        except DomainError as exc:
            raise CommandError(str(exc)) from None
        if options["json"]:
            self.stdout.write(json.dumps(quote.as_dict(), indent=2))
            return
        self.stdout.write(f"APR {quote.apr}%   total interest {quote.total_interest}")
        self.stdout.write(f"{'#':>3} {'due':>10} {'days':>4} {'principal':>12} "
                          f"{'interest':>10} {'total':>12}")
        for i in quote.instalments:
            self.stdout.write(f"{i.seq:>3} {i.due_date} {i.days:>4} {i.principal:>12} "
                              f"{i.interest:>10} {i.total:>12}")
