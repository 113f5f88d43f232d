"""The nightly close writes fewer and cheaper rows (docs/architecture.md, "The nightly close").

* Penalty is booked as one journal entry per close chunk instead of one per loan: each loan
  keeps its own receivable leg (a posting with its loan), the chunk's income is one leg. A
  third of the rows, and of their foreign-key checks, on the close's largest write. One charge
  per loan and night is held by `Instalment.penalty_charged_through`, set in the statement that
  adds the night's penalty, so the per-loan unique index on the journal (0007) goes.
* `Loan.overdue_since`, the due date days past due count from, keys the index of delinquent
  loans instead of days past due, which the close moves on by a day for every delinquent loan
  every night: with no indexed column changed, PostgreSQL can update those rows in place.
* Room for that: loans and instalments keep 15 % of each page free (fillfactor 85), so the
  close's nightly updates (days past due, penalty) stay on their page and touch no index.
  Pages written before this migration get the room when the table is next rewritten
  (VACUUM FULL or pg_repack); new pages get it at once.
"""

from datetime import timedelta

from django.db import migrations, models


def overdue_since_fill(apps, schema_editor):
    """Days past due were counted on the current business date from the oldest overdue due
    date, so that date is the business date less the days."""
    BusinessDate = apps.get_model("core", "BusinessDate")
    Loan = apps.get_model("lending", "Loan")
    today = BusinessDate.objects.values_list("current", flat=True).first()
    if today is None:
        return
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("UPDATE lending_loan SET overdue_since = %s::date - days_past_due "
                              "WHERE days_past_due > 0", params=[today])
        return
    for loan in Loan.objects.filter(days_past_due__gt=0).only("pk", "days_past_due"):
        Loan.objects.filter(pk=loan.pk).update(
            overdue_since=today - timedelta(days=loan.days_past_due))


def fillfactor(value):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for table in ("lending_loan", "lending_instalment"):
                schema_editor.execute(f"ALTER TABLE {table} SET (fillfactor = {value})")
    return run


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_initial"),
        ("lending", "0010_ledger_balance_statement_check"),
    ]

    operations = [
        migrations.AddField(
            model_name="instalment",
            name="penalty_charged_through",
            field=models.DateField(blank=True, null=True),
        ),
        migrations.RunSQL(
            "DROP INDEX IF EXISTS lending_one_penalty_accrual_per_loan_day",
            "CREATE UNIQUE INDEX lending_one_penalty_accrual_per_loan_day "
            "ON lending_journalentry (loan_id, business_date) WHERE kind = 'penalty_accrual'",
        ),
        migrations.RemoveIndex(model_name="loan", name="loan_delinquent"),
        migrations.AddField(
            model_name="loan",
            name="overdue_since",
            field=models.DateField(blank=True, null=True),
        ),
        migrations.RunPython(overdue_since_fill, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="loan",
            index=models.Index(condition=models.Q(("overdue_since__isnull", False),
                                                  ("status", "active")),
                               fields=["id", "overdue_since"], name="loan_delinquent"),
        ),
        migrations.AddConstraint(
            model_name="loan",
            constraint=models.CheckConstraint(
                condition=models.Q(models.Q(("days_past_due", 0), ("overdue_since__isnull", True)),
                                   models.Q(("days_past_due__gt", 0),
                                            ("overdue_since__isnull", False)),
                                   _connector="OR"),
                name="loan_past_due_since_a_date"),
        ),
        migrations.RunPython(fillfactor(85), fillfactor(100)),
    ]
