"""Demo data for `make run`, made through the real services and aged by the nightly close.

First a simulated population lives a year on the platform (`simulate_population`), so that an
A-card and a B-card can be trained on that history and promoted; then the demo customers apply
and are decided by the A-card champion through the real decision service, accept, borrow and
repay, aged by the nightly close, which rescores their lines with the B-card every night. The
staff work those days too (`operations.demo_back_office`): collections, hardship requests, a
waiver and a limit cut waiting for a second officer."""

import io
import random
from datetime import timedelta
from decimal import Decimal

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from accounts import services as account_services
from accounts.identity import id_number_make
from accounts.models import CustomerProfile, Housing, User
from accounts.roles import (
    AUDITOR,
    COLLECTIONS_MANAGER,
    COLLECTOR,
    RISK_MANAGER,
    RISK_OFFICER,
    SENIOR_OFFICER,
)
from core.audit import actor_system
from core.calendar import business_date_reset, business_date_today
from core.idempotency import scope_of_user
from lending import services
from lending.models import Loan, LoanStatus, ProductKind, RepaymentMethod
from lending.rules.schedule import add_months_anchored
from lending.selectors import amount_due_on
from operations.demo_back_office import BackOffice
from operations.demo_merchant import demo_merchant_seed
from operations.demo_pay_later import PayLaterDemo
from operations.nightly_close import business_day_close
from risk.models import DecisionOutcome
from risk.services.decisions import credit_decide, credit_offer_accept

CUSTOMER_PASSWORD = "demo-pass-2026"
SEEDING = actor_system("seed_demo")
# One login per staff role (README, "Demo logins"); two collectors, so that the close's round
# robin shares the cases out. All exist before the aging nights, whose closes assign the cases.
STAFF = [  # username, role, password
    ("admin", None, "admin-pass-2026"),
    ("officer", RISK_OFFICER, "officer-pass-2026"),
    ("senior", SENIOR_OFFICER, "senior-pass-2026"),
    ("collector", COLLECTOR, "collector-pass-2026"),
    ("collector2", COLLECTOR, "collector-pass-2026"),
    ("collections", COLLECTIONS_MANAGER, "collections-pass-2026"),
    ("riskmanager", RISK_MANAGER, "manager-pass-2026"),
    ("auditor", AUDITOR, "auditor-pass-2026"),
]
DAYS_OF_HISTORY = 150
SIMULATED_MONTHS = 12
SIMULATION_SEED = 2026
CITIES = ["Hangzhou", "Shanghai", "Chengdu", "Wuhan", "Xi'an", "Shenzhen", "Nanjing", "Suzhou"]
# How each demo customer behaves: pays on time, pays off early, stops paying, or never borrows.
HABITS = ["on_time"] * 10 + ["pays_off"] * 5 + ["stops_paying"] * 5 + ["no_loan"] * 3


