"""Collections' own records: the daily picture of the book by delinquency bucket."""

from django.db import models

from core.money import money_field
from lending.models import CreditProduct


class Bucket(models.TextChoices):
    """Delinquency buckets by days past due (lending.rules.delinquency.bucket_of)."""

    CURRENT = "current", "Current"
    M1 = "M1", "M1 (1-30 days)"
    M2 = "M2", "M2 (31-60 days)"
    M3 = "M3", "M3 (61-90 days)"
    M4 = "M4", "M4 (91-180 days)"
    WRITTEN_OFF = "written_off", "Written off"


class BucketSnapshot(models.Model):
    """How many active loans of a product were in a bucket at the close of a business date, and
    their outstanding principal: the raw material of roll rates and the dashboards."""

    business_date = models.DateField()
    product = models.ForeignKey(CreditProduct, on_delete=models.PROTECT, related_name="+")
    bucket = models.CharField(max_length=12, choices=Bucket.choices)
    loans = models.PositiveIntegerField()
    outstanding_principal = money_field()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["business_date", "product", "bucket"],
                                    name="one_snapshot_per_date_product_bucket"),
        ]

    def __str__(self):
        return f"{self.business_date} {self.product.code} {self.bucket}"
