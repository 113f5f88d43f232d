"""Contacts, promises to pay and reassignment (debt_collection/services), and the close step
`check_promises` that marks a promise kept or broken.

The case of tests/debt_collection/conftest.py: 918.64 overdue on Mar 4, assigned to Alice."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import DatabaseError, transaction

from accounts.models import Notice
from core.audit import audit_chain_verify, audit_trail_of
from core.errors import DomainError
from debt_collection.errors import CollectionError, NotYourCase
from debt_collection.models import CollectionContact, PromiseStatus
from debt_collection.selectors import collection_results, collector_queue
from debt_collection.services import (
    collection_case_reassign,
    collection_contact_log,
    promise_to_pay_make,
)
from debt_collection.services.promises import promises_check
from lending.services import loan_repay
from operations.nightly_close import business_days_advance
from tests.factories import UserFactory

from .staff import make_collector, make_manager

pytestmark = pytest.mark.django_db
D = Decimal


def pay(loan, amount, key):
    loan_repay(loan_id=loan.pk, amount=amount, idempotency_key=key, scope="test")


def test_a_promise_paid_in_full_within_its_window_is_kept(overdue_case):
    case, loan, alice = overdue_case
    promise = promise_to_pay_make(case_id=case.pk, collector=alice, amount="500",
                                  promised_for=date(2026, 3, 10))
    assert (promise.made_on, promise.status) == (date(2026, 3, 4), PromiseStatus.PENDING)
    notice = Notice.objects.get(customer=case.customer, key=f"promise:{promise.pk}")
    assert "500.00 CNY by 10 Mar 2026" in notice.body
    business_days_advance(days=2)  # closes of Mar 4 and 5
    pay(loan, "300", "first")  # Mar 6
    business_days_advance(days=1)
    pay(loan, "200", "second")  # Mar 7: 300 + 200 = 500, the amount promised
    business_days_advance(days=3)  # closes of Mar 7, 8, 9: the date has not passed yet
    promise.refresh_from_db()
    assert promise.status == PromiseStatus.PENDING
    business_days_advance(days=1)  # close of Mar 10
    promise.refresh_from_db()
    assert (promise.status, promise.amount_paid, promise.resolved_on) == (
        PromiseStatus.KEPT, D("500.00"), date(2026, 3, 10))
    case.refresh_from_db()
    assert case.promise_broken_on is None
    event = audit_trail_of("collection_case", case.pk).last()
    assert (event.action, event.actor_id) == ("collection_case.promise_kept", "check_promises")
    # The dashboards' month: one promise made and kept, 300 + 200 = 500 paid while the case was
    # open; the twelve months end with this one.
    results = collection_results(months=12)
    assert [r["month"] for r in results][::11] == [date(2025, 4, 1), date(2026, 3, 1)]
    assert results[-1] == {"month": date(2026, 3, 1), "promises_made": 1,
                           "amount_promised": D("500.00"), "promises_kept": 1,
                           "promises_broken": 0, "amount_recovered": D("500.00")}
    assert all(r["promises_made"] == 0 for r in results[:-1])


def test_a_promise_paid_short_is_broken_flagged_and_a_rerun_changes_nothing(overdue_case):
    case, loan, alice = overdue_case
    promise = promise_to_pay_make(case_id=case.pk, collector=alice, amount="500",
                                  promised_for=date(2026, 3, 6))
    business_days_advance(days=1)
    pay(loan, "200", "short")  # Mar 5: 200 of 500
    business_days_advance(days=2)  # closes of Mar 5 and 6
    promise.refresh_from_db()
    assert (promise.status, promise.amount_paid, promise.resolved_on) == (
        PromiseStatus.BROKEN, D("200.00"), date(2026, 3, 6))
    case.refresh_from_db()
    assert case.promise_broken_on == date(2026, 3, 6)
    assert promises_check(day=date(2026, 3, 6)) == 0
    assert promises_check(day=date(2026, 3, 7)) == 0
    # The queue shows the flag until a new promise is taken.
    assert [c.promise_broken_on for c in collector_queue(alice)] == [date(2026, 3, 6)]
    promise_to_pay_make(case_id=case.pk, collector=alice, amount="100",
                        promised_for=date(2026, 3, 9))
    case.refresh_from_db()
    assert case.promise_broken_on is None
    assert audit_chain_verify() is None


def test_a_promise_is_refused_outside_its_bounds(overdue_case):
    case, _loan, alice = overdue_case  # today is Mar 4; 918.64 overdue
    for amount, day, why in [
            ("500", date(2026, 3, 4), "after today"),
            ("500", date(2026, 4, 4), "at most 30 days"),  # Mar 4 + 30 days = Apr 3
            ("918.65", date(2026, 3, 10), "more than what is overdue"),
            ("0", date(2026, 3, 10), "greater than zero")]:
        with pytest.raises(DomainError, match=why):
            promise_to_pay_make(case_id=case.pk, collector=alice, amount=amount,
                                promised_for=day)
    promise_to_pay_make(case_id=case.pk, collector=alice, amount="918.64",
                        promised_for=date(2026, 4, 3))
    with pytest.raises(CollectionError, match="already has a pending promise"):
        promise_to_pay_make(case_id=case.pk, collector=alice, amount="10",
                            promised_for=date(2026, 3, 10))


def test_a_collector_works_only_their_own_cases(overdue_case):
    case, _loan, alice = overdue_case
    bob = make_collector("bob")
    outsider = UserFactory(username="clerk", is_staff=True)
    for user in (bob, outsider):
        with pytest.raises(NotYourCase):
            collection_contact_log(case_id=case.pk, collector=user, channel="phone",
                                   outcome="no_answer", note="")
        with pytest.raises(NotYourCase):
            promise_to_pay_make(case_id=case.pk, collector=user, amount="100",
                                promised_for=date(2026, 3, 10))
    assert not CollectionContact.objects.exists()
    contact = collection_contact_log(case_id=case.pk, collector=alice, channel="phone",
                                     outcome="promised", note="Will pay on payday")
    event = audit_trail_of("collection_case", case.pk).last()
    assert (event.action, event.actor_id, event.payload["note"]) == (
        "collection_case.contact", str(alice.pk), "Will pay on payday")
    # The log is append-only.
    with pytest.raises(DatabaseError), transaction.atomic():
        CollectionContact.objects.filter(pk=contact.pk).update(note="changed")
    # A manager may work any case.
    collection_contact_log(case_id=case.pk, collector=make_manager("mona"), channel="sms",
                           outcome="no_answer", note="")
    assert CollectionContact.objects.count() == 2


def test_only_a_manager_reassigns_and_only_to_a_collector(overdue_case):
    case, _loan, alice = overdue_case
    bob = make_collector("bob")
    mona = make_manager("mona")
    with pytest.raises(CollectionError, match="not allowed"):
        collection_case_reassign(case_id=case.pk, to_user=bob, manager=alice, reason="Leave")
    with pytest.raises(CollectionError, match="not an active collector"):
        collection_case_reassign(case_id=case.pk, to_user=mona, manager=mona, reason="Leave")
    with pytest.raises(CollectionError, match="reason"):
        collection_case_reassign(case_id=case.pk, to_user=bob, manager=mona, reason=" ")
    collection_case_reassign(case_id=case.pk, to_user=bob, manager=mona, reason="Alice on leave")
    case.refresh_from_db()
    assert (case.assigned_to, case.assigned_on) == (bob, date(2026, 3, 4))
    event = audit_trail_of("collection_case", case.pk).last()
    assert (event.action, event.actor_id, event.payload) == (
        "collection_case.assign", str(mona.pk),
        {"from": alice.pk, "to": bob.pk, "reason": "Alice on leave",
         "business_date": "2026-03-04"})
    # Alice may no longer work it; Bob may.
    with pytest.raises(NotYourCase):
        collection_contact_log(case_id=case.pk, collector=alice, channel="phone",
                               outcome="no_answer")
    collection_contact_log(case_id=case.pk, collector=bob, channel="phone", outcome="no_answer")
