"""What the nightly close has done (runs, their steps, the chunks each step was split into) and
the vintages it records for the dashboards."""

from django.db import models

from core.money import money_field


class CloseStatus(models.TextChoices):
    RUNNING = "running", "Running"
    FAILED = "failed", "Failed"
    DONE = "done", "Done"


class CloseRun(models.Model):
    """The close of one business date: its steps run in order, and the date advances last. A
    failed run stops where it failed and resumes from there when started again."""

    business_date = models.DateField(unique=True)
    status = models.CharField(max_length=10, choices=CloseStatus.choices,
                              default=CloseStatus.RUNNING)
    # The step whose chunks are being run; empty before the first and after the last.
    current_step = models.CharField(max_length=40, blank=True)
    # "inline" (in the caller's process) or "workers" (Celery): how chunks are dispatched.
    dispatch = models.CharField(max_length=10, default="inline")
    # Started by the beat schedule: when it is done, the next date the calendar has left
    # behind is closed too.
    catch_up = models.BooleanField(default=False)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    seconds = models.FloatField(default=0)

    class Meta:
        ordering = ["-business_date"]
        permissions = [("resume_closerun", "Can resume a stopped close run")]

    def __str__(self):
        return f"Close of {self.business_date}"


class CloseStep(models.Model):
    """One step of one close: how many chunks it was split into, how many are done, the rows
    they changed, and its wall-clock seconds (commits included) from first chunk to last.

    The table keeps the name it had when the close lived in lending."""

    run = models.ForeignKey(CloseRun, on_delete=models.PROTECT, related_name="steps", null=True)
    business_date = models.DateField()
    step = models.CharField(max_length=40)
    order = models.IntegerField(default=0)
    status = models.CharField(max_length=10, choices=CloseStatus.choices,
                              default=CloseStatus.DONE)
    chunks_total = models.PositiveIntegerField(default=0)
    chunks_done = models.PositiveIntegerField(default=0)
    rows = models.PositiveIntegerField(default=0)
    seconds = models.FloatField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "lending_closestep"
        ordering = ["business_date", "order"]
        constraints = [models.UniqueConstraint(fields=["business_date", "step"],
                                               name="one_run_per_step_and_date")]

    def __str__(self):
        return f"{self.business_date} {self.step}"


class CloseChunk(models.Model):
    """One chunk of a step: the ids from `first_id` to `last_id` (both included; none for a
    step that is one chunk). Done in one transaction together with its own record, so a chunk
    redelivered, rerun, or cut short by a dead worker is done exactly once."""

    step = models.ForeignKey(CloseStep, on_delete=models.PROTECT, related_name="chunks")
    seq = models.PositiveIntegerField()
    first_id = models.BigIntegerField(null=True)
    last_id = models.BigIntegerField(null=True)
    status = models.CharField(max_length=10, choices=CloseStatus.choices,
                              default=CloseStatus.RUNNING)
    rows = models.PositiveIntegerField(default=0)
    # Work and commit together: deferred database checks are run before the clock stops.
    seconds = models.FloatField(default=0)
    error = models.TextField(blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["step_id", "seq"]
        constraints = [models.UniqueConstraint(fields=["step", "seq"],
                                               name="one_chunk_per_step_and_seq")]

    def __str__(self):
        return f"{self.step} #{self.seq}"


class VintageSnapshot(models.Model):
    """The loans of one product disbursed in one month (a vintage), as they stood at the close
    of a business date: how many there were and how many are now 30 or more days past due or
    written off, by count and by principal. Written by the close every night (`snapshot_vintages`),
    one row per date, product and vintage, so the vintage curves (the share 30+ by month on
    book) read a small table instead of the book's history, which the loans do not keep."""

    business_date = models.DateField()
    product = models.ForeignKey("lending.CreditProduct", on_delete=models.PROTECT,
                                related_name="+")
    # The first day of the month the vintage's loans were disbursed in.
    vintage = models.DateField()
    # Every loan of the vintage whatever its status now, and the principal lent.
    loans = models.PositiveIntegerField()
    principal = money_field()
    # Active loans 30 or more days past due, and written-off loans; their outstanding principal.
    loans_30_plus = models.PositiveIntegerField()
    principal_30_plus = money_field()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["business_date", "product", "vintage"],
                                    name="one_vintage_snapshot_per_date_product_vintage"),
            models.CheckConstraint(condition=models.Q(loans_30_plus__lte=models.F("loans")),
                                   name="vintage_30_plus_within_loans"),
        ]

    def __str__(self):
        return f"{self.business_date} {self.vintage:%Y-%m}"
