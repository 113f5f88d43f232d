"""The nightly close (日终): run every declared step for the business date, then advance it.

A close run (`CloseRun`, one per business date) takes the steps in order. When a step starts,
its ids are cut into chunks (`CloseChunk`), each done in a durable transaction of its own that
also marks the chunk done, so a chunk delivered twice, rerun, or cut short by a dead worker is
done exactly once, and a customer's repayment waits at most for one chunk. When the last chunk
of a step is done, whoever finished it (under a lock on the run) closes the step and plans the
next; after the last step the business date advances.

Chunks are dispatched either in the caller's process, one after another (`INLINE`: tests, the
demo, `advance_business_date`), or to Celery workers as a group (`WORKERS`: the beat schedule,
`advance_business_date --workers`). Both paths run the same functions below.

A chunk that fails marks the run failed with its error and stops it; starting the run again
resumes it from the chunks not yet done."""

import time
import traceback

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone

from core.audit import actor_system, audit_event_append
from core.calendar import business_date_advance, business_date_today
from core.close import chunk_bounds, close_step_named, close_steps

from .models import CloseChunk, CloseRun, CloseStatus, CloseStep

# SET LOCAL: for the chunk's transaction only (see _chunk_plans_set).
CHUNK_PLANNER_SETTINGS = ("SET LOCAL max_parallel_workers_per_gather = 0; "
                          "SET LOCAL random_page_cost = 1.1")
INLINE = "inline"
WORKERS = "workers"
ADVANCE_STEP = "advance_business_date"


class CloseFailed(RuntimeError):
    """A close run stopped on a failed chunk; its error is on the run."""


def close_run_start(business_date=None, *, dispatch=INLINE, catch_up=False):
    """Start the close of `business_date` (the current business date by default), or resume it
    if it stopped, and dispatch the chunks to do. Returns the run, or None for a date closed
    before close runs were recorded. Starting a run that is already running dispatches its
    unfinished chunks again, which is harmless: a chunk done is never done twice."""
    current = business_date_today()
    day = business_date or current
    if day > current:
        raise ValueError(f"Cannot close {day}: the business date is {current}.")
    with transaction.atomic(durable=True):
        run, created = CloseRun.objects.select_for_update().get_or_create(
            business_date=day, defaults={"dispatch": dispatch, "catch_up": catch_up})
        if run.status == CloseStatus.DONE:
            return run
        if day < current and created:
            # Closed long ago (the date has advanced past it): nothing to redo.
            run.delete()
            return None
        run.status, run.error, run.dispatch = CloseStatus.RUNNING, "", dispatch
        run.save(update_fields=["status", "error", "dispatch"])
        pending = _unfinished_chunks(run)
        if not pending:
            pending = _steps_advance(run)
    _dispatch(run, pending)
    return run


def close_chunk_run(chunk_id) -> bool:
    """Do one chunk in its own transaction, unless it is done already. Returns whether it did
    the work. A failure marks the chunk and its run failed, then re-raises."""
    chunk = None
    try:
        with transaction.atomic(durable=True):
            # A second delivery of the same chunk waits here until the first commits, then
            # finds it done.
            chunk = locked = (CloseChunk.objects.select_for_update(of=("self",))
                              .select_related("step").get(pk=chunk_id))
            if locked.status == CloseStatus.DONE:
                return False
            started = time.perf_counter()
            _chunk_plans_set()
            spec = close_step_named(locked.step.step)
            rows = spec.run(locked.step.business_date, locked.first_id, locked.last_id)
            _deferred_checks_run()
            locked.rows, locked.seconds = rows, time.perf_counter() - started
            locked.status, locked.error, locked.finished_at = CloseStatus.DONE, "", timezone.now()
            locked.save(update_fields=["rows", "seconds", "status", "error", "finished_at"])
    except Exception as exc:
        if chunk is not None:
            _chunk_failed(chunk, exc)
        raise
    return True


def close_step_complete(run_id) -> list[int]:
    """Called after a chunk is done: if it was the step's last, close the step and plan the
    next (or advance the date after the last). Returns the chunks newly planned, to dispatch.
    Runs under a lock on the run, so of two chunks finishing at once only one moves on."""
    with transaction.atomic(durable=True):
        run = CloseRun.objects.select_for_update().get(pk=run_id)
        if run.status != CloseStatus.RUNNING or _unfinished_chunks(run):
            return []
        return _steps_advance(run)


