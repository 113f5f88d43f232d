"""What the nightly close has done, step by step."""

from django.db import models


class CloseStep(models.Model):
    """One step of the nightly close for one business date; the unique key makes reruns no-ops.

    The table keeps the name it had when the close lived in lending."""

    business_date = models.DateField()
    step = models.CharField(max_length=40)
    rows = models.PositiveIntegerField(default=0)
    seconds = models.FloatField(default=0)
    finished_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "lending_closestep"
        constraints = [models.UniqueConstraint(fields=["business_date", "step"],
                                               name="one_run_per_step_and_date")]

    def __str__(self):
        return f"{self.business_date} {self.step}"
