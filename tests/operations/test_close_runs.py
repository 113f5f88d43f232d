"""The close as runs of chunked steps: chunks recorded once, reruns and concurrent starts that
change the book once, a failed chunk that stops the run and a rerun that resumes it, and a
repayment that goes through while a close runs."""

import dataclasses
import threading
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Count, Sum

from core import close as close_registry
from core.calendar import business_date_today
from lending.models import JournalEntry, LedgerAccount, Posting
from lending.services import loan_originate, loan_repay
from operations.models import CloseChunk, CloseRun, CloseStatus, CloseStep
from operations.nightly_close import CloseFailed, business_day_close, close_chunk_run
from tests.factories import CreditLineFactory, set_business_date

OVERDUE_DAY = date(2026, 3, 10)  # the first instalments (due Feb 28) are 10 days late


def _loans(count):
    set_business_date(date(2026, 1, 31))
    return [loan_originate(line_id=CreditLineFactory().pk, principal="10000", term_months=12,
                           method="equal_instalment", idempotency_key=f"loan-{n}",
                           scope="test") for n in range(count)]


def _book():
    """What a close changes, summed: entries by kind and their total, instalment statuses."""
    entries = dict(JournalEntry.objects.values_list("kind").annotate(n=Count("pk")))
    total = Posting.objects.filter(amount__gt=0).aggregate(total=Sum("amount"))["total"]
    return entries, total, business_date_today()


def _penalised():
    """The loans charged penalty, one item per charge (the receivable legs carry the loan)."""
    return sorted(Posting.objects.filter(entry__kind="penalty_accrual", loan__isnull=False)
                  .values_list("loan_id", flat=True))


def _unbalanced_entries():
    return list(Posting.objects.values("entry_id").annotate(total=Sum("amount"))
                .exclude(total=0).values_list("entry_id", flat=True))


@pytest.fixture
def small_chunks(settings):
    settings.CLOSE_CHUNK_SIZE = 2


@pytest.mark.django_db
def test_a_step_is_cut_into_chunks_of_ids_each_done_once(bank, small_chunks):
    loans = _loans(5)
    set_business_date(OVERDUE_DAY)
    run = business_day_close()
    penalty = CloseStep.objects.get(run=run, step="accrue_penalty")
    chunks = list(penalty.chunks.order_by("seq"))
    assert [(c.first_id, c.last_id) for c in chunks] == [
        (loans[0].pk, loans[1].pk), (loans[2].pk, loans[3].pk), (loans[4].pk, loans[4].pk)]
    assert [c.rows for c in chunks] == [2, 2, 1] and penalty.rows == 5
    assert penalty.chunks_total == penalty.chunks_done == 3
    # A chunk delivered again finds itself done and changes nothing.
    before = _book()
    assert close_chunk_run(chunks[0].pk) is False
    assert _book() == before


@pytest.mark.django_db
def test_a_failed_chunk_stops_the_run_and_a_rerun_resumes_where_it_stopped(
        bank, small_chunks, monkeypatch):
    loans = _loans(5)
    set_business_date(OVERDUE_DAY)
    spec = close_registry.close_step_named("accrue_penalty")

    def fails_on_the_second_chunk(day, first_id, last_id):
        if first_id == loans[2].pk:
            raise RuntimeError("database went away")
        return spec.run(day, first_id, last_id)

    monkeypatch.setitem(close_registry._registry, "accrue_penalty",
                        dataclasses.replace(spec, run=fails_on_the_second_chunk))
    with pytest.raises(CloseFailed, match="accrue_penalty"):
        business_day_close()
    run = CloseRun.objects.get(business_date=OVERDUE_DAY)
    assert run.status == CloseStatus.FAILED and run.current_step == "accrue_penalty"
    assert "chunk 2" in run.error and "database went away" in run.error
    assert business_date_today() == OVERDUE_DAY
    assert _penalised() == [loans[0].pk, loans[1].pk]  # chunk 1 stays done; chunk 2 left nothing

    monkeypatch.setitem(close_registry._registry, "accrue_penalty", spec)
    run = business_day_close()
    assert run.status == CloseStatus.DONE and run.error == ""
    assert business_date_today() == date(2026, 3, 11)
    assert _penalised() == sorted(loan.pk for loan in loans)
    assert not _unbalanced_entries()


@pytest.mark.django_db(transaction=True)
def test_two_closes_started_at_once_change_the_book_once(bank, small_chunks):
    _loans(5)
    set_business_date(OVERDUE_DAY)
    errors = []

    def close():
        try:
            business_day_close(business_date=OVERDUE_DAY)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=close) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    assert business_date_today() == date(2026, 3, 11)
    entries, _total, _day = _book()
    # Five loans: one origination each, the interest of Feb 28 once, and one penalty entry per
    # chunk of two loans.
    assert entries == {"disbursement": 5, "interest_accrual": 5, "penalty_accrual": 3}
    assert len(_penalised()) == 5
    assert CloseChunk.objects.filter(step__run__business_date=OVERDUE_DAY).exclude(
        status=CloseStatus.DONE).count() == 0
    assert not _unbalanced_entries()


