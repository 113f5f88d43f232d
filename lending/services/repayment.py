"""Repayments: allocate a payment over the schedule, share it with the funders, post the ledger."""

from dataclasses import dataclass, fields
from decimal import Decimal

from django.db import transaction

from core.audit import audit_event_append
from core.calendar import business_date_today
from core.idempotency import actor_of_scope, idempotency_key_claim, idempotency_result_store
from core.money import round_money, to_money

from ..errors import LendingError, LoanNotRepayable
from ..models import (
    CreditLine,
    Instalment,
    InstalmentStatus,
    Loan,
    LoanFunding,
    LoanStatus,
    Repayment,
)
from ..models.loans import Recovery
from ..rules.allocation import InstalmentState, allocate_payment, payoff_amount
from ..rules.delinquency import days_past_due, oldest_overdue_due_date
from ..rules.status import INSTALMENT_TRANSITIONS, LOAN_TRANSITIONS, transition_check
from ..selectors import income_repaid_by_loan
from . import ledger
from .penalty import penalty_receivable_by_loan
from .write_off import loan_recovery_book

STATE_FIELDS = [f.name for f in fields(InstalmentState)]
ZERO = Decimal("0.00")


def instalment_state(instalment) -> InstalmentState:
    """The pure rules' view of an instalment (a model or any row with the same fields)."""
    return InstalmentState(**{name: getattr(instalment, name) for name in STATE_FIELDS})


def loan_payoff_amount(loan, today=None):
    """What settles the loan on the business date: due amounts, interest to date, principal."""
    states = [instalment_state(i) for i in loan.instalments.exclude(
        status=InstalmentStatus.SUPERSEDED).order_by("seq")]
    return payoff_amount(states, today or business_date_today(), loan.daily_rate)


def funder_principal_parts(fundings, loan, principal_paid):
    """Each funder's part of the principal repaid, keeping its outstanding proportional.

    Partner banks' outstanding is re-derived from the loan's (rounded half-up); the platform
    takes the rest, so the parts sum exactly to what was paid and all reach zero together."""
    outstanding_after = loan.outstanding_principal - principal_paid
    parts = {}
    for funding in fundings:
        if funding.partner_bank_id is not None:
            after = round_money(funding.principal * outstanding_after / loan.principal)
            parts[funding.pk] = funding.outstanding_principal - after
    platform = [f for f in fundings if f.partner_bank_id is None]
    if platform:
        parts[platform[0].pk] = principal_paid - sum(parts.values())
    return parts


@dataclass(frozen=True)
class Income:
    """Interest, fees and penalty: what a loan's repayments took besides principal."""

    interest: Decimal = ZERO
    fee: Decimal = ZERO
    penalty: Decimal = ZERO

    PARTS = ("interest", "fee", "penalty")

    @property
    def total(self):
        return self.interest + self.fee + self.penalty

    def plus(self, other) -> "Income":
        """`other`: another Income or an Allocation (both have the three parts)."""
        return Income(*(getattr(self, part) + getattr(other, part) for part in self.PARTS))


def income_repaid_before(loan_ids) -> dict[int, Income]:
    """What each loan's repayments so far took in interest, fees and penalty. Read under the
    loan's lock (every repayment takes it), so no other payment can come in between."""
    return {loan_id: Income(**sums) for loan_id, sums in income_repaid_by_loan(loan_ids).items()}


def funder_income_parts(fundings, before: Income, allocation) -> dict[int, Income]:
    """Each partner bank's part of the interest, fees and penalty of this payment.

    Rounded cumulatively, never payment by payment: a bank's share to date of each is
    round_half_up(paid to date x share), and this payment passes on the difference from what
    the payments before it passed on. Rounded one by one, five payments of 0.01 interest on a
    loan 70 % funded by the bank would give it 0.01 each, all of the 0.05; cumulatively it gets
    0.01, 0, 0.01, 0.01, 0.01 = 0.04 = round(0.035), and the platform keeps the rest. The
    platform's own part is what is left, so nothing is created or lost."""
    after = before.plus(allocation)
    return {
        funding.pk: Income(*(round_money(getattr(after, part) * funding.share)
                             - round_money(getattr(before, part) * funding.share)
                             for part in Income.PARTS))
        for funding in fundings if funding.partner_bank_id is not None
    }