def business_day_close(*, business_date=None, dispatch=INLINE, progress=None):
    """Close one business date. Inline, the whole close runs here and the finished run is
    returned (a failure raises CloseFailed); through the workers, the run is returned as soon as
    its first chunks are queued. `progress(step, done, total)` is told of each chunk done
    inline."""
    run = close_run_start(business_date, dispatch=dispatch)
    if run is None or dispatch != INLINE or run.status == CloseStatus.DONE:
        return run
    pending = _unfinished_chunks(run)
    while pending:
        # The chunks of one step, in order. Its name is read only to report on them: most
        # nights are a dozen steps of one small chunk each, and a query per step adds up.
        step = _step_of_chunk(pending[0]) if progress is not None else None
        for number, chunk_id in enumerate(pending, start=1):
            try:
                close_chunk_run(chunk_id)
            except Exception as exc:
                raise CloseFailed(f"The close of {run.business_date} failed in step "
                                  f"{_step_of_chunk(chunk_id)}: {exc}") from exc
            if progress is not None:
                progress(step, number, len(pending))
        pending = close_step_complete(run.pk)
    run.refresh_from_db()
    return run


def business_days_advance(*, days: int, dispatch=INLINE, progress=None, poll_seconds=0.5):
    """Close `days` business dates in a row: a month of life in a minute. Through the
    workers, each date's run is awaited before the next starts."""
    if days < 1:
        raise ValueError("days must be at least 1")
    runs = []
    for _ in range(days):
        run = business_day_close(dispatch=dispatch, progress=progress)
        if dispatch != INLINE:
            run = close_run_wait(run.pk, progress=progress, poll_seconds=poll_seconds)
        runs.append(run)
    return runs


