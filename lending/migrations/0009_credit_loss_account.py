"""Write-offs (lending/services/write_off.py): the chart gains an expense kind, a credit-loss
account for the platform's share of principal written off, and a recovery-income account for
its share of money received on written-off loans. `chart_of_accounts_ensure` makes them on a
new database; this makes them on one that already has a chart."""

from django.db import migrations, models

ACCOUNTS = [
    ("credit_loss", "Credit losses (platform's share of write-offs)", "expense"),
    ("recovery_income", "Recoveries on written-off loans", "income"),
]


def forwards(apps, schema_editor):
    LedgerAccount = apps.get_model("lending", "LedgerAccount")
    for code, name, kind in ACCOUNTS:
        LedgerAccount.objects.get_or_create(code=code, defaults={"name": name, "kind": kind})


class Migration(migrations.Migration):
    dependencies = [
        ("lending", "0008_overdue_consequences"),
    ]
    operations = [
        migrations.AlterField(
            model_name="ledgeraccount",
            name="kind",
            field=models.CharField(choices=[("asset", "Asset"), ("liability", "Liability"),
                                            ("income", "Income"), ("expense", "Expense")],
                                   max_length=10),
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
