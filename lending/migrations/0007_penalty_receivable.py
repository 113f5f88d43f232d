"""Penalty interest (罚息) is accrued by the nightly close (lending/services/penalty.py): the
chart gains a penalty receivable, and a partial unique index keeps one penalty accrual per loan
per business date, so the step cannot charge a night twice."""

from django.db import migrations


def forwards(apps, schema_editor):
    LedgerAccount = apps.get_model("lending", "LedgerAccount")
    LedgerAccount.objects.get_or_create(
        code="penalty_receivable", defaults={"name": "Penalty receivable", "kind": "asset"})


class Migration(migrations.Migration):
    dependencies = [("lending", "0006_product_validation")]
    operations = [
        migrations.RunPython(forwards, migrations.RunPython.noop),
        migrations.RunSQL(
            "CREATE UNIQUE INDEX lending_one_penalty_accrual_per_loan_day "
            "ON lending_journalentry (loan_id, business_date) WHERE kind = 'penalty_accrual'",
            "DROP INDEX IF EXISTS lending_one_penalty_accrual_per_loan_day",
        ),
    ]
