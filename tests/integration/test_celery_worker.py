"""The nightly close through real Celery workers and the Redis broker: a close run to the end,
a redelivered start, and a worker killed in the middle of a chunk."""

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Sum

from config.celery import app
from core.calendar import business_date_today
from lending.models import InstalmentStatus, JournalEntry, Posting
from lending.services import loan_originate
from operations.models import CloseRun, CloseStatus, CloseStep
from operations.nightly_close import WORKERS, close_run_start, close_run_wait
from operations.tasks import run_close_chunk, run_nightly_close
from tests.factories import CreditLineFactory, partner_bank, set_business_date

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
DAY = date(2026, 3, 3)  # the first instalments (due Feb 28, 3 grace days) turn overdue


def _needs_broker():
    if settings.CELERY_TASK_ALWAYS_EAGER:
        pytest.fail("REDIS_URL must be set: this test needs the real broker (make test sets it).")


@pytest.fixture
def worker():
    _needs_broker()
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30,
                      queues=["close", "celery"]) as w:
        yield w


def _loans(count):
    partner_bank()
    set_business_date(date(2026, 1, 31))
    return [loan_originate(line_id=CreditLineFactory().pk, principal="10000", term_months=12,
                           method="equal_instalment", idempotency_key=f"k{n}", scope="test")
            for n in range(count)]


def _unbalanced_entries():
    return list(Posting.objects.values("entry_id").annotate(total=Sum("amount"))
                .exclude(total=0).values_list("entry_id", flat=True))


def test_nightly_close_runs_on_a_real_worker_and_a_redelivery_changes_nothing(worker):
    _loans(1)
    set_business_date(DAY)

    result = run_nightly_close.delay(DAY.isoformat()).get(timeout=60)
    run = close_run_wait(result["run"], timeout=120)
    assert run.status == CloseStatus.DONE
    assert business_date_today() == date(2026, 3, 4)
    steps = dict(CloseStep.objects.filter(business_date=DAY).values_list("step", "rows"))
    assert steps["mark_overdue"] == 1 and steps["accrue_penalty"] == 1
    entries = JournalEntry.objects.count()

    # The same message delivered again (acks_late redelivery) finds the date closed.
    run_nightly_close.delay(DAY.isoformat()).get(timeout=60)
    assert business_date_today() == date(2026, 3, 4)
    assert JournalEntry.objects.count() == entries
    assert CloseStep.objects.filter(business_date=DAY).count() == len(steps)


def test_the_close_is_seeded_on_the_database_beat_schedule():
    """The data migration's seed puts the close on django-celery-beat's schedule, the task it
    names is registered and safe to redeliver."""
    from importlib import import_module

    from django.apps import apps as django_apps
    from django_celery_beat.models import PeriodicTask

    assert settings.CELERY_BEAT_SCHEDULER == "django_celery_beat.schedulers:DatabaseScheduler"
    seed = import_module("operations.migrations.0003_beat_schedule_nightly_close")
    PeriodicTask.objects.filter(name=seed.TASK_NAME).delete()
    seed.seed(django_apps, None)
    task = PeriodicTask.objects.get(name=seed.TASK_NAME)
    assert task.enabled and (task.crontab.hour, task.crontab.minute) == ("0", "30")
    assert task.task == run_nightly_close.name and run_nightly_close.name in app.tasks
    assert run_nightly_close.acks_late and run_nightly_close.reject_on_worker_lost
    assert run_close_chunk.acks_late and run_close_chunk.reject_on_worker_lost


