"""The back office's part of the demo (`seed_demo`): staff at work while the demo is aged.

Every business day, before the night's close, the collectors work the cases the close assigned
to them (a reminder one week, a call and a promise to pay the next; the customer keeps every
other promise, paying part of what is overdue, and breaks the rest, which the close flags);
on fixed days customers ask for more time (one request turned down, one approved with a term
extension, one left waiting) and an officer waives part of a late payer's penalty. After the
last night an officer asks to cut a large limit, which waits for a senior officer.

Everything goes through the services the admin and the customer pages call, with the same
threshold checks as the admin (the waiver and the extension stay under the maker-checker
thresholds, the limit cut is above them), so the demo's records and audit chains are the
ones real staff would leave."""

from datetime import timedelta
from decimal import ROUND_DOWN, Decimal

from django.conf import settings

from core.approvals import approval_request
from core.audit import actor_user
from core.idempotency import scope_of_user
from debt_collection.models import (
    CaseStatus,
    CollectionCase,
    ContactChannel,
    ContactOutcome,
    HardshipKind,
    HardshipReason,
    PromiseStatus,
)
from debt_collection.services import collection_contact_log, promise_to_pay_make
from debt_collection.services.hardship import (
    hardship_request_approve,
    hardship_request_reject,
    hardship_request_submit,
)
from lending import services
from lending.approvals import (
    line_limit_lower_approval,
    loan_extend_approval,
    loan_penalty_waive_approval,
    unpaid_penalty,
)
from lending.models import LoanStatus
from lending.services.extension import loan_extension_quote
from lending.services.waiver import loan_penalty_waive

CONTACT_EVERY_DAYS = 7  # a collector's cadence on a case, counted from the day it opened
PROMISE_DAYS = 5  # how far ahead a customer promises to pay
# Business days of the aging (0-based) on which the hardship requests and the waiver happen.
# The demo customer's request is approved: their loan, drawn on day 0 for 3 months or more,
# still runs on day 40.
HARDSHIP_APPROVED = (40, 41)  # submitted, answered
HARDSHIP_REJECTED = (95, 97)
WAIVER_DAY = 140
EXTENSION_MONTHS = 3
WAIVER_AT_MOST = Decimal("300.00")


def _active(plan) -> bool:
    loan = plan.get("loan")
    if loan is None:
        return False
    loan.refresh_from_db()
    return loan.status == LoanStatus.ACTIVE and loan.outstanding_principal > 0


def _alone(needed):
    """The demo's waiver and extension are ones an officer books alone, as the admin would let
    them; thresholds lowered in settings would need a second officer, which the demo has not."""
    if needed is not None:
        raise ValueError(f"Needs a second officer under today's thresholds: {needed.summary}")


