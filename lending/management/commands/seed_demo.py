"""Demo data for `make run`, made through the real services and aged by the nightly close."""

import random
from datetime import timedelta
from decimal import Decimal

from django.core.management.base import BaseCommand
from django.utils import timezone

from accounts import services as account_services
from accounts.identity import id_number_make
from accounts.models import Housing, User
from accounts.roles import COLLECTOR, RISK_MANAGER, RISK_OFFICER
from lending import services
from lending.models import Loan, LoanStatus, ProductKind, RepaymentMethod
from lending.selectors import amount_due_on, business_date_today

CUSTOMER_PASSWORD = "demo-pass-2026"
STAFF = [  # username, role, password
    ("admin", None, "admin-pass-2026"),
    ("officer", RISK_OFFICER, "officer-pass-2026"),
    ("collector", COLLECTOR, "collector-pass-2026"),
    ("riskmanager", RISK_MANAGER, "manager-pass-2026"),
]
DAYS_OF_HISTORY = 150
CITIES = ["Hangzhou", "Shanghai", "Chengdu", "Wuhan", "Xi'an", "Shenzhen", "Nanjing", "Suzhou"]
# How each demo customer behaves: pays on time, pays off early, stops paying, or never borrows.
HABITS = ["on_time"] * 10 + ["pays_off"] * 5 + ["stops_paying"] * 5 + ["no_loan"] * 3


class Command(BaseCommand):
    help = "Seed demo products, banks, staff and customers with aged loans (skips if present)."

    def handle(self, *args, **options):
        if User.objects.filter(username="demo").exists():
            self.stdout.write("Demo data already present; nothing to do.")
        else:
            self.seed()
        self.print_logins()

    def seed(self):
        rng = random.Random(2026)
        services.business_date_reset(day=timezone.localdate() - timedelta(days=DAYS_OF_HISTORY))
        product = services.credit_product_create(
            code="cash", name="Cash loan (借呗)", kind=ProductKind.CASH_LOAN,
            min_daily_rate="0.00020", max_daily_rate="0.00060", penalty_daily_rate="0.00050",
            allowed_terms=[3, 6, 12], repayment_methods=RepaymentMethod.values, grace_days=3,
            min_amount="500", max_amount="200000", apr_cap="24", max_partner_share="0.70")
        services.partner_bank_create(code="hzbank", name="Hangzhou Demo Bank",
                                     funding_share="0.70")
        services.partner_bank_create(code="jnbank", name="Jiangnan Demo Rural Bank",
                                     funding_share="0.50")
        for username, role, password in STAFF:
            account_services.staff_user_create(username=username, password=password, role=role,
                                               superuser=role is None)

        plans = []
        for n, habit in enumerate(HABITS):
            user = self.customer(n, rng)
            line = services.credit_line_open(
                customer=user, product=product,
                credit_limit=Decimal(rng.randrange(10_000, 60_001, 1000)),
                daily_rate=Decimal(rng.randrange(25, 56)) / 100_000)
            if habit != "no_loan":
                plans.append({"line": line, "habit": habit, "user": user,
                              "borrow_on_day": 0 if n == 0 else rng.randrange(5, 110),
                              "payoff_after": rng.randrange(20, 40)})
        self.age(plans, rng)

    def customer(self, n, rng):
        username = "demo" if n == 0 else f"customer{n:02d}"
        user = account_services.customer_sign_up(username=username,
                                                 email=f"{username}@example.com",
                                                 password=CUSTOMER_PASSWORD)
        today = business_date_today()
        birth_date = today.replace(year=today.year - rng.randrange(22, 58))
        account_services.customer_profile_save(
            user=user, full_name="Demo Customer" if n == 0 else f"Customer {n:02d}",
            birth_date=birth_date,
            monthly_income=Decimal(rng.randrange(6_000, 40_001, 500)),
            employment_status="employed", employer_months=rng.randrange(3, 120),
            city=rng.choice(CITIES), housing=rng.choice(Housing.values),
            monthly_debt_payments=Decimal(rng.randrange(0, 3_001, 100)),
            id_number=id_number_make(region="330106", birth_date=birth_date,
                                     sequence=rng.randrange(1000)),
            consent_credit_check=True, consent_data_use=True)
        return user

    def age(self, plans, rng):
        """Live DAYS_OF_HISTORY business days: draw, repay as each habit says, close each night."""
        for day in range(DAYS_OF_HISTORY):
            today = business_date_today()
            for plan in plans:
                if day == plan["borrow_on_day"]:
                    plan["loan"] = services.loan_originate(
                        line_id=plan["line"].pk,
                        principal=Decimal(rng.randrange(2_000, 9_001, 500)),
                        term_months=rng.choice([3, 6, 12]),
                        method=rng.choice(RepaymentMethod.values),
                        idempotency_key=f"seed-loan-{plan['line'].pk}",
                        scope=f"user:{plan['user'].pk}")
                loan = plan.get("loan")
                if loan is None or day <= plan["borrow_on_day"]:
                    continue
                loan.refresh_from_db()
                if loan.status != LoanStatus.ACTIVE:
                    continue
                self.follow_habit(plan, loan, day, today)
            services.business_day_close()

    def follow_habit(self, plan, loan, day, today):
        if plan["habit"] == "pays_off" and day - plan["borrow_on_day"] == plan["payoff_after"]:
            amount = services.loan_payoff_amount(loan)
        elif plan["habit"] == "stops_paying" and loan.repayments.exists():
            return  # paid one instalment, then nothing: overdue by now
        else:
            amount = amount_due_on(loan, today)
        if amount > 0:
            services.loan_repay(loan_id=loan.pk, amount=amount,
                                idempotency_key=f"seed-pay-{loan.pk}-{today}",
                                scope=f"user:{plan['user'].pk}")

    def print_logins(self):
        loans = Loan.objects.count()
        overdue = Loan.objects.filter(days_past_due__gt=0).count()
        self.stdout.write(self.style.SUCCESS(
            f"\nBusiness date {business_date_today()}; {loans} loans, {overdue} overdue.\n"
            "  Customer pages  http://127.0.0.1:8000/          "
            f"demo / {CUSTOMER_PASSWORD} (or customer01..customer22)\n"
            "  Back office     http://127.0.0.1:8000/admin/    "
            + ", ".join(f"{u} / {p}" for u, _, p in STAFF) + "\n"
            "  Partner API     http://127.0.0.1:8000/api/v1/loans/  "
            "(schema at /api/schema/; see docs/partner-api.md for credentials)\n"))