def close_run_wait(run_id, *, progress=None, poll_seconds=0.5, timeout=None):
    """Wait for a run dispatched to the workers to finish; raise CloseFailed if it fails."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        run = CloseRun.objects.get(pk=run_id)
        if run.status == CloseStatus.DONE:
            return run
        if run.status == CloseStatus.FAILED:
            raise CloseFailed(f"The close of {run.business_date} failed: {run.error}")
        if progress is not None and run.current_step:
            step = run.steps.get(step=run.current_step)
            done = step.chunks.filter(status=CloseStatus.DONE).count()
            progress(step.step, done, step.chunks_total)
        if deadline is not None and time.monotonic() > deadline:
            raise TimeoutError(f"The close of {run.business_date} is still running.")
        time.sleep(poll_seconds)


def business_dates_catch_up(*, calendar_date=None, dispatch=INLINE):
    """Close every business date before `calendar_date` (today's by default): what the
    scheduled close does. The scheduler is the one place where the wall clock meets the
    business date. Through the workers, only the first date is started here; each run, once
    done, starts the next (`catch_up`)."""
    calendar_date = calendar_date or timezone.localdate()
    closed = []
    while business_date_today() < calendar_date:
        run = close_run_start(dispatch=dispatch, catch_up=True)
        if dispatch != INLINE:
            return [run]
        closed.append(business_day_close())
    return closed


def _step_of_chunk(chunk_id) -> str:
    return CloseChunk.objects.values_list("step__step", flat=True).get(pk=chunk_id)


def _unfinished_chunks(run) -> list[int]:
    if not run.current_step:
        return []
    return list(CloseChunk.objects.filter(step__run=run, step__step=run.current_step)
                .exclude(status=CloseStatus.DONE).order_by("seq").values_list("pk", flat=True))


def _steps_advance(run) -> list[int]:
    """Close the run's current step (all its chunks are done) and plan the next steps until one
    has chunks to do; after the last, advance the business date. In the caller's transaction,
    with the run locked. Steps with nothing to do tonight are recorded together, in one insert:
    most nights most steps have nothing to do, and the close must stay cheap then."""
    steps = close_steps()
    if run.current_step:
        _step_finish(run)
        order = close_step_named(run.current_step).order
        steps = [spec for spec in steps if spec.order > order]
    idle = []
    for spec in steps:
        # The step's clock starts before its ids are read: finding the work is part of it.
        planned_at = timezone.now()
        bounds = _chunks_of(spec, run.business_date)
        if not bounds:
            idle.append(spec)
            continue
        step = _steps_record(run, idle, running=CloseStep(
            run=run, business_date=run.business_date, step=spec.name, order=spec.order,
            status=CloseStatus.RUNNING, chunks_total=len(bounds), started_at=planned_at))
        chunks = CloseChunk.objects.bulk_create(
            CloseChunk(step=step, seq=seq, first_id=first, last_id=last)
            for seq, (first, last) in enumerate(bounds, start=1))
        run.current_step = spec.name
        run.save(update_fields=["current_step"])
        return [chunk.pk for chunk in chunks]
    _steps_record(run, idle)
    _run_finish(run)
    return []


def _chunks_of(spec, day) -> list[tuple]:
    """The step's work cut into chunks, once, when it starts: a resumed run keeps the chunks it
    was given, whatever has changed since."""
    if spec.ids is None:
        return [(None, None)]
    return chunk_bounds(spec.ids(day), settings.CLOSE_CHUNK_SIZE)


def _steps_record(run, idle, *, running=None):
    """Record the steps `idle` (specs) as done with nothing to do and the step `running`
    (unsaved) after them, in one insert; returns `running`, saved."""
    now = timezone.now()
    steps = [CloseStep(run=run, business_date=run.business_date, step=spec.name,
                       order=spec.order, status=CloseStatus.DONE, started_at=now,
                       finished_at=now) for spec in idle]
    if running is not None:
        steps.append(running)
    CloseStep.objects.bulk_create(steps)
    idle.clear()
    return running


def _step_finish(run):
    """Close the run's current step, all its chunks done; its rows are theirs."""
    step = run.steps.annotate(chunk_rows=Sum("chunks__rows")).get(step=run.current_step)
    step.rows = step.chunk_rows or 0
    step.chunks_done = step.chunks_total
    step.status, step.finished_at = CloseStatus.DONE, timezone.now()
    # Wall clock from planning to the last chunk's commit: what the night waited for.
    step.seconds = (step.finished_at - step.started_at).total_seconds()
    step.save(update_fields=["rows", "chunks_done", "status", "finished_at", "seconds"])


def _run_finish(run):
    """Advance the business date, record it as the last step, and put the night on the audit
    trail: one event per date with every step's rows."""
    business_date_advance(from_day=run.business_date)
    now = timezone.now()
    CloseStep.objects.create(
        run=run, business_date=run.business_date, step=ADVANCE_STEP,
        order=max((s.order for s in close_steps()), default=0) + 1, status=CloseStatus.DONE,
        rows=1, started_at=now, finished_at=now)
    run.status, run.current_step, run.finished_at = CloseStatus.DONE, "", now
    run.seconds = (now - run.started_at).total_seconds()
    run.save(update_fields=["status", "current_step", "finished_at", "seconds"])
    audit_event_append(actor=actor_system("nightly_close"), action="close.run",
                       subject_kind="close", subject_id=run.business_date.isoformat(),
                       payload={"steps": dict(run.steps.order_by("order")
                                              .values_list("step", "rows"))})
    if run.catch_up and run.dispatch == WORKERS:
        # Imported here: the tasks module imports this one.
        from .tasks import run_nightly_close

        transaction.on_commit(run_nightly_close.delay)


def _chunk_plans_set():
    """Planner settings for this chunk's transaction (JIT is off on every connection). A chunk
    is one of many running at once, a worker per core: a parallel plan's extra processes only
    take cores from the other chunks (a parallel scan of a million scores read 5,000 of them
    in 64 ms where an index takes 4). And the book is read from memory, where a random read
    costs about what a sequential one does: at PostgreSQL's default (4x) the planner hashed a
    whole table of repayments where the rescoring's chunk needs 5,000 index probes."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(CHUNK_PLANNER_SETTINGS)


def _deferred_checks_run():
    """Run the database's deferred checks (the ledger's balance) now rather than at COMMIT, so
    that a chunk's recorded seconds include them and a violation fails the chunk in place."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def _chunk_failed(chunk, exc):
    error = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    with transaction.atomic(durable=True):
        CloseChunk.objects.filter(pk=chunk.pk).update(status=CloseStatus.FAILED, error=error)
        CloseRun.objects.filter(pk=chunk.step.run_id).update(
            status=CloseStatus.FAILED,
            error=f"Step {chunk.step.step}, chunk {chunk.seq} (ids {chunk.first_id} to "
                  f"{chunk.last_id}): {error}")


def _dispatch(run, chunk_ids):
    """Send chunks to be done: through the workers as one group, after the commit that planned
    them; inline, the caller (business_day_close) runs them itself."""
    if not chunk_ids or run.dispatch != WORKERS:
        return
    # Imported here: the tasks module imports this one.
    from .tasks import close_chunks_dispatch

    transaction.on_commit(lambda: close_chunks_dispatch(run.pk, chunk_ids))
