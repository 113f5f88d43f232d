"""Collection cases opened, kept current, closed and assigned by the close step
`sync_collection_cases` (debt_collection/services/case_sync.py).

The loan of tests/debt_collection/test_penalty.py: 10,000 over 12 equal monthly instalments at
0.05 % a day from 2026-01-31. Instalment 1 (916.80) falls due 2026-02-28 and, with 3 grace
days, turns overdue in the close of Mar 3: 4 days past due on Mar 4, with 4 x 0.46 = 1.84 of
penalty (916.80 x 0.0005 = 0.4584 -> 0.46 a day)."""

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group

from accounts.roles import COLLECTOR
from core.audit import actor_system, audit_chain_verify, audit_trail_of
from core.calendar import business_date_today
from debt_collection.models import Bucket, CaseStatus, CollectionCase
from debt_collection.services.case_sync import cases_assign_round_robin, cases_sync
from lending.models.loans import WriteOff
from lending.selectors import amount_due_on
from lending.services import loan_originate, loan_repay, loan_write_off
from operations.nightly_close import business_days_advance
from tests.factories import UserFactory, set_business_date

pytestmark = pytest.mark.django_db
D = Decimal


def draw(line, key="loan"):
    set_business_date(date(2026, 1, 31))
    return loan_originate(line_id=line.pk, principal="10000", term_months=12,
                          method="equal_instalment", idempotency_key=key, scope="test")


def collector(name, active=True):
    user = UserFactory(username=name, is_staff=True, is_active=active)
    user.groups.add(Group.objects.get(name=COLLECTOR))
    return user


def figures(case):
    case.refresh_from_db()
    return (case.status, case.bucket, case.days_past_due, case.amount_overdue)


def test_a_case_opens_when_a_loan_turns_overdue_and_follows_it(line):
    draw(line)
    set_business_date(date(2026, 3, 2))
    business_days_advance(days=1)  # close of Mar 2: still within the grace days
    assert not CollectionCase.objects.exists()
    business_days_advance(days=1)  # close of Mar 3: overdue on Mar 4
    case = CollectionCase.objects.get(customer=line.customer)
    # 916.80 + 1.84 penalty = 918.64
    assert figures(case) == (CaseStatus.OPEN, Bucket.M1, 4, D("918.64"))
    assert (case.opened_on, case.updated_on) == (date(2026, 3, 4), date(2026, 3, 4))
    business_days_advance(days=1)  # close of Mar 4: one more day, 0.46 more penalty
    # 918.64 + 0.46 = 919.10
    assert figures(case) == (CaseStatus.OPEN, Bucket.M1, 5, D("919.10"))
    assert case.updated_on == date(2026, 3, 5)
    [opened] = [e for e in audit_trail_of("collection_case", case.pk)
                if e.action == "collection_case.open"]
    assert (opened.actor_kind, opened.actor_id) == ("system", "sync_collection_cases")
    assert opened.payload["amount_overdue"] == "918.64"


def test_the_worst_loan_sets_the_days_and_every_overdue_amount_counts(line):
    """A second loan, 1,000 interest first over 3 months from Jan 10: instalment 1 is the
    interest of Jan 10 - Feb 10, 1,000 x 0.0005 x 31 days = 15.50, overdue in the close of
    Feb 13, and charged 0.01 a day (15.50 x 0.0005 = 0.00775 -> 0.01)."""
    set_business_date(date(2026, 1, 10))
    loan_originate(line_id=line.pk, principal="1000", term_months=3,
                   method="interest_first", idempotency_key="small", scope="test")
    draw(line, "large")
    set_business_date(date(2026, 2, 13))
    business_days_advance(days=1)  # close of Feb 13: the small loan is 4 days past due
    case = CollectionCase.objects.get(customer=line.customer)
    # 15.50 + 4 x 0.01 = 15.54
    assert figures(case) == (CaseStatus.OPEN, Bucket.M1, 4, D("15.54"))
    business_days_advance(days=18)  # closes of Feb 14 .. Mar 3: the large loan turns overdue
    # Days: the small loan's 22 (Feb 10 to Mar 4), not the large loan's 4.
    # Amount: 15.50 + 22 x 0.01 = 15.72 on the small loan, 918.64 on the large: 934.36.
    assert figures(case) == (CaseStatus.OPEN, Bucket.M1, 22, D("934.36"))


def test_the_step_run_again_changes_nothing(line):
    draw(line)
    collector("alice")
    set_business_date(date(2026, 3, 3))
    business_days_advance(days=1)
    case = CollectionCase.objects.get()
    events = len(audit_trail_of("collection_case", case.pk))
    before = figures(case), case.assigned_to_id
    assert cases_sync(day=date(2026, 3, 3)) == 0
    assert cases_sync(day=date(2026, 3, 3), first_id=line.customer_id,
                      last_id=line.customer_id) == 0
    assert (figures(case), case.assigned_to_id) == before
    assert len(audit_trail_of("collection_case", case.pk)) == events
    assert CollectionCase.objects.count() == 1


