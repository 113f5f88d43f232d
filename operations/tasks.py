"""Celery tasks of the nightly close: thin, id-taking, safe to run twice (docs/architecture.md,
"The nightly close")."""

from datetime import date

from celery import group, shared_task

from . import nightly_close


@shared_task(acks_late=True, reject_on_worker_lost=True)
def run_nightly_close(business_date=None):
    """Close one business date (ISO string) through the workers, or, from the beat schedule,
    start closing every date that the calendar has left behind (each run starts the next when
    it is done). A date already closed is a no-op, so redelivery is harmless."""
    if business_date is not None:
        run = nightly_close.close_run_start(date.fromisoformat(business_date),
                                            dispatch=nightly_close.WORKERS)
        return {"run": run.pk if run else None}
    runs = nightly_close.business_dates_catch_up(dispatch=nightly_close.WORKERS)
    return {"runs": [run.pk for run in runs if run is not None]}


@shared_task(acks_late=True, reject_on_worker_lost=True)
def run_close_chunk(run_id, chunk_id):
    """Do one chunk of a close step; if it was the step's last, queue the next step's chunks.
    A redelivered chunk finds itself done and only checks whether the step can move on."""
    nightly_close.close_chunk_run(chunk_id)
    close_chunks_dispatch(run_id, nightly_close.close_step_complete(run_id))


def close_chunks_dispatch(run_id, chunk_ids):
    """Queue chunks as one group: each worker takes the next chunk as it frees up."""
    if chunk_ids:
        group(run_close_chunk.si(run_id, chunk_id) for chunk_id in chunk_ids).apply_async()