def repayment_legs(allocation, fundings, principal_parts, income_parts,
                   penalty_receivable=ZERO):
    """The ledger legs of a repayment. `principal_parts` from `funder_principal_parts`,
    `income_parts` (each bank's interest, fees and penalty) from `funder_income_parts`,
    `penalty_receivable` the loan's penalty accrued by the close and not yet paid
    (`penalty_receivable_by_loan`): penalty paid clears it first, like accrued interest, and
    only penalty never accrued goes straight to income."""
    penalty_accrued = min(allocation.penalty, max(penalty_receivable, ZERO))
    legs = [(ledger.CASH, allocation.total),
            (ledger.INTEREST_RECEIVABLE, -allocation.interest_accrued),
            (ledger.INTEREST_INCOME, -(allocation.interest - allocation.interest_accrued)),
            (ledger.FEE_INCOME, -allocation.fee),
            (ledger.PENALTY_RECEIVABLE, -penalty_accrued),
            (ledger.PENALTY_INCOME, -(allocation.penalty - penalty_accrued))]
    for funding in fundings:
        part = principal_parts[funding.pk]
        if funding.partner_bank is None:
            legs.append((ledger.principal_receivable(ledger.PLATFORM), -part))
            continue
        code = funding.partner_bank.code
        # The bank's principal and its shares of interest, fees and penalty are passed on to it.
        income = income_parts[funding.pk]
        legs += [(ledger.principal_receivable(code), -part),
                 (ledger.partner_funding(code), part),
                 (ledger.INTEREST_INCOME, income.interest),
                 (ledger.FEE_INCOME, income.fee),
                 (ledger.PENALTY_INCOME, income.penalty),
                 (ledger.partner_payable(code), -(part + income.total))]
    return legs


