"""Term extension (展期): lending/rules/extension.py and lending/services/extension.py.

The worked examples: 1,200.00 over 3 months at 0.0005 a day from 2026-01-15, one instalment
paid on its due date, extended by 2 months on 2026-02-20. The old due dates are Feb 15 (31
days), Mar 15 (28) and Apr 15 (31); instalment 1's interest is 1200 x 0.0005 x 31 = 18.60.
The next due date after Feb 20 is Mar 15 (the period Feb 15 - Mar 15), so the new schedule
starts on Feb 15 with 2 unpaid periods + 2 extra = 4 instalments due Mar 15 (28 days),
Apr 15 (31), May 15 (30), Jun 15 (31): a new term of 1 + 4 = 5 months. The APRs are checked
against numpy_financial.irr on the hand-computed flows, not against the code's own."""

import re
from datetime import date
from decimal import Decimal

import numpy_financial
import pytest
from django.db import ProgrammingError, transaction
from django.db.models import Sum

from accounts.models import Notice
from core.audit import actor_user, audit_chain_verify, audit_trail_of
from core.calendar import business_date_today
from lending.errors import ExtensionRefused, LendingError
from lending.models import (
    CreditLineStatus,
    Instalment,
    InstalmentStatus,
    JournalEntry,
    Loan,
    LoanExtension,
)
from lending.selectors import ledger_account_balance, unbalanced_entry_ids
from lending.services import (
    ledger,
    loan_extension_quote,
    loan_originate,
    loan_payoff_amount,
    loan_repay,
    loan_term_extend,
)
from lending.services.penalty import penalty_receivable_by_loan
from operations.nightly_close import business_days_advance
from tests.factories import UserFactory, set_business_date

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def officer(db):
    return UserFactory(username="officer", is_staff=True)


def originate(line, method, principal="1200", term=3, key="loan"):
    set_business_date(date(2026, 1, 15))
    return loan_originate(line_id=line.pk, principal=principal, term_months=term, method=method,
                          idempotency_key=key, scope="test")


def pay(loan, amount, key):
    return loan_repay(loan_id=loan.pk, amount=str(amount), idempotency_key=key, scope="test")


def row_labels(html):
    """The first cell of each row of the customer's schedule."""
    return re.findall(r'<td class="lead-1">([^<]*)</td>', html)


def live_rows(loan):
    return list(Instalment.objects.filter(loan=loan).exclude(
        status=InstalmentStatus.SUPERSEDED).order_by("seq"))


def schedule_of(rows):
    return [(i.due_date, i.principal_due, i.interest_due) for i in rows]


def apr_of(principal, totals):
    """The APR independently: numpy_financial.irr of the hand-written flows, x 12, percent."""
    monthly = numpy_financial.irr([-float(principal)] + [float(t) for t in totals])
    return D(str(round(monthly * 1200, 2))).quantize(D("0.01"))


def extend_after_one_payment(line, officer, method, first_instalment):
    loan = originate(line, method)
    set_business_date(date(2026, 2, 15))
    pay(loan, first_instalment, "pay-1")
    set_business_date(date(2026, 2, 20))
    quote = loan_extension_quote(loan=Loan.objects.get(pk=loan.pk), extra_months=2)
    extension = loan_term_extend(loan_id=loan.pk, extra_months=2, reason="Lost a job",
                                 actor=actor_user(officer), shown=quote.fingerprint)
    return Loan.objects.get(pk=loan.pk), quote, extension


NEW_DATES = [date(2026, 3, 15), date(2026, 4, 15), date(2026, 5, 15), date(2026, 6, 15)]


