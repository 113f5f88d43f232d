"""Risk's steps of the nightly close (docs/architecture.md, "The nightly close"): the B-card
rescores every open line and acts on it, after the overdue steps (so that tonight's days past
due and freezes are in its features), then the models' score distributions are recorded."""

from core.close import close_step

from .services.model_watch import score_distributions_record
from .services.rescoring import lines_rescore
from .services.rescoring_selection import customers_to_rescore


@close_step(name="rescore_lines", order=700, ids=customers_to_rescore)
def rescore_lines(day, first_id, last_id):
    return lines_rescore(day=day, first_id=first_id, last_id=last_id)


@close_step(name="watch_models", order=750)
def watch_models(day, first_id=None, last_id=None):
    """One chunk: one pass over the latest scores per model in service."""
    return score_distributions_record(day=day)
