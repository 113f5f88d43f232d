"""Operations' step of the nightly close (docs/architecture.md, "The nightly close"): the
vintage snapshot, after collections' steps (tonight's days past due and write-offs are in it)
and before risk's rescoring, which does not read it."""

from core.close import close_step

from .vintages import vintages_snapshot_take


@close_step(name="snapshot_vintages", order=690)
def snapshot_vintages(day, first_id=None, last_id=None):
    """One chunk: one grouped read of the loans."""
    return vintages_snapshot_take(day=day)
