"""The baseline's table: one row per request of the one-INSERT view. No foreign key, so that it
can be made by `migrate --run-syncdb` before the product's tables on a fresh database."""

from django.db import models


class BaselineInsert(models.Model):
    customer_id = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"baseline insert {self.pk}"