@pytest.mark.django_db(transaction=True)
def test_a_repayment_goes_through_while_a_close_runs(bank, small_chunks):
    loans = _loans(5)
    set_business_date(OVERDUE_DAY)
    repaid = []

    def repay():
        try:
            repaid.append(loan_repay(loan_id=loans[4].pk, amount="100.00",
                                     idempotency_key="during-close", scope="test"))
        finally:
            connection.close()

    def progress(step, done, total):
        # Between the chunks of the penalty step: the repayment must not wait for the step.
        if step == "accrue_penalty" and done == 1 and not repaid:
            thread = threading.Thread(target=repay)
            thread.start()
            thread.join(timeout=30)
            assert not thread.is_alive(), "the repayment waited for the whole step"

    run = business_day_close(progress=progress)
    assert run.status == CloseStatus.DONE and len(repaid) == 1
    assert not _unbalanced_entries()
    assert len(_penalised()) == 5


@pytest.mark.django_db
def test_recorded_seconds_include_the_deferred_ledger_checks(bank):
    """The chunk's clock stops after SET CONSTRAINTS ALL IMMEDIATE, so an unbalanced entry
    fails the chunk (not the commit after it) and its check is inside the recorded time."""
    _loans(1)
    set_business_date(OVERDUE_DAY)
    spec = close_registry.close_step_named("accrue_penalty")

    def books_an_unbalanced_entry(day, first_id, last_id):
        entry = JournalEntry.objects.create(kind="penalty_accrual", business_date=day,
                                            loan_id=first_id)
        Posting.objects.create(entry=entry, account=LedgerAccount.objects.first(),
                               loan_id=first_id, amount=Decimal("1.00"))
        return 1

    close_registry._registry["accrue_penalty"] = dataclasses.replace(
        spec, run=books_an_unbalanced_entry)
    try:
        with pytest.raises(CloseFailed, match="does not balance"):
            business_day_close()
    finally:
        close_registry._registry["accrue_penalty"] = spec
    assert CloseChunk.objects.get(step__step="accrue_penalty").status == CloseStatus.FAILED


@pytest.mark.django_db
def test_the_admin_shows_a_stopped_runs_progress_and_resumes_it(
        admin_client, bank, small_chunks, monkeypatch):
    loans = _loans(3)
    set_business_date(OVERDUE_DAY)
    spec = close_registry.close_step_named("accrue_penalty")

    def fails_on_the_second_chunk(day, first_id, last_id):
        if first_id == loans[2].pk:
            raise RuntimeError("disk full")
        return spec.run(day, first_id, last_id)

    monkeypatch.setitem(close_registry._registry, "accrue_penalty",
                        dataclasses.replace(spec, run=fails_on_the_second_chunk))
    with pytest.raises(CloseFailed):
        business_day_close()
    run = CloseRun.objects.get(business_date=OVERDUE_DAY)
    page = admin_client.get(f"/admin/operations/closerun/{run.pk}/change/").content.decode()
    assert "accrue_penalty: 1 of 2 chunks" in page and "disk full" in page

    monkeypatch.setitem(close_registry._registry, "accrue_penalty", spec)
    response = admin_client.post("/admin/operations/closerun/",
                                 {"action": "resume", "_selected_action": [run.pk]}, follow=True)
    assert f"The close of {OVERDUE_DAY} is done." in response.content.decode()
    run.refresh_from_db()
    assert run.status == CloseStatus.DONE and business_date_today() == date(2026, 3, 11)


@pytest.mark.django_db
def test_staff_without_the_permission_cannot_resume_a_close(client, bank):
    from django.contrib.auth.models import Group

    from accounts.models import User
    from accounts.roles import RISK_OFFICER

    officer = User.objects.create_user("officer", password="x", is_staff=True)
    officer.groups.add(Group.objects.get(name=RISK_OFFICER))
    client.force_login(officer)
    assert client.get("/admin/operations/closerun/").status_code == 200
    page = client.get("/admin/operations/closerun/").content.decode()
    assert "resume" not in page


@pytest.mark.django_db(transaction=True)
def test_a_chunk_is_planned_without_parallel_workers_and_for_a_book_in_memory(
        bank, monkeypatch):
    """Each chunk's transaction plans its statements for the close (no parallel workers, random
    reads costed for a book in memory), and only its own: the settings end with it."""
    _loans(1)
    set_business_date(OVERDUE_DAY)
    spec = close_registry.close_step_named("accrue_penalty")
    seen = []

    def settings_seen(day, first_id, last_id):
        with connection.cursor() as cursor:
            cursor.execute("SHOW max_parallel_workers_per_gather")
            workers = cursor.fetchone()[0]
            cursor.execute("SHOW random_page_cost")
            seen.append((workers, cursor.fetchone()[0]))
        return spec.run(day, first_id, last_id)

    monkeypatch.setitem(close_registry._registry, "accrue_penalty",
                        dataclasses.replace(spec, run=settings_seen))
    with connection.cursor() as cursor:
        cursor.execute("SHOW max_parallel_workers_per_gather")
        default = cursor.fetchone()[0]
    business_day_close()
    assert seen == [("0", "1.1")]
    with connection.cursor() as cursor:
        cursor.execute("SHOW max_parallel_workers_per_gather")
        assert cursor.fetchone()[0] == default != "0"
