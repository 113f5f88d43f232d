"""Write-off (核销) of loans past the product's write-off days, and recoveries (回收) on them.

Write-off. The nightly close (debt_collection/close/write_off.py, step `write_off`, after days
past due are set) writes off every active loan whose days past due have reached its product's
`write_off_days` (180 by default); an officer can write one off sooner (`loan_write_off`). Both
share `_write_off`, which books, per loan, one balanced journal entry of kind "write_off":

* each funder's outstanding principal leaves the books. A partner bank bears the loss of what it
  funded: Dr partner_funding:<bank>, Cr principal_receivable:<bank> (the platform no longer owes
  the bank the stake it put in). The platform bears the rest: Dr credit_loss (an expense),
  Cr principal_receivable:platform.
* interest and penalty receivable still on the loan's books are reversed: Dr interest_income,
  Cr interest_receivable; Dr penalty_income, Cr penalty_receivable. Both were booked to income
  whole when they fell due (a bank is passed its share only of what is collected), so the whole
  is reversed, and the receivables of the loan are zero afterwards.

It records a `WriteOff` (the principal, the reversed interest and penalty, the days past due, why
and who) and a `WriteOffShare` per funder (the principal it lost), moves the loan to
`written_off` with `written_off_on` = the business date, and appends an audit event per loan.

What does not change, on purpose: the loan's and its fundings' `outstanding_principal`, and the
line's. A write-off is an accounting event, not a release: the borrower still owes every cent
(the contract stands, collections go on, and money received later is a recovery), so the loan
page keeps showing the principal owed, each funding keeps its claim, and the line keeps it drawn,
so writing a loan off never frees credit (`available = limit - outstanding`) for a customer who
has not paid. The ledger has the asset at zero: for a written-off loan
`ledger_principal_of(loan)` is 0 and `loan.outstanding_principal` is `WriteOff.principal`, the
claim kept off the books. What is still owed is `write_off_owed`: the principal, interest and
penalty written off less what has been recovered.

Recovery. A payment on a written-off loan (`loan_repay` routes it here, under the loan's lock and
its idempotency key) is a `Recovery`, refused above what is still owed. It is shared among the
funders in proportion to the principal each lost, rounded cumulatively like a bank's income
(`funder_income_parts`): a bank's recoveries to date are round_half_up(recovered to date x its
principal lost / principal written off), each recovery passes on the difference, and the platform
keeps the rest, so cents never drift to one side and none is created or lost. Entry of kind
"recovery": Dr cash; Cr partner_payable:<bank> for each bank's part; Cr recovery_income for the
platform's.

Locks: loans first, by primary key, as every repayment locks them (the line before the loan in
`loan_repay`; neither path here touches a line, so the order holds). Fundings are read, not
changed."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.db.models import F, Min, Sum

from core.audit import AuditDraft, actor_system, audit_event_append, audit_events_append_many
from core.calendar import business_date_today
from core.models import ActorKind
from core.money import round_money

from ..errors import LendingError, Overpayment
from ..models import CreditProduct, Instalment, LoanFunding, LoanStatus, Posting
from ..models.loans import Loan, Recovery, WriteOff, WriteOffShare
from ..rules.status import LOAN_TRANSITIONS, transition_check
from . import ledger

KIND = "write_off"
RECOVERY_KIND = "recovery"
STEP = "write_off"
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class _Target:
    """A locked loan to write off."""

    loan_id: int
    principal: Decimal
    days_past_due: int
    reason: str


def loans_due_for_write_off_ids(day: date) -> list[int]:
    """Ids, ascending, of active loans that may be written off in the close of `day`: days past
    due at least the smallest `write_off_days` of any product (each loan's own product decides
    in `loans_write_off`). Through the partial index of delinquent loans: a slice, not a scan."""
    least = CreditProduct.objects.aggregate(least=Min("write_off_days"))["least"]
    if least is None:
        return []
    return list(Loan.objects.filter(status=LoanStatus.ACTIVE, overdue_since__isnull=False,
                                    days_past_due__gte=least)
                .order_by("pk").values_list("pk", flat=True))


def loans_write_off(*, day, first_id=None, last_id=None) -> int:
    """Write off every active loan (ids from `first_id` to `last_id`, both included, when given)
    whose days past due have reached its product's `write_off_days`, in the caller's
    transaction. Returns how many loans were written off; a loan already written off is not
    active and is skipped, so a rerun changes nothing."""
    loans = Loan.objects.filter(status=LoanStatus.ACTIVE, overdue_since__isnull=False,
                                days_past_due__gte=F("line__product__write_off_days"))
    if first_id is not None:
        loans = loans.filter(pk__gte=first_id)
    if last_id is not None:
        loans = loans.filter(pk__lte=last_id)
    # Loans first, as every repayment locks them: a payment in flight finishes before the
    # balances are read, and none starts until the loan is written off.
    rows = list(loans.select_for_update(of=("self",)).order_by("pk").values_list(
        "pk", "outstanding_principal", "days_past_due", "line__product__write_off_days"))
    targets = [_Target(pk, outstanding, dpd, f"{dpd} days past due (the product writes off at "
                                             f"{threshold})")
               for pk, outstanding, dpd, threshold in rows]
    return len(_write_off(day, targets, actor=actor_system(STEP)))


def loan_write_off(*, loan_id, reason, actor, officer=None) -> WriteOff:
    """An officer writes one active loan off, whatever its days past due (the same booking as
    the close's). `actor` is who is audited; the officer recorded on the write-off is `officer`,
    or the user `actor` names. A loan already written off returns its write-off unchanged.

    Joins the caller's transaction (`atomic()`, not durable): a maker-checker approval
    (lending/approvals.py) records its decision in the same transaction as the write-off."""
    reason = (reason or "").strip()
    if not reason:
        raise LendingError("A reason is required to write a loan off.")
    if officer is not None:
        officer_id = officer.pk
    elif actor.kind == ActorKind.USER:
        officer_id = int(actor.id)
    else:
        officer_id = None
    with transaction.atomic():
        row = (Loan.objects.select_for_update(of=("self",)).filter(pk=loan_id)
               .values_list("status", "outstanding_principal", "days_past_due").first())
        if row is None:
            raise LendingError("No such loan.", code="not_found")
        status, outstanding, dpd = row
        if status == LoanStatus.WRITTEN_OFF:
            return WriteOff.objects.get(loan_id=loan_id)
        transition_check(LOAN_TRANSITIONS, status, LoanStatus.WRITTEN_OFF, what="loan")
        [write_off] = _write_off(business_date_today(),
                                 [_Target(loan_id, outstanding, dpd, reason)],
                                 actor=actor, officer_id=officer_id)
    return write_off


def write_off_legs(fundings, interest, penalty) -> list[tuple[str, Decimal]]:
    """The ledger legs of one loan's write-off. `fundings`: (bank code or None for the platform,
    outstanding principal) per funder; `interest`, `penalty`: the receivables to reverse."""
    legs = []
    for bank_code, outstanding in fundings:
        if bank_code is None:
            legs += [(ledger.CREDIT_LOSS, outstanding),
                     (ledger.principal_receivable(ledger.PLATFORM), -outstanding)]
        else:
            legs += [(ledger.partner_funding(bank_code), outstanding),
                     (ledger.principal_receivable(bank_code), -outstanding)]
    legs += [(ledger.INTEREST_INCOME, interest), (ledger.INTEREST_RECEIVABLE, -interest),
             (ledger.PENALTY_INCOME, penalty), (ledger.PENALTY_RECEIVABLE, -penalty)]
    return legs


def _receivables_by_loan(loan_ids) -> dict[tuple[int, str], Decimal]:
    """Interest and penalty receivable per loan, from the ledger, in one query."""
    totals = (Posting.objects.filter(loan_id__in=list(loan_ids), account__code__in=[
        ledger.INTEREST_RECEIVABLE, ledger.PENALTY_RECEIVABLE])
        .values("loan_id", "account__code").annotate(total=Sum("amount"))
        .values_list("loan_id", "account__code", "total"))
    # Rounded to the cent: SQLite (the demo database) sums decimals as floats.
    return {(loan_id, code): round_money(Decimal(total)) for loan_id, code, total in totals
            if total}


def _write_off(day, targets: list[_Target], *, actor, officer_id=None) -> list[WriteOff]:
    """Book the write-off of locked active loans: a handful of queries whatever their number."""
    if not targets:
        return []
    ids = [t.loan_id for t in targets]
    fundings = defaultdict(list)
    for loan_id, bank_id, bank_code, outstanding in (
            LoanFunding.objects.filter(loan_id__in=ids).order_by("loan_id", "pk")
            .values_list("loan_id", "partner_bank_id", "partner_bank__code",
                         "outstanding_principal")):
        fundings[loan_id].append((bank_id, bank_code, outstanding))
    receivable = _receivables_by_loan(ids)
    journal = ledger.JournalBatch(day)
    write_offs = []
    for target in targets:
        parts = fundings[target.loan_id]
        if sum((outstanding for *_bank, outstanding in parts), ZERO) != target.principal:
            raise RuntimeError(f"loan {target.loan_id}: its fundings' outstanding principal does "
                               f"not add up to the loan's {target.principal}")
        interest = receivable.get((target.loan_id, ledger.INTEREST_RECEIVABLE), ZERO)
        penalty = receivable.get((target.loan_id, ledger.PENALTY_RECEIVABLE), ZERO)
        legs = write_off_legs([(code, outstanding) for _id, code, outstanding in parts],
                              interest, penalty)
        if any(amount for _code, amount in legs):
            journal.add(kind=KIND, loan_id=target.loan_id, legs=legs,
                        memo=f"Write-off of loan {target.loan_id}")
        write_offs.append(WriteOff(loan_id=target.loan_id, business_date=day,
                                   principal=target.principal, interest_reversed=interest,
                                   penalty_reversed=penalty, days_past_due=target.days_past_due,
                                   reason=target.reason, officer_id=officer_id))
    journal.post()
    # Every target is active, locked and re-checked under the lock by the caller.
    transition_check(LOAN_TRANSITIONS, LoanStatus.ACTIVE, LoanStatus.WRITTEN_OFF, what="loan")
    changed = Loan.objects.filter(pk__in=ids, status=LoanStatus.ACTIVE).update(
        status=LoanStatus.WRITTEN_OFF, written_off_on=day)
    if changed != len(ids):
        raise RuntimeError(f"write-off of {day}: {changed} of {len(ids)} loans were active")
    # No interest is taken into income after a write-off (non-accrual): marking the instalments
    # not yet accrued as done takes them out of the accrual step's work for good.
    Instalment.objects.filter(loan_id__in=ids, interest_accrued=False).update(
        interest_accrued=True)
    write_offs = WriteOff.objects.bulk_create(write_offs)
    WriteOffShare.objects.bulk_create(
        WriteOffShare(write_off_id=write_off.pk, partner_bank_id=bank_id, principal=outstanding)
        for write_off in write_offs for bank_id, _code, outstanding in fundings[write_off.loan_id])
    audit_events_append_many(
        AuditDraft(actor=actor, action="loan.write_off", subject_kind="loan",
                   subject_id=write_off.loan_id, payload={
                       "write_off": write_off.pk, "business_date": day,
                       "days_past_due": write_off.days_past_due,
                       "principal": write_off.principal,
                       "interest_reversed": write_off.interest_reversed,
                       "penalty_reversed": write_off.penalty_reversed,
                       "shares": [{"funder": code or ledger.PLATFORM, "principal": outstanding}
                                  for _id, code, outstanding in fundings[write_off.loan_id]],
                       "reason": write_off.reason, "status": LoanStatus.WRITTEN_OFF})
        for write_off in write_offs)
    return write_offs


def write_off_owed(write_off, recovered) -> Decimal:
    """What the borrower still owes on a written-off loan: the principal, interest and penalty
    written off, less `recovered` so far."""
    return (write_off.principal + write_off.interest_reversed + write_off.penalty_reversed
            - recovered)


def recovery_bank_parts(shares, principal_written_off, recovered_before, amount):
    """Each partner bank's part of a recovery of `amount`, after `recovered_before` was
    recovered: {bank code: part}. `shares`: (bank code, principal it lost) per bank.

    Cumulative: a bank's recoveries to date are round_half_up(recovered to date x principal it
    lost / principal written off), and this recovery passes on the difference from what the
    recoveries before it passed on. The platform keeps `amount` less the banks' parts."""
    if principal_written_off <= 0:
        return {code: ZERO for code, _lost in shares}
    after = recovered_before + amount
    return {code: round_money(after * lost / principal_written_off)
            - round_money(recovered_before * lost / principal_written_off)
            for code, lost in shares}


