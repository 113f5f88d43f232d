from django.db import migrations
from django.utils import timezone

PLATFORM_ACCOUNTS = [
    ("cash", "Cash", "asset"),
    ("interest_receivable", "Interest receivable", "asset"),
    ("interest_income", "Interest income", "income"),
    ("fee_income", "Fee income", "income"),
    ("penalty_income", "Penalty income", "income"),
    ("principal_receivable:platform", "Principal receivable (platform-funded)", "asset"),
]


def forwards(apps, schema_editor):
    # The business date starts on the day of installation; from then on only the close moves it.
    BusinessDate = apps.get_model("lending", "BusinessDate")
    BusinessDate.objects.get_or_create(singleton=True, defaults={"current": timezone.localdate()})
    LedgerAccount = apps.get_model("lending", "LedgerAccount")
    for code, name, kind in PLATFORM_ACCOUNTS:
        LedgerAccount.objects.get_or_create(code=code, defaults={"name": name, "kind": kind})


class Migration(migrations.Migration):
    dependencies = [("lending", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
