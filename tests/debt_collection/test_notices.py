"""Payment reminders (debt_collection/notices.py), written by the close step
`send_dunning_notices` and e-mailed after commit (accounts.services.notices).

The loan of tests/operations/test_close.py: 10,000 over 12 monthly instalments of 916.80 from
2026-01-31; instalment 1 falls due 2026-02-28 (3 grace days: overdue from Mar 4), instalment 2
on 2026-03-31. The product's points are the default: -3, 0, 1, 7, 30, 60, 90. The close of D
speaks of D+1."""

from datetime import date

import pytest

from accounts.models import Notice, NoticeKind
from accounts.services.notices import NoticeDraft, notices_create_many, notices_email
from accounts.tasks import notices_send
from config import celery_app
from core.close import close_step_named
from debt_collection.notices import dunning_candidate_loan_ids, dunning_notices_send
from lending.models import CreditProduct
from lending.selectors import amount_due_on
from lending.services import loan_originate, loan_repay
from operations.nightly_close import business_days_advance
from tests.factories import CreditLineFactory, set_business_date

pytestmark = pytest.mark.django_db


@pytest.fixture
def loan(line):
    set_business_date(date(2026, 1, 31))
    return loan_originate(line_id=line.pk, principal="10000", term_months=12,
                          method="equal_instalment", idempotency_key="loan", scope="test")


@pytest.fixture
def eager_tasks():
    """Celery tasks run in the process, as with no broker: the e-mail path end to end."""
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = eager


def keys(loan):
    return sorted(Notice.objects.filter(key__startswith=f"dunning:loan:{loan.pk}:")
                  .values_list("key", flat=True))


def test_each_point_once_before_on_and_after_the_due_date(loan):
    set_business_date(date(2026, 2, 23))
    business_days_advance(days=14)  # closes of Feb 23 .. Mar 8
    prefix = f"dunning:loan:{loan.pk}"
    assert keys(loan) == sorted([f"{prefix}:-3:2026-02-28", f"{prefix}:0:2026-02-28",
                                 f"{prefix}:1:2026-02-28", f"{prefix}:7:2026-02-28"])
    notices = {n.key.split(":")[3]: n for n in Notice.objects.filter(kind=NoticeKind.DUNNING)}
    assert {point: n.business_date for point, n in notices.items()} == {
        "-3": date(2026, 2, 25), "0": date(2026, 2, 28), "1": date(2026, 3, 1),
        "7": date(2026, 3, 7)}
    assert notices["-3"].body.startswith(
        f"Your payment of ¥916.80 on loan {loan.pk} is due on 28 February, in 3 days.")
    assert f"¥916.80 on loan {loan.pk} is due today, 28 February" in notices["0"].body
    assert "was due on 28 February and is now 1 day late" in notices["1"].body
    # Day 7 owes the instalment and 7 days of penalty interest (7 x 0.46 = 3.22).
    assert notices["7"].body.startswith(
        f"Your payment of ¥920.02 on loan {loan.pk} was due on 28 February and is now 7 days "
        "late.")
    assert {n.customer_id for n in notices.values()} == {loan.line.customer_id}


def test_the_step_run_twice_writes_nothing_twice(loan):
    set_business_date(date(2026, 2, 24))
    business_days_advance(days=1)
    assert len(keys(loan)) == 1
    step = close_step_named("send_dunning_notices")
    assert step.run(date(2026, 2, 24), None, None) == 0
    assert step.run(date(2026, 2, 24), loan.pk, loan.pk) == 0
    assert dunning_notices_send(day=date(2026, 2, 24)) == 0
    assert len(keys(loan)) == 1


def test_candidates_and_chunks_keep_to_their_loans(loan):
    other_line = CreditLineFactory()
    other = loan_originate(line_id=other_line.pk, principal="5000", term_months=3,
                           method="equal_instalment", idempotency_key="other", scope="test")
    day = date(2026, 2, 24)  # both loans have an instalment due on Feb 28
    assert dunning_candidate_loan_ids(day=day) == [loan.pk, other.pk]
    assert dunning_notices_send(day=day, first_id=other.pk, last_id=other.pk) == 1
    assert keys(loan) == [] and len(keys(other)) == 1
    assert dunning_notices_send(day=day) == 1
    assert len(keys(loan)) == 1


def test_a_point_the_product_leaves_out_and_a_paid_instalment_are_not_reminded(loan):
    CreditProduct.objects.filter(pk=loan.line.product_id).update(notice_days=[0, 7])
    set_business_date(date(2026, 2, 24))
    business_days_advance(days=1)  # close of Feb 24: -3 is not a point any more
    assert keys(loan) == []
    business_days_advance(days=3)  # closes of Feb 25 .. 27: the due date's reminder
    assert keys(loan) == [f"dunning:loan:{loan.pk}:0:2026-02-28"]
    loan_repay(loan_id=loan.pk, amount=amount_due_on(loan, date(2026, 2, 28)),
               idempotency_key="on-time", scope="test")
    business_days_advance(days=8)  # Feb 28 .. Mar 7: paid on the due date, nothing late
    assert keys(loan) == [f"dunning:loan:{loan.pk}:0:2026-02-28"]


def test_no_reminder_after_the_overdue_amount_is_paid(loan):
    set_business_date(date(2026, 3, 3))
    business_days_advance(days=2)  # overdue on Mar 4; business date Mar 5
    loan_repay(loan_id=loan.pk, amount=amount_due_on(loan, date(2026, 3, 5)),
               idempotency_key="pay", scope="test")
    business_days_advance(days=3)  # Mar 5 .. Mar 7: day 7 would have been Mar 7
    assert not any(":7:" in key for key in keys(loan))


def test_email_is_sent_once_after_commit(loan, mailoutbox, eager_tasks,
                                         django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert dunning_notices_send(day=date(2026, 2, 24)) == 1
        assert mailoutbox == []  # nothing leaves before the commit
    assert len(callbacks) == 1
    [mail] = mailoutbox
    notice = Notice.objects.get()
    assert mail.to == [loan.line.customer.email]
    assert mail.subject == notice.subject == "Payment due on 28 February"
    assert notice.body in mail.body
    assert notice.emailed_at is not None
    # A rerun of the step writes and sends nothing; a redelivered task sends nothing.
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert dunning_notices_send(day=date(2026, 2, 24)) == 0
    assert callbacks == []
    assert notices_send.delay([notice.pk]).get() == 0
    assert notices_email(notice_ids=[notice.pk]) == 0
    assert len(mailoutbox) == 1


def test_email_goes_in_batches_and_skips_addresses_that_cannot_receive_it(
        db, mailoutbox, eager_tasks, django_capture_on_commit_callbacks, monkeypatch):
    from accounts.services import notices as service

    monkeypatch.setattr(service, "EMAIL_BATCH", 2)
    lines = [CreditLineFactory() for _ in range(4)]
    for line, address in zip(lines[2:], ["", "sim-1@sim.invalid"], strict=True):
        line.customer.email = address
        line.customer.save(update_fields=["email"])
    drafts = [NoticeDraft(customer_id=line.customer_id, kind=NoticeKind.ACCOUNT, key="hello",
                          subject="Hello", body="Hello there.", business_date=date(2026, 3, 1))
              for line in lines]
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        ids = notices_create_many(drafts + drafts)  # the same notice twice is one
    assert len(ids) == 4 and len(callbacks) == 2
    assert sorted(m.to[0] for m in mailoutbox) == sorted(
        line.customer.email for line in lines[:2])
    assert Notice.objects.filter(emailed_at__isnull=True).count() == 2
    assert notices_create_many(drafts) == []