def test_equal_principal_worked_example(line, officer):
    # Instalment 1: 400.00 + 18.60 = 418.60, paid. 800.00 left, in 4 parts of 200.00:
    #   Mar 15: 800 x 0.0005 x 28 = 11.20; Apr 15: 600 x 0.0005 x 31 = 9.30;
    #   May 15: 400 x 0.0005 x 30 = 6.00;  Jun 15: 200 x 0.0005 x 31 = 3.10.
    loan, quote, extension = extend_after_one_payment(line, officer, "equal_principal",
                                                      "418.60")
    new = live_rows(loan)[1:]
    assert schedule_of(new) == list(zip(NEW_DATES, [D("200.00")] * 4,
                                        [D("11.20"), D("9.30"), D("6.00"), D("3.10")],
                                        strict=True))
    assert loan.term_months == 5 and loan.daily_rate == D("0.0005")
    apr = apr_of(800, ["211.20", "209.30", "206.00", "203.10"])
    assert loan.apr == apr == extension.new_apr == quote.new_apr
    assert extension.old_apr == quote.old_apr != apr


def test_equal_instalment_worked_example(line, officer):
    # Original: i = 0.0005 x 30 = 0.015, A = 1200 x 0.015 / (1 - 1.015^-3) = 412.06;
    # instalment 1 is 18.60 interest + 393.46 principal, paid; 806.54 left.
    # New: A = 806.54 x 0.015 / (1 - 1.015^-4) = 12.0981 / 0.0578158 = 209.25;
    #   Mar 15: 806.54 x 0.0005 x 28 = 11.29, principal 197.96, left 608.58;
    #   Apr 15: 608.58 x 0.0155 = 9.43, principal 199.82, left 408.76;
    #   May 15: 408.76 x 0.015 = 6.13, principal 203.12, left 205.64;
    #   Jun 15: 205.64 x 0.0155 = 3.19, the last takes all 205.64 (208.83).
    loan, _quote, extension = extend_after_one_payment(line, officer, "equal_instalment",
                                                       "412.06")
    assert schedule_of(live_rows(loan)[1:]) == list(zip(
        NEW_DATES, [D("197.96"), D("199.82"), D("203.12"), D("205.64")],
        [D("11.29"), D("9.43"), D("6.13"), D("3.19")], strict=True))
    assert loan.apr == apr_of("806.54", ["209.25", "209.25", "209.25", "208.83"])
    assert extension.principal == D("806.54")


def test_interest_first_worked_example(line, officer):
    # Instalment 1 is interest only, 18.60, paid; all 1,200.00 is left, paid with the last:
    #   Mar 15: 1200 x 0.0005 x 28 = 16.80; Apr 15: x 31 = 18.60; May 15: x 30 = 18.00;
    #   Jun 15: x 31 = 18.60 + 1,200.00.
    loan, _quote, _extension = extend_after_one_payment(line, officer, "interest_first",
                                                        "18.60")
    assert schedule_of(live_rows(loan)[1:]) == list(zip(
        NEW_DATES, [D("0")] * 3 + [D("1200.00")],
        [D("16.80"), D("18.60"), D("18.00"), D("18.60")], strict=True))
    assert loan.apr == apr_of(1200, ["16.80", "18.60", "18.00", "1218.60"])


def test_the_old_schedule_is_kept_as_a_superseded_version(line, officer):
    loan, quote, extension = extend_after_one_payment(line, officer, "equal_principal",
                                                      "418.60")
    rows = list(Instalment.objects.filter(loan=loan).order_by("seq"))
    assert [(i.seq, i.status) for i in rows] == [
        (1, "paid"), (2, "superseded"), (3, "superseded"),
        (4, "pending"), (5, "pending"), (6, "pending"), (7, "pending")]
    # Superseded rows owe nothing (their dues lowered to what they had been paid: nothing) ...
    assert all(i.remaining == 0 and i.superseded_by == extension for i in rows[1:3])
    assert all(i.extension == extension for i in rows[3:])
    # ... and the extension keeps them as they stood: 400.00 + 11.20 (Mar 15, 800 x 28 days)
    # and 400.00 + 6.20 (Apr 15, 400 x 31 days).
    assert [(r["seq"], r["due_date"], r["principal_due"], r["interest_due"])
            for r in extension.old_schedule] == [
        (2, "2026-03-15", "400.00", "11.20"), (3, "2026-04-15", "400.00", "6.20")]
    assert extension.new_schedule == quote.as_dict()
    assert extension.fingerprint == quote.fingerprint
    assert (extension.old_term_months, extension.new_term_months) == (3, 5)
    event = audit_trail_of("loan", loan.pk).last()
    assert event.action == "loan.extend" and event.payload["reason"] == "Lost a job"
    assert audit_chain_verify(subject_kind="loan", subject_id=loan.pk) is None
    notice = Notice.objects.get(customer=line.customer, key__contains="extension")
    assert "4 monthly instalments" in notice.body and "15 June 2026" in notice.body
    with pytest.raises(ProgrammingError, match="Cannot update"), transaction.atomic():
        LoanExtension.objects.filter(pk=extension.pk).update(reason="changed")


