"""Celery tasks: thin, id-taking, safe to run twice (docs/architecture.md)."""

from celery import shared_task

from .services.notices import notices_email


@shared_task(acks_late=True, reject_on_worker_lost=True)
def notices_send(notice_ids):
    """E-mail these notices; ones already e-mailed are skipped, so a redelivery sends nothing
    twice."""
    return notices_email(notice_ids=notice_ids)