class _Worker:
    """`celery worker` in a process of its own, with one pool process doing the tasks, so that
    the pool process can be killed the way the kernel's OOM killer would kill it."""

    def __init__(self):
        db = connection.settings_dict
        env = dict(os.environ,
                   DJANGO_SETTINGS_MODULE="config.settings.test",
                   DATABASE_URL=f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
                   CLOSE_CHUNK_SIZE=str(settings.CLOSE_CHUNK_SIZE))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=prefork",
             "--concurrency=1", "-Q", "close,celery", "--loglevel=INFO", "--without-mingle",
             "--without-gossip"],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines = []
        threading.Thread(target=self._read, daemon=True).start()
        self._wait_for("ready", 60)

    def _read(self):
        for line in self.process.stdout:
            self.lines.append(line)

    def _wait_for(self, text, seconds):
        deadline = time.monotonic() + seconds
        while not any(text in line for line in self.lines):
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise AssertionError("worker: " + "".join(self.lines[-30:]))
            time.sleep(0.2)

    def pool_pids(self):
        out = subprocess.run(["pgrep", "-P", str(self.process.pid)], capture_output=True,
                             text=True).stdout
        return [int(pid) for pid in out.split()]

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()


def _backend_waiting_on_advisory_lock(seconds=60):
    deadline = time.monotonic() + seconds
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT pid FROM pg_stat_activity WHERE wait_event = 'advisory' "
                           "AND datname = current_database()")
            if cursor.fetchone():
                return
            time.sleep(0.2)
    raise AssertionError("no chunk reached the lock")


def test_a_worker_killed_mid_chunk_leaves_nothing_half_done_and_the_run_resumes(settings):
    _needs_broker()
    settings.CLOSE_CHUNK_SIZE = 2
    loans = _loans(5)
    set_business_date(DAY)
    # A test-only trigger makes the penalty chunk of the third and fourth loans stop after it
    # has charged their instalments and written its journal entry, in the middle of its
    # postings, on a lock this test holds.
    with connection.cursor() as cursor:
        cursor.execute(f"""
            CREATE FUNCTION test_hold_penalty() RETURNS trigger AS $$
            BEGIN
                IF NEW.loan_id = {loans[2].pk} AND NEW.amount > 0 AND EXISTS (
                        SELECT 1 FROM lending_journalentry e
                        WHERE e.id = NEW.entry_id AND e.kind = 'penalty_accrual') THEN
                    PERFORM pg_advisory_xact_lock(4242);
                END IF;
                RETURN NEW;
            END $$ LANGUAGE plpgsql;
            CREATE TRIGGER test_hold_penalty AFTER INSERT ON lending_posting
                FOR EACH ROW EXECUTE FUNCTION test_hold_penalty();""")
    holding, release = threading.Event(), threading.Event()

    def hold_the_lock():
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(4242)")
                holding.set()
                release.wait(180)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_lock)
    holder.start()
    holding.wait(30)
    worker = _Worker()
    try:
        run = close_run_start(DAY, dispatch=WORKERS)
        _backend_waiting_on_advisory_lock()
        [pool_pid] = worker.pool_pids()
        os.kill(pool_pid, signal.SIGKILL)
        worker._wait_for("SIGKILL", 60)
        # The dead process's transaction is rolled back; the chunk is redelivered to the new
        # pool process. Starting the run again (an operator resuming it) is harmless too.
        close_run_start(DAY, dispatch=WORKERS)
        release.set()
        holder.join(60)
        run = close_run_wait(run.pk, timeout=180)
    finally:
        release.set()
        worker.stop()
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER IF EXISTS test_hold_penalty ON lending_posting; "
                           "DROP FUNCTION IF EXISTS test_hold_penalty()")

    assert run.status == CloseStatus.DONE and business_date_today() == date(2026, 3, 4)
    assert not _unbalanced_entries()
    penalties = dict(Posting.objects.filter(entry__kind="penalty_accrual", loan__isnull=False)
                     .values_list("loan_id").annotate(n=Count("pk")))
    assert penalties == {loan.pk: 1 for loan in loans}
    for loan in loans:
        loan.refresh_from_db()
        first = loan.instalments.get(seq=1)
        assert first.status == InstalmentStatus.OVERDUE and loan.days_past_due == 4
        # Four days of penalty (Mar 1-4) at round_half_up(916.80 x 0.0005) = 0.46: once.
        assert str(first.penalty_due) == "1.84"
    assert CloseRun.objects.get(pk=run.pk).error == ""