def test_a_lower_rate_is_used_and_recorded(line, officer):
    loan = originate(line, "interest_first")
    set_business_date(date(2026, 2, 20))
    # Instalment 1 (18.60, due Feb 15) is unpaid but within grace: carried over. 1,200.00 is
    # re-spread at 0.0004 over 3 periods (2 + 1 extra) from Feb 15:
    #   Mar 15: 1200 x 0.0004 x 28 = 13.44; Apr 15: x 31 = 14.88; May 15: x 30 = 14.40.
    extension = loan_term_extend(loan_id=loan.pk, extra_months=1, daily_rate="0.0004",
                                 reason="Hardship", actor=actor_user(officer))
    loan.refresh_from_db()
    rows = live_rows(loan)
    assert [(i.carried, i.due_date, i.principal_due, i.interest_due) for i in rows] == [
        (True, date(2026, 3, 15), D("0"), D("18.60")),
        (False, date(2026, 3, 15), D("0"), D("13.44")),
        (False, date(2026, 4, 15), D("0"), D("14.88")),
        (False, date(2026, 5, 15), D("1200.00"), D("14.40"))]
    assert loan.daily_rate == extension.new_daily_rate == D("0.0004")
    assert line.daily_rate == D("0.0005")  # the line's rate for new draws is untouched
    assert loan.apr == apr_of(1200, ["13.44", "14.88", "1214.40"])


def test_refusals(line, officer):
    loan = originate(line, "equal_principal")
    set_business_date(date(2026, 2, 20))
    actor = actor_user(officer)

    def refused(**kwargs):
        with pytest.raises(ExtensionRefused) as error:
            loan_term_extend(loan_id=loan.pk, reason="r", actor=actor, **kwargs)
        return str(error.value)

    assert "from 1 to 12" in refused(extra_months=0)
    assert "from 1 to 12" in refused(extra_months=13)
    # New term: 1 month elapsed + 2 left + 10 = 13 > the product's longest term, 12.
    assert "13 months" in refused(extra_months=10) and "at most 12" in refused(extra_months=10)
    assert "never raises" in refused(extra_months=1, daily_rate="0.0006")
    assert "minimum of 0.00020000" in refused(extra_months=1, daily_rate="0.0001")
    with pytest.raises(LendingError, match="reason is required"):
        loan_term_extend(loan_id=loan.pk, extra_months=1, reason=" ", actor=actor)
    assert not LoanExtension.objects.exists()


def test_the_apr_cap_refuses_an_extension(line, officer):
    # At 0.0005 a day the APR is about 18.3 %; a product capped at 15 % refuses it.
    loan = originate(line, "equal_principal")
    line.product.apr_cap = D("15.00")
    line.product.save()
    set_business_date(date(2026, 2, 20))
    with pytest.raises(ExtensionRefused, match=r"The new APR of 1\d\.\d\d% is above this "
                                               r"product's cap of 15\.00%"):
        loan_term_extend(loan_id=loan.pk, extra_months=1, reason="r", actor=actor_user(officer))