def recovery_legs(amount, bank_parts, platform_part) -> list[tuple[str, Decimal]]:
    """Dr cash; Cr each bank's payable with its part, and recovery income with the platform's."""
    return ([(ledger.CASH, amount), (ledger.RECOVERY_INCOME, -platform_part)]
            + [(ledger.partner_payable(code), -part) for code, part in bank_parts.items()])


def loan_recovery_book(*, loan, amount, day, actor) -> Recovery:
    """Book `amount` received on the written-off `loan`, which the caller has locked, in the
    caller's transaction (`loan_repay` routes a payment on a written-off loan here, keyed by its
    idempotency key). Refused above what is still owed."""
    write_off = WriteOff.objects.get(loan=loan)
    shares = [(code, lost) for code, lost in write_off.shares.filter(partner_bank__isnull=False)
              .order_by("pk").values_list("partner_bank__code", "principal")]
    recovered = Recovery.objects.filter(loan=loan).aggregate(total=Sum("amount"))["total"]
    recovered = round_money(Decimal(recovered)) if recovered else ZERO
    owed = write_off_owed(write_off, recovered)
    if owed <= 0:
        raise Overpayment("Nothing is owed on this written-off loan any more.")
    if amount > owed:
        raise Overpayment(f"The payment of {amount} is more than the {owed} still owed on this "
                          "written-off loan.")
    parts = recovery_bank_parts(shares, write_off.principal, recovered, amount)
    platform = amount - sum(parts.values(), ZERO)
    recovery = Recovery.objects.create(loan=loan, amount=amount, received_on=day)
    ledger.journal_entry_post(kind=RECOVERY_KIND, business_date=day, loan=loan,
                              legs=recovery_legs(amount, parts, platform),
                              memo=f"Recovery {recovery.pk} on written-off loan {loan.pk}")
    audit_event_append(actor=actor, action="loan.recover", subject_kind="loan",
                       subject_id=loan.pk, payload={
                           "recovery": recovery.pk, "received_on": day, "amount": amount,
                           "shares": [{"funder": code, "amount": part}
                                      for code, part in parts.items()]
                           + [{"funder": ledger.PLATFORM, "amount": platform}],
                           "recovered": recovered + amount, "owed": owed - amount})
    return recovery
