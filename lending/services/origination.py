"""Origination: a cash loan drawn from a credit line, booked with its schedule and ledger."""

from django.db import transaction
from django.db.models import Count

from accounts.models import PartnerBank
from core.audit import audit_event_append
from core.calendar import business_date_today
from core.idempotency import actor_of_scope, idempotency_key_claim, idempotency_result_store
from core.money import round_money, to_money

from ..errors import InsufficientCredit, LendingError, LineNotUsable, QuoteRefused
from ..models import (
    CreditLine,
    CreditLineStatus,
    Instalment,
    Loan,
    LoanFunding,
    ProductKind,
)
from ..rules.schedule import quote_loan
from . import ledger


def loan_terms_check(product, *, principal, term_months, method):
    """The product's own rules for a draw; the quote checks the arithmetic and the APR cap."""
    if product.kind != ProductKind.CASH_LOAN:
        raise LineNotUsable("Cash can only be drawn from a cash-loan line.")
    if term_months not in product.allowed_terms:
        allowed = ", ".join(str(t) for t in product.allowed_terms)
        raise QuoteRefused(f"A term of {term_months} months is not offered; choose {allowed}.")
    if method not in product.repayment_methods:
        raise QuoteRefused(f"The repayment method {method!r} is not offered for this product.")
    if not product.min_amount <= principal <= product.max_amount:
        raise QuoteRefused(f"The amount must be between {product.min_amount} and "
                           f"{product.max_amount}.")


def loan_quote_for_line(*, line, principal, term_months, method, start=None):
    """The quote a customer sees for this line today: what origination will book."""
    principal = to_money(principal, what="amount")
    loan_terms_check(line.product, principal=principal, term_months=term_months, method=method)
    return quote_loan(principal=principal, term_months=term_months, daily_rate=line.daily_rate,
                      method=method, start=start or business_date_today(),
                      apr_cap=line.product.apr_cap)


def partner_banks_with_funded_counts() -> list[PartnerBank]:
    """The active partner banks, each with `funded`: how many loans it has a share of."""
    return list(PartnerBank.objects.filter(is_active=True).annotate(funded=Count("fundings"))
                .order_by("pk"))


def partner_bank_next(banks) -> PartnerBank | None:
    """Round robin by count: the bank that has funded the fewest loans so far (the lowest pk on
    a tie). A batch keeps `funded` in step as it assigns, so it picks as one-by-one would."""
    return min(banks, key=lambda bank: (bank.funded, bank.pk), default=None)


def funding_rows(loan, product, bank) -> list[LoanFunding]:
    """Split the principal between the partner bank (at most the product's share) and us,
    as unsaved rows: origination saves them, and the simulator's bulk book saves many at once."""
    fundings = []
    bank_principal = 0
    if bank is not None and product.max_partner_share > 0:
        share = min(bank.funding_share, product.max_partner_share)
        bank_principal = round_money(loan.principal * share)
        if bank_principal > 0:
            fundings.append(LoanFunding(loan=loan, partner_bank=bank, share=share,
                                        principal=bank_principal,
                                        outstanding_principal=bank_principal))
    platform_principal = loan.principal - bank_principal
    if platform_principal > 0:
        fundings.append(LoanFunding(loan=loan, partner_bank=None,
                                    share=platform_principal / loan.principal,
                                    principal=platform_principal,
                                    outstanding_principal=platform_principal))
    return fundings


def _book_funding(loan, product, bank):
    fundings = funding_rows(loan, product, bank)
    LoanFunding.objects.bulk_create(fundings)
    return fundings


def disbursement_legs(fundings):
    """The ledger legs of a disbursement: each funder's principal becomes receivable."""
    legs = []
    for funding in fundings:
        if funding.partner_bank is None:
            legs += [(ledger.principal_receivable(ledger.PLATFORM), funding.principal),
                     (ledger.CASH, -funding.principal)]
        else:
            code = funding.partner_bank.code
            legs += [(ledger.principal_receivable(code), funding.principal),
                     (ledger.partner_funding(code), -funding.principal)]
    return legs


def loan_originate(*, line_id, principal, term_months, method, idempotency_key, scope,
                   quoted_on=None) -> Loan:
    """Draw a cash loan: lock the line, check `available`, book schedule, funding and ledger.

    One durable transaction; a replay of the same key returns the first loan, whenever it
    comes. `quoted_on` is the business date of the quote the customer agreed to: a quote from
    another day has other dates and interest, so it no longer holds."""
    principal = to_money(principal, what="amount")
    if isinstance(term_months, bool) or not isinstance(term_months, int):
        raise QuoteRefused("The term must be a whole number of months.")
    payload = {"line": line_id, "principal": str(principal), "term": term_months,
               "method": method}
    with transaction.atomic(durable=True):
        record, replay = idempotency_key_claim(scope=scope, key=idempotency_key, payload=payload)
        if replay is not None:
            return Loan.objects.get(pk=replay["loan_id"])
        today = business_date_today()
        if quoted_on is not None and quoted_on != today:
            raise QuoteRefused("The business date has moved on since this quote, so its dates "
                               "and interest no longer hold: get a new quote.", code="stale_quote")
        try:
            line = (CreditLine.objects.select_for_update(of=("self",)).select_related("product")
                    .get(pk=line_id))
        except CreditLine.DoesNotExist:
            raise LendingError("No such credit line.", code="not_found") from None
        if line.status != CreditLineStatus.ACTIVE:
            raise LineNotUsable(f"This credit line is {line.get_status_display().lower()}.")
        quote = loan_quote_for_line(line=line, principal=principal, term_months=term_months,
                                    method=method, start=today)
        if principal > line.available:
            raise InsufficientCredit(f"Only {line.available} is available on this line.")

        line.outstanding_principal += principal
        line.save(update_fields=["outstanding_principal", "updated_at"])
        loan = Loan.objects.create(
            line=line, principal=principal, term_months=term_months, method=method,
            daily_rate=line.daily_rate, apr=quote.apr, disbursed_on=today,
            outstanding_principal=principal,
        )
        Instalment.objects.bulk_create(
            Instalment(loan=loan, seq=i.seq, period_start=i.period_start, due_date=i.due_date,
                       principal_due=i.principal, interest_due=i.interest)
            for i in quote.instalments
        )
        fundings = _book_funding(loan, line.product,
                                 partner_bank_next(partner_banks_with_funded_counts()))
        ledger.journal_entry_post(kind="disbursement", business_date=today, loan=loan,
                                  legs=disbursement_legs(fundings),
                                  memo=f"Loan {loan.pk} disbursed")
        audit_event_append(actor=actor_of_scope(scope), action="loan.originate",
                           subject_kind="loan", subject_id=loan.pk,
                           payload=origination_audit_payload(loan, fundings))
        idempotency_result_store(record, {"loan_id": loan.pk})
    return loan


def origination_audit_payload(loan, fundings) -> dict:
    """What the loan's audit chain starts with: its terms and who funds what."""
    return {"line": loan.line_id, "principal": loan.principal, "term_months": loan.term_months,
            "method": loan.method, "daily_rate": loan.daily_rate, "apr": loan.apr,
            "disbursed_on": loan.disbursed_on,
            "funding": [[f.partner_bank.code if f.partner_bank else "platform", f.principal]
                        for f in fundings]}