def test_a_loan_not_active_or_owing_no_principal_is_refused(line, officer):
    loan = originate(line, "equal_principal")
    set_business_date(date(2026, 1, 20))
    pay(loan, loan_payoff_amount(loan), "payoff")
    with pytest.raises(ExtensionRefused, match="Only an active loan"):
        loan_term_extend(loan_id=loan.pk, extra_months=1, reason="r", actor=actor_user(officer))


def test_a_stale_preview_is_refused(line, officer):
    loan = originate(line, "equal_principal")
    set_business_date(date(2026, 2, 10))
    quote = loan_extension_quote(loan=loan, extra_months=2)
    pay(loan, "100.00", "early")  # pays ahead: the principal to spread is lower now
    with pytest.raises(ExtensionRefused, match="changed since the preview") as error:
        loan_term_extend(loan_id=loan.pk, extra_months=2, reason="r", actor=actor_user(officer),
                         shown=quote.fingerprint)
    assert error.value.code == "stale_preview"
    assert not LoanExtension.objects.exists()
    fresh = loan_extension_quote(loan=Loan.objects.get(pk=loan.pk), extra_months=2)
    assert fresh.fingerprint != quote.fingerprint
    loan_term_extend(loan_id=loan.pk, extra_months=2, reason="r", actor=actor_user(officer),
                     shown=fresh.fingerprint)


def receivable(code, loan):
    from lending.models import Posting

    total = Posting.objects.filter(loan=loan, account__code=code).aggregate(t=Sum("amount"))["t"]
    return total or D("0")


def test_an_overdue_loan_is_brought_current(line, officer):
    """1,200.00 over 6 equal-principal months from Jan 15: instalment 1 is 200.00 + 18.60
    (1200 x 0.0005 x 31) = 218.60, due Feb 15, overdue with 3 grace days in the close of Feb 18.
    Penalty 218.60 x 0.0005 = 0.1093 -> 0.11 a day, charged Feb 16 .. Feb 20 by the closes of
    Feb 15 .. 19: 0.55. On Feb 20 the loan is 5 days past due and the line frozen."""
    loan = originate(line, "equal_principal", term=6)
    set_business_date(date(2026, 2, 15))
    business_days_advance(days=5)
    loan.refresh_from_db()
    line.refresh_from_db()
    assert business_date_today() == date(2026, 2, 20)
    assert (loan.days_past_due, line.status) == (5, CreditLineStatus.FROZEN)
    assert penalty_receivable_by_loan([loan.pk])[loan.pk] == D("0.55")
    assert receivable(ledger.INTEREST_RECEIVABLE, loan) == D("18.60")

    # 5 unpaid periods + 3 = 8 from Feb 15 (a 9-month term); 1,200.00 in 8 parts of 150.00;
    # the first: Mar 15, 1200 x 0.0005 x 28 = 16.80. Carried: 18.60 interest, 0.55 penalty.
    extension = loan_term_extend(loan_id=loan.pk, extra_months=3, reason="Illness",
                                 actor=actor_user(officer))
    loan.refresh_from_db()
    line.refresh_from_db()
    assert (loan.days_past_due, loan.overdue_since, loan.term_months) == (0, None, 9)
    assert (line.status, line.frozen_by) == (CreditLineStatus.ACTIVE, "")
    assert (extension.carried_interest, extension.carried_penalty) == (D("18.60"), D("0.55"))
    carried, first, *rest = live_rows(loan)[0:]
    assert (carried.carried, carried.due_date, carried.interest_due, carried.penalty_due) == (
        True, date(2026, 3, 15), D("18.60"), D("0.55"))
    assert (first.principal_due, first.interest_due) == (D("150.00"), D("16.80"))
    assert len(rest) == 7 and rest[-1].due_date == date(2026, 10, 15)
    # The interest booked as receivable is reversed until it falls due again; penalty stays.
    assert receivable(ledger.INTEREST_RECEIVABLE, loan) == 0
    assert penalty_receivable_by_loan([loan.pk])[loan.pk] == D("0.55")
    assert JournalEntry.objects.filter(loan=loan, kind="extension").count() == 1
    assert unbalanced_entry_ids() == []

    # A week's closes: nothing overdue, no penalty, the line stays open.
    business_days_advance(days=7)
    loan.refresh_from_db()
    assert loan.days_past_due == 0
    assert penalty_receivable_by_loan([loan.pk])[loan.pk] == D("0.55")

    # A payment of 10.00 pays the carried penalty first (0.55), then its interest (9.45).
    pay(loan, "10.00", "p1")
    carried.refresh_from_db()
    assert (carried.penalty_paid, carried.interest_paid) == (D("0.55"), D("9.45"))
    assert penalty_receivable_by_loan([loan.pk]).get(loan.pk, 0) == 0

    # The close of Mar 15 books the interest falling due once: the carried row's unpaid 9.15
    # (18.60 - 9.45) and the first new instalment's 16.80: 25.95.
    business_days_advance(days=16)  # closes of Feb 27 .. Mar 14
    assert business_date_today() == date(2026, 3, 15)
    before = receivable(ledger.INTEREST_RECEIVABLE, loan)
    business_days_advance(days=1)
    assert receivable(ledger.INTEREST_RECEIVABLE, loan) - before == D("25.95")
    business_days_advance(days=1)  # a rerun night books nothing more
    assert receivable(ledger.INTEREST_RECEIVABLE, loan) - before == D("25.95")

    # Paid off: every receivable of the loan is zero and every entry balances.
    loan.refresh_from_db()
    pay(loan, loan_payoff_amount(loan), "payoff")
    loan.refresh_from_db()
    assert loan.status == "paid_off" and loan.outstanding_principal == 0
    for code in (ledger.INTEREST_RECEIVABLE, ledger.PENALTY_RECEIVABLE,
                 ledger.principal_receivable(ledger.PLATFORM)):
        assert receivable(code, loan) == 0, code
    assert unbalanced_entry_ids() == []
    assert ledger_account_balance(ledger.INTEREST_RECEIVABLE) == 0