class BackOffice:
    """The demo's staff at work; `plans` are seed_demo's customers (user, habit, line, loan)."""

    def __init__(self, *, staff, plans):
        self.officer = staff["officer"]
        self.plans = plans
        self.customers = {plan["user"].pk: plan for plan in plans}
        self.promises = 0
        self.payments = []  # (business date, plan, amount): promises the customer will keep
        self.hardship = {}  # "rejected" / "approved" -> the request, between its two days
        self.asked = set()  # the customers who made a hardship request: one each

    def work_day(self, day, today):
        """What the staff and customers do on aging day `day` (business date `today`)."""
        self.keep_promises(today)
        self.work_cases(today)
        if day in HARDSHIP_REJECTED:
            self.hardship_rejected(day)
        if day in HARDSHIP_APPROVED:
            self.hardship_approved(day)
        if day == WAIVER_DAY:
            self.waive_penalty()

    def finish(self):
        """After the last night: a request left waiting, and a limit cut for a second officer."""
        self.hardship_waiting()
        self.limit_cut_requested()

    # Collections -----------------------------------------------------------------------------

    def work_cases(self, today):
        """Each open case, once a week from its opening: a text reminder on odd weeks, a call
        that ends in a promise to pay on even weeks (unless one is still pending)."""
        # The demo customers' cases only: the simulated population's written-off loans have
        # cases too, which the close assigns, but nobody in the demo calls them.
        cases = (CollectionCase.objects.filter(status=CaseStatus.OPEN, assigned_to__isnull=False,
                                               customer_id__in=list(self.customers))
                 .select_related("assigned_to").order_by("pk"))
        for case in cases:
            age = (today - case.opened_on).days
            if age == 0 or age % CONTACT_EVERY_DAYS:
                continue
            if case.promises.filter(status=PromiseStatus.PENDING).exists():
                continue
            collector = case.assigned_to
            if (age // CONTACT_EVERY_DAYS) % 2:
                collection_contact_log(
                    case_id=case.pk, collector=collector, channel=ContactChannel.SMS,
                    outcome=ContactOutcome.NO_ANSWER,
                    note="Reminder of the overdue instalment sent; no reply.")
                continue
            amount = (case.amount_overdue / 2).quantize(Decimal("1"), rounding=ROUND_DOWN)
            if amount <= 0:
                amount = case.amount_overdue
            if amount <= 0:
                continue
            collection_contact_log(
                case_id=case.pk, collector=collector, channel=ContactChannel.PHONE,
                outcome=ContactOutcome.PROMISED,
                note=(f"Reached the customer; will pay {amount:.2f} {settings.CURRENCY} "
                      f"within {PROMISE_DAYS} days."))
            promise = promise_to_pay_make(case_id=case.pk, collector=collector, amount=amount,
                                          promised_for=today + timedelta(days=PROMISE_DAYS))
            if self.promises % 2 == 0:
                self.payments.append((promise.promised_for - timedelta(days=1),
                                      self.customers[case.customer_id], amount))
            self.promises += 1

    def keep_promises(self, today):
        """The customers who keep their promise pay the amount the day before its date."""
        for _day, plan, amount in [p for p in self.payments if p[0] == today]:
            if _active(plan):
                services.loan_repay(loan_id=plan["loan"].pk, amount=amount,
                                    idempotency_key=f"seed-promise-{plan['loan'].pk}-{today}",
                                    scope=scope_of_user(plan["user"].pk))
        self.payments = [p for p in self.payments if p[0] != today]

    def waive_penalty(self):
        """An officer waives part of the largest unpaid penalty: the customer was in hospital."""
        owing = [(unpaid_penalty(plan["loan"]), plan) for plan in self.plans if _active(plan)]
        owing = [(amount, plan) for amount, plan in owing if amount > 0]
        if not owing:
            return
        unpaid, plan = max(owing, key=lambda pair: pair[0])
        amount = min(unpaid, WAIVER_AT_MOST)
        reason = ("Customer was in hospital for two weeks (discharge letter seen): the penalty "
                  "of that time is waived.")
        _alone(loan_penalty_waive_approval(plan["loan"], {"amount": amount, "reason": reason}))
        loan_penalty_waive(loan_id=plan["loan"].pk, amount=amount, reason=reason,
                           actor=actor_user(self.officer), officer=self.officer)

    # Hardship requests -----------------------------------------------------------------------

    def _asking(self, habits, exclude=()):
        """The first customer of one of `habits` with an active loan who has not asked yet,
        the demo customer first; from now on they have asked."""
        for plan in sorted(self.plans, key=lambda p: p["user"].username != "demo"):
            if plan["habit"] in habits and plan["user"].pk not in exclude and _active(plan):
                self.asked.add(plan["user"].pk)
                return plan
        return None

    def hardship_rejected(self, day):
        if day == HARDSHIP_REJECTED[0]:
            plan = self._asking({"on_time"}, exclude=self.asked)
            if plan:
                self.hardship["rejected"] = hardship_request_submit(
                    customer=plan["user"], loan_id=plan["loan"].pk, kind=HardshipKind.PAUSE,
                    months_asked=2, reason=HardshipReason.FAMILY,
                    situation="My mother is moving in with us and I would like two months "
                              "without instalments to set up her room.")
        elif "rejected" in self.hardship:
            hardship_request_reject(
                request_id=self.hardship.pop("rejected").pk, officer=self.officer,
                decision_reason="Your payments are up to date and your income covers the "
                                "instalments; a pause would only add interest.")

    def hardship_approved(self, day):
        if day == HARDSHIP_APPROVED[0]:
            plan = self._asking({"on_time"}, exclude=self.asked)
            if plan:
                self.hardship["approved"] = hardship_request_submit(
                    customer=plan["user"], loan_id=plan["loan"].pk,
                    kind=HardshipKind.EXTENSION, months_asked=EXTENSION_MONTHS,
                    reason=HardshipReason.INCOME_FELL,
                    situation="My employer cut my hours by a third from this month; I can "
                              "pay, but smaller instalments over a longer time.")
        elif "approved" in self.hardship:
            request = self.hardship.pop("approved")
            quote = loan_extension_quote(loan=request.loan, extra_months=EXTENSION_MONTHS)
            reason = "Hours cut confirmed by the payslips sent; three more months."
            _alone(loan_extend_approval(request.loan, {"extra_months": EXTENSION_MONTHS,
                                                       "reason": reason}))
            hardship_request_approve(request_id=request.pk, officer=self.officer,
                                     extra_months=EXTENSION_MONTHS, decision_reason=reason,
                                     shown=quote.fingerprint)

    def hardship_waiting(self):
        plan = (self._asking({"stops_paying"}, exclude=self.asked)
                or self._asking({"on_time"}, exclude=self.asked))
        if plan:
            hardship_request_submit(
                customer=plan["user"], loan_id=plan["loan"].pk, kind=HardshipKind.EXTENSION,
                months_asked=6, reason=HardshipReason.UNEMPLOYMENT,
                situation="I lost my job two months ago and fell behind. I start a new one "
                          "next month and can pay again with smaller instalments.")

    # Maker-checker ---------------------------------------------------------------------------

    def limit_cut_requested(self):
        """The officer cuts the largest limit of a customer who stopped paying to a fifth: above
        the maker-checker thresholds, so it waits for a senior officer's approval."""
        lines = [plan["line"] for plan in self.plans if plan["habit"] == "stops_paying"]
        if not lines:
            return
        for line in lines:
            line.refresh_from_db()
        line = max(lines, key=lambda line: line.credit_limit)
        new_limit = (line.credit_limit / 5 // 100) * 100
        reason = ("Stopped paying months ago and broke promises to pay: cut the limit to what "
                  "the customer can carry.")
        needed = line_limit_lower_approval(line, {"new_limit": new_limit, "reason": reason})
        if needed is None:
            return
        approval_request(kind=needed.kind, subject_kind=needed.subject_kind,
                         subject_id=needed.subject_id, payload=needed.payload,
                         summary=needed.summary, reason=reason, maker=self.officer)