class Command(BaseCommand):
    help = ("Seed a simulated population and its champion A-card, then demo products, banks, "
            "staff and customers decided by it, with aged loans (skips if present).")

    def add_arguments(self, parser):
        parser.add_argument("--population", type=int, default=1200,
                            help="simulated customers the demo's A-card is trained on")

    def handle(self, *args, population, **options):
        if User.objects.filter(username="demo").exists():
            self.stdout.write("Demo data already present; nothing to do.")
        else:
            self.seed(population)
        self.print_logins()

    def seed(self, population):
        rng = random.Random(2026)
        history_starts = timezone.localdate() - timedelta(days=DAYS_OF_HISTORY)
        business_date_reset(day=add_months_anchored(history_starts, -SIMULATED_MONTHS))
        self.train_champion(population)
        product = services.credit_product_create(
            code="cash", name="Cash loan (借呗)", kind=ProductKind.CASH_LOAN,
            min_daily_rate="0.00020", max_daily_rate="0.00060", penalty_daily_rate="0.00050",
            allowed_terms=[3, 6, 12], repayment_methods=RepaymentMethod.values, grace_days=3,
            min_amount="500", max_amount="200000", apr_cap="24", max_partner_share="0.70",
            actor=SEEDING)
        services.partner_bank_create(code="hzbank", name="Hangzhou Demo Bank",
                                     funding_share="0.70", actor=SEEDING)
        services.partner_bank_create(code="jnbank", name="Jiangnan Demo Rural Bank",
                                     funding_share="0.50", actor=SEEDING)
        demo_merchant_seed()
        staff = {username: account_services.staff_user_create(
                     username=username, password=password, role=role, superuser=role is None)
                 for username, role, password in STAFF}

        plans = []
        for n, habit in enumerate(HABITS):
            user = self.customer(n, rng)
            decision = credit_decide(customer=user, product=product)
            if decision.outcome == DecisionOutcome.DECLINED:
                continue  # a declined applicant: their page shows the reasons
            line = credit_offer_accept(decision_id=decision.pk, customer=user)
            if habit != "no_loan":
                plans.append({"line": line, "habit": habit, "user": user,
                              "borrow_on_day": 0 if n == 0 else rng.randrange(5, 110),
                              "payoff_after": rng.randrange(20, 40)})
        if not any(plan["user"].username == "demo" for plan in plans):
            raise CommandError("The demo champion declined the customer `demo`.")
        self.age(plans, rng, BackOffice(staff=staff, plans=plans))

    def train_champion(self, population):
        """A year of a simulated population's borrowing, then an A-card trained on it and
        promoted: the champion every demo application is decided by."""
        self.stdout.write(f"Simulating {population:,} customers over {SIMULATED_MONTHS} months "
                          "and training the A-card on their history ...")
        call_command("simulate_population", customers=population, months=SIMULATED_MONTHS,
                     seed=SIMULATION_SEED, stdout=io.StringIO())
        report = io.StringIO()
        call_command("train_model", card="application", promote=True, threads=1,
                     reason="Demo champion, trained on the simulated history", stdout=report)
        # The B-card, trained on the same history and promoted before the demo is aged: the
        # aging nights rescore every line, so the demo starts as a book rescored night after
        # night, where a limit or price moves when a customer's behaviour moves.
        call_command("train_model", card="behaviour", promote=True, threads=1,
                     reason="Demo B-card champion, trained on the simulated history",
                     stdout=report)
        self.stdout.write(report.getvalue())

    def customer(self, n, rng):
        username = "demo" if n == 0 else f"customer{n:02d}"
        user = account_services.customer_sign_up(username=username,
                                                 email=f"{username}@example.com",
                                                 password=CUSTOMER_PASSWORD)
        today = business_date_today()
        birth_date = today.replace(year=today.year - rng.randrange(22, 58))
        demo = n == 0
        account_services.customer_profile_save(
            user=user, full_name="Demo Customer" if demo else f"Customer {n:02d}",
            birth_date=birth_date,
            monthly_income=Decimal(25_000 if demo else rng.randrange(6_000, 40_001, 500)),
            employment_status="employed",
            employer_months=60 if demo else rng.randrange(3, 120),
            city=rng.choice(CITIES), housing=Housing.MORTGAGE if demo else rng.choice(
                Housing.values),
            monthly_debt_payments=Decimal(0 if demo else rng.randrange(0, 3_001, 100)),
            id_number=self.id_number_unused(birth_date, rng.randrange(1000)),
            consent_credit_check=True, consent_data_use=True)
        account_services.customer_signals_record(
            user=user, observed_on=today,
            shopping_orders_per_month=Decimal(rng.randrange(2, 30)),
            shopping_spend_per_month=Decimal(rng.randrange(300, 6_001, 100)),
            bills_on_time_share=Decimal("1.00") if demo else Decimal(rng.randrange(80, 101)) / 100,
            account_age_months=96 if demo else rng.randrange(6, 120),
            phone_number_months=84 if demo else rng.randrange(3, 120),
            devices_last_year=1 if demo else rng.randrange(1, 4))
        return user

    def id_number_unused(self, birth_date, sequence):
        """A number no customer holds yet, the simulated ones included (one identity number,
        one customer): the drawn sequence, else the next free one."""
        for step in range(1000):
            number = id_number_make(region="330106", birth_date=birth_date,
                                    sequence=(sequence + step) % 1000)
            if not CustomerProfile.objects.filter(id_number=number).exists():
                return number
        raise CommandError(f"No identity number of 330106 born {birth_date} is free.")

    def age(self, plans, rng, back_office):
        """Live DAYS_OF_HISTORY business days: draw, repay as each habit says, let the staff
        work (collections, hardship requests, a waiver), let the pay-later customers shop and
        pay, close each night; then the requests left waiting for the staff."""
        first_day = business_date_today()
        pay_later = PayLaterDemo(first_day=first_day,
                                 end=first_day + timedelta(days=DAYS_OF_HISTORY))
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
                        scope=scope_of_user(plan["user"].pk))
                loan = plan.get("loan")
                if loan is None or day <= plan["borrow_on_day"]:
                    continue
                loan.refresh_from_db()
                if loan.status != LoanStatus.ACTIVE:
                    continue
                self.follow_habit(plan, loan, day, today)
            back_office.work_day(day, today)
            pay_later.work_day(today)
            business_day_close()
        back_office.finish()

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
                                scope=scope_of_user(plan["user"].pk))

    def print_logins(self):
        # The demo customers' loans; the simulated population's are on its own product.
        loans = Loan.objects.filter(line__product__code="cash")
        self.stdout.write(self.style.SUCCESS(
            f"\nBusiness date {business_date_today()}; {loans.count()} demo loans, "
            f"{loans.filter(days_past_due__gt=0).count()} overdue.\n"
            "  Customer pages  http://127.0.0.1:8000/          "
            f"demo / {CUSTOMER_PASSWORD} (or customer01..customer22); or sign up at /signup/, "
            "fill in the profile and apply at /apply/\n"
            "  Back office     http://127.0.0.1:8000/admin/    "
            + ", ".join(f"{u} / {p}" for u, _, p in STAFF) + "\n"
            "  Partner API     http://127.0.0.1:8000/api/v1/loans/  "
            "(schema at /api/schema/; see docs/partner-api.md for credentials)\n"))