# The admin's "Extend term…" -------------------------------------------------------------------

LOANS = "/admin/lending/loan/"


def staff_client(username, *codenames):
    """A signed-in staff member who may view loans, with these lending permissions."""
    from django.contrib.auth.models import Permission
    from django.test import Client

    from accounts.services import staff_user_create

    user = staff_user_create(username=username, password="x")
    for codename in ("view_loan", *codenames):
        user.user_permissions.add(Permission.objects.get(content_type__app_label="lending",
                                                         codename=codename))
    client = Client()
    client.force_login(user)
    return client


def post_action(client, action, loan, **fields):
    return client.post(LOANS, {"action": action, "_selected_action": loan.pk, **fields})


def test_the_admin_previews_then_books_exactly_what_was_shown(line):
    loan = originate(line, "equal_principal")
    set_business_date(date(2026, 2, 20))
    client = staff_client("extender", "extend_term_loan", "view_instalment",
                          "view_loanextension")
    assert post_action(client, "extend_term", loan).context["quote"] is None  # the terms form
    terms = {"extra_months": "2", "daily_rate": "", "reason": "Lost a job"}
    preview = post_action(client, "extend_term", loan, preview="1", **terms)
    quote = preview.context["quote"]
    # 1,200.00 unpaid, Feb 15's 18.60 interest carried; 4 parts of 300.00 from Feb 15:
    # Mar 15: 1200 x 0.0005 x 28 = 16.80, Apr 15: 900 x 31 x 0.0005 = 13.95, ...
    assert [(i.principal, i.interest) for i in quote.instalments[:2]] == [
        (D("300.00"), D("16.80")), (D("300.00"), D("13.95"))]
    assert quote.carried_interest == D("18.60")
    page = preview.content.decode()
    assert 'data-testid="new-schedule"' in page and quote.fingerprint in page
    # Booking with the terms changed since the preview is refused: the quote differs.
    changed = post_action(client, "extend_term", loan, book="1", shown=quote.fingerprint,
                          **{**terms, "extra_months": "3"})
    assert "changed since the preview" in changed.content.decode()
    assert not LoanExtension.objects.exists()
    booked = post_action(client, "extend_term", loan, book="1", shown=quote.fingerprint, **terms)
    assert booked.status_code == 302
    extension = LoanExtension.objects.get()
    assert extension.fingerprint == quote.fingerprint
    assert [(i.due_date, i.principal_due, i.interest_due) for i in live_rows(loan)[1:]] == [
        (i.due_date, i.principal, i.interest) for i in quote.instalments]
    change_page = client.get(f"{LOANS}{loan.pk}/change/").content.decode()
    assert "Replaced by a new schedule" in change_page and "Lost a job" in change_page