def loan_repay(*, loan_id, amount, idempotency_key, scope) -> Repayment | Recovery:
    """Take a payment on a loan: oldest due first, the rest pays future principal early. On a
    written-off loan the payment is a `Recovery` (`write_off.loan_recovery_book`).

    One durable transaction; the same key replays the first repayment."""
    amount = to_money(amount, what="amount")
    payload = {"loan": loan_id, "amount": str(amount)}
    with transaction.atomic(durable=True):
        record, replay = idempotency_key_claim(scope=scope, key=idempotency_key, payload=payload)
        if replay is not None:
            if "recovery_id" in replay:
                return Recovery.objects.get(pk=replay["recovery_id"])
            return Repayment.objects.get(pk=replay["repayment_id"])
        line_id = Loan.objects.filter(pk=loan_id).values_list("line_id", flat=True).first()
        if line_id is None:
            raise LendingError("No such loan.", code="not_found")
        # Fixed lock order everywhere: line, loan, instalments, fundings.
        line = CreditLine.objects.select_for_update(of=("self",)).get(pk=line_id)
        loan = Loan.objects.select_for_update(of=("self",)).get(pk=loan_id)
        if loan.status == LoanStatus.WRITTEN_OFF:
            # Money received after a write-off is a recovery, shared as the losses were.
            recovery = loan_recovery_book(loan=loan, amount=amount, day=business_date_today(),
                                          actor=actor_of_scope(scope))
            idempotency_result_store(record, {"recovery_id": recovery.pk})
            return recovery
        if loan.status != LoanStatus.ACTIVE:
            raise LoanNotRepayable("This loan is already settled.")
        # The live schedule: rows a term extension superseded owe nothing and are history.
        instalments = list(Instalment.objects.select_for_update().filter(loan=loan)
                           .exclude(status=InstalmentStatus.SUPERSEDED).order_by("seq"))
        fundings = list(LoanFunding.objects.select_for_update(of=("self",))
                        .select_related("partner_bank").filter(loan=loan).order_by("pk"))
        today = business_date_today()
        # Before this payment's own row exists: what the payments before it took.
        income_before = income_repaid_before([loan.pk]).get(loan.pk, Income())

        allocation = allocate_payment([instalment_state(i) for i in instalments], amount, today,
                                      loan.daily_rate)
        _apply_to_instalments(instalments, allocation, today)

        principal_parts = funder_principal_parts(fundings, loan, allocation.principal)
        for funding in fundings:
            funding.outstanding_principal -= principal_parts[funding.pk]
        LoanFunding.objects.bulk_update(fundings, ["outstanding_principal"])

        loan.outstanding_principal -= allocation.principal
        loan.overdue_since = oldest_overdue_due_date(instalments)
        loan.days_past_due = days_past_due(loan.overdue_since, today)
        update = ["outstanding_principal", "days_past_due", "overdue_since"]
        if all(i.status == InstalmentStatus.PAID for i in instalments):
            transition_check(LOAN_TRANSITIONS, loan.status, LoanStatus.PAID_OFF, what="loan")
            loan.status, loan.paid_off_on = LoanStatus.PAID_OFF, today
            update += ["status", "paid_off_on"]
        loan.save(update_fields=update)
        line.outstanding_principal -= allocation.principal
        line.save(update_fields=["outstanding_principal", "updated_at"])

        repayment = Repayment.objects.create(
            loan=loan, amount=amount, principal=allocation.principal,
            interest=allocation.interest, fee=allocation.fee, penalty=allocation.penalty,
            paid_on=today,
        )
        ledger.journal_entry_post(
            kind="repayment", business_date=today, loan=loan,
            legs=repayment_legs(allocation, fundings, principal_parts,
                                funder_income_parts(fundings, income_before, allocation),
                                penalty_receivable_by_loan([loan.pk]).get(loan.pk, ZERO)),
            memo=f"Repayment {repayment.pk} on loan {loan.pk}",
        )
        audit_event_append(actor=actor_of_scope(scope), action="loan.repay",
                           subject_kind="loan", subject_id=loan.pk,
                           payload=repayment_audit_payload(repayment, loan))
        idempotency_result_store(record, {"repayment_id": repayment.pk})
    return repayment


def repayment_audit_payload(repayment, loan) -> dict:
    return {"repayment": repayment.pk, "paid_on": repayment.paid_on, "amount": repayment.amount,
            "principal": repayment.principal, "interest": repayment.interest,
            "fee": repayment.fee, "penalty": repayment.penalty,
            "outstanding_principal": loan.outstanding_principal, "status": loan.status}


def instalments_apply(instalments, allocation, today) -> list:
    """Set the allocation's new state on the loaded instalments, unsaved; returns those that
    changed (the repayment saves them, the simulator's bulk book saves many loans' at once)."""
    changed = []
    for instalment, state in zip(instalments, allocation.instalments, strict=True):
        if state.seq not in allocation.changed:
            continue
        for name in STATE_FIELDS:
            setattr(instalment, name, getattr(state, name))
        if state.remaining == 0:
            transition_check(INSTALMENT_TRANSITIONS, instalment.status, InstalmentStatus.PAID,
                             what="instalment")
            instalment.status, instalment.paid_on = InstalmentStatus.PAID, today
        elif instalment.status == InstalmentStatus.PAID:
            # Re-priced interest of a period not yet over can make a settled one owe again.
            instalment.status, instalment.paid_on = InstalmentStatus.PENDING, None
        changed.append(instalment)
    return changed


def _apply_to_instalments(instalments, allocation, today):
    changed = instalments_apply(instalments, allocation, today)
    Instalment.objects.bulk_update(changed, STATE_FIELDS[1:] + ["status", "paid_on"])