def test_a_case_closes_when_nothing_is_overdue_and_a_new_one_opens_next_time(line):
    loan = draw(line)
    set_business_date(date(2026, 3, 3))
    business_days_advance(days=2)  # overdue from the close of Mar 3
    case = CollectionCase.objects.get()
    loan_repay(loan_id=loan.pk, amount=amount_due_on(loan, business_date_today()),
               idempotency_key="pay", scope="test")
    business_days_advance(days=1)  # close of Mar 5: nothing overdue
    case.refresh_from_db()
    assert (case.status, case.closed_on) == (CaseStatus.CLOSED, date(2026, 3, 6))
    assert audit_trail_of("collection_case", case.pk).last().action == "collection_case.close"
    # Instalment 2 (due Mar 31) turns overdue in the close of Apr 3: a new case.
    set_business_date(date(2026, 4, 3))
    business_days_advance(days=1)
    again = CollectionCase.objects.get(status=CaseStatus.OPEN)
    assert again.pk != case.pk
    # 916.80 + 4 x 0.46 = 918.64, 4 days past due again
    assert figures(again) == (CaseStatus.OPEN, Bucket.M1, 4, D("918.64"))
    assert audit_chain_verify() is None


def test_a_written_off_customer_stays_open_for_recovery(line):
    loan = draw(line)
    set_business_date(date(2026, 3, 3))
    business_days_advance(days=1)
    case = CollectionCase.objects.get()
    write_off = loan_write_off(loan_id=loan.pk, reason="Deceased", actor=actor_system("tests"))
    business_days_advance(days=1)
    owed = write_off.principal + write_off.interest_reversed + write_off.penalty_reversed
    # The whole principal (nothing was repaid) is owed, not only the overdue instalment.
    assert write_off.principal == D("10000.00")
    assert figures(case) == (CaseStatus.OPEN, Bucket.WRITTEN_OFF, 4, owed)
    # A recovery of everything owed closes it.
    loan_repay(loan_id=loan.pk, amount=owed, idempotency_key="recover", scope="test")
    business_days_advance(days=1)
    assert figures(case)[0] == CaseStatus.CLOSED
    assert WriteOff.objects.count() == 1


def test_new_cases_go_round_robin_within_their_bucket_fewest_first(db):
    """Three collectors (Alice, Bob, Carol by user id); Bob already works one M1 case, Alice one
    M2 case (which does not count in M1). M1 loads before each of six new M1 cases, and who
    gets it (the fewest, ties to the lowest id):
    A0 B1 C0 -> Alice; A1 B1 C0 -> Carol; A1 B1 C1 -> Alice; A2 B1 C1 -> Bob;
    A2 B2 C1 -> Carol; A2 B2 C2 -> Alice."""
    alice, bob, carol = collector("alice"), collector("bob"), collector("carol")
    collector("dave", active=False)
    UserFactory(username="officer", is_staff=True)  # staff, but no collector
    day = date(2026, 3, 3)

    def case(bucket, assigned_to=None):
        return CollectionCase.objects.create(
            customer=UserFactory(), bucket=bucket, days_past_due=40 if bucket == "M2" else 4,
            amount_overdue=D("100.00"), opened_on=day, updated_on=day,
            assigned_to=assigned_to, assigned_on=day if assigned_to else None)

    case(Bucket.M1, bob)
    case(Bucket.M2, alice)
    new = [case(Bucket.M1) for _ in range(6)]
    m2 = case(Bucket.M2)
    assert cases_assign_round_robin(day=day) == 7
    assigned = [c.assigned_to for c in CollectionCase.objects.filter(
        pk__in=[c.pk for c in new]).order_by("pk")]
    assert assigned == [alice, carol, alice, bob, carol, alice]
    m2.refresh_from_db()
    # M2: Alice has one already, Bob and Carol none: Bob.
    assert m2.assigned_to == bob
    assert m2.assigned_on == date(2026, 3, 4)
    assert cases_assign_round_robin(day=day) == 0
    event = audit_trail_of("collection_case", m2.pk).last()
    assert (event.action, event.payload["to"]) == ("collection_case.assign", bob.pk)


def test_without_collectors_cases_wait_unassigned_until_there_are_some(line):
    draw(line)
    set_business_date(date(2026, 3, 3))
    business_days_advance(days=1)
    case = CollectionCase.objects.get()
    assert case.assigned_to is None
    alice = collector("alice")
    business_days_advance(days=1)
    case.refresh_from_db()
    assert (case.assigned_to, case.assigned_on) == (alice, date(2026, 3, 5))