def test_the_admin_actions_need_their_permissions(line):
    loan = originate(line, "equal_principal")
    reader = staff_client("reader")
    offered = reader.get(LOANS).context["action_form"]
    assert offered is None or set(dict(offered.fields["action"].choices)) - {""} == set()
    refused = post_action(reader, "extend_term", loan, preview="1", extra_months="1",
                          reason="r")
    # Django refuses an action the user may not take: back to the list, nothing quoted.
    assert "quote" not in (refused.context or {}) and not LoanExtension.objects.exists()
    extender = staff_client("extender", "extend_term_loan")
    choices = set(dict(extender.get(LOANS).context["action_form"].fields["action"].choices))
    assert choices - {""} == {"extend_term"}


def test_a_long_extension_is_sent_for_approval(line, settings):
    from core.models import ApprovalRequest

    settings.MAKER_CHECKER = {**settings.MAKER_CHECKER, "EXTENSION_MONTHS": 1}
    loan = originate(line, "equal_principal")
    set_business_date(date(2026, 2, 20))
    client = staff_client("maker", "extend_term_loan")
    terms = {"extra_months": "2", "daily_rate": "", "reason": "Illness"}
    quote = post_action(client, "extend_term", loan, preview="1", **terms).context["quote"]
    post_action(client, "extend_term", loan, book="1", shown=quote.fingerprint, **terms)
    assert not LoanExtension.objects.exists()
    request = ApprovalRequest.objects.get()
    assert request.payload["shown"] == quote.fingerprint


def test_the_customer_sees_the_new_schedule_and_when_the_term_was_extended(line, officer,
                                                                            client):
    loan = originate(line, "interest_first")
    set_business_date(date(2026, 2, 20))
    loan_term_extend(loan_id=loan.pk, extra_months=1, reason="Hardship",
                     actor=actor_user(officer))
    client.force_login(line.customer)
    page = client.get(f"/loans/{loan.pk}/")
    text = page.content.decode()
    assert ("The term was extended on" in text and "20 Feb 2026" in text
            and "by 1 month. The schedule below is the new one." in text)
    # The live schedule only: the carried row (Feb 15's 18.60) and 3 new instalments; the
    # superseded rows are history, kept in the back office.
    assert [i.seq for i in page.context["instalments"]] == [4, 5, 6, 7]
    assert "Carried over" in text and "Replaced by a new schedule" not in text
    # The rows are numbered as shown; the carried row has no number.
    assert row_labels(text) == ["Carried over", "#1", "#2", "#3"]
    # Next due on Mar 15: the carried 18.60 and the first new instalment's 1200 x 0.0005 x 28
    # = 16.80, together 35.40.
    assert (page.context["next_due"].due_date, page.context["next_due"].remaining) == (
        date(2026, 3, 15), D("35.40"))


def test_a_second_extension_carries_the_carried_row_over_again(line, officer):
    loan = originate(line, "interest_first")
    set_business_date(date(2026, 2, 20))
    actor = actor_user(officer)
    loan_term_extend(loan_id=loan.pk, extra_months=1, reason="First", actor=actor)
    # The first: Feb 15's 18.60 carried to Mar 15; 3 periods (Mar 15, Apr 15, May 15).
    # The second, the same day, 1 more month: the carried 18.60 is carried again (not
    # re-priced, not counted as a period); 3 + 1 = 4 periods from Feb 15, a 5-month term:
    #   Mar 15: 1200 x 0.0005 x 28 = 16.80; Apr 15: x 31 = 18.60; May 15: x 30 = 18.00;
    #   Jun 15: x 31 = 18.60 + 1,200.00.
    second = loan_term_extend(loan_id=loan.pk, extra_months=1, reason="Second", actor=actor)
    loan.refresh_from_db()
    assert (second.carried_interest, second.new_term_months, loan.term_months) == (
        D("18.60"), 5, 5)
    rows = live_rows(loan)
    assert [(i.carried, i.due_date, i.principal_due, i.interest_due) for i in rows] == [
        (True, date(2026, 3, 15), D("0"), D("18.60")),
        (False, date(2026, 3, 15), D("0"), D("16.80")),
        (False, date(2026, 4, 15), D("0"), D("18.60")),
        (False, date(2026, 5, 15), D("0"), D("18.00")),
        (False, date(2026, 6, 15), D("1200.00"), D("18.60"))]
    assert Instalment.objects.filter(loan=loan, superseded_by=second).count() == 4


def test_an_early_repayment_in_the_current_period_is_not_charged_twice(line, officer):
    # Equal principal, instalment 1 (418.60) paid Feb 15. On Mar 1, 100.00 early: interest to
    # date 800 x 0.0005 x 14 = 5.60, principal 94.40 off the last instalment; 705.60 left, and
    # the period's interest is settled to Mar 1.
    loan = originate(line, "equal_principal")
    set_business_date(date(2026, 2, 15))
    pay(loan, "418.60", "pay-1")
    set_business_date(date(2026, 3, 1))
    pay(loan, "100.00", "early")
    set_business_date(date(2026, 3, 5))
    extension = loan_term_extend(loan_id=loan.pk, extra_months=1, reason="r",
                                 actor=actor_user(officer))
    loan.refresh_from_db()
    # Nothing carried (the 5.60 was paid); 2 + 1 = 3 periods of 235.20 from Mar 1, not Feb 15:
    #   Mar 15: 705.60 x 0.0005 x 14 = 4.94; Apr 15: 470.40 x 31 x 0.0005 = 7.29;
    #   May 15: 235.20 x 30 x 0.0005 = 3.53.
    assert (extension.principal, extension.carried_interest, loan.term_months) == (
        D("705.60"), D("0"), 4)
    assert [(i.period_start, i.due_date, i.principal_due, i.interest_due)
            for i in live_rows(loan)[1:]] == [
        (date(2026, 3, 1), date(2026, 3, 15), D("235.20"), D("4.94")),
        (date(2026, 3, 15), date(2026, 4, 15), D("235.20"), D("7.29")),
        (date(2026, 4, 15), date(2026, 5, 15), D("235.20"), D("3.53"))]
    # Paying off on Mar 5 costs interest from Mar 1 only: 705.60 x 0.0005 x 4 = 1.41.
    assert loan_payoff_amount(loan) == D("707.01")


def test_the_customers_schedule_is_numbered_1_to_n_after_an_extension(line, officer, client):
    # Instalment 1 paid, 2 and 3 superseded (hidden), 4-7 the new ones: shown as #1 to #5.
    loan, _quote, _extension = extend_after_one_payment(line, officer, "equal_principal",
                                                        "418.60")
    client.force_login(line.customer)
    assert row_labels(client.get(f"/loans/{loan.pk}/").content.decode()) == [
        "#1", "#2", "#3", "#4", "#5"]
