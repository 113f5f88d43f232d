# The block list names a person: a valid identity number stored as profiles store it, the full
# name and the date of birth (risk.services.block_list). Entries made before keep what they
# have: their numbers are normalised here (upper case, no spaces), their date of birth is read
# from the number when it holds a real date, and their name is taken from a customer profile
# with the same number if there is one.

import re
from datetime import date

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def _normalised(number):
    return re.sub(r"\s+", "", number or "").upper()


def _birth_date(number):
    if not re.fullmatch(r"[0-9]{17}[0-9X]", number):
        return None
    try:
        return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None


def entries_complete(apps, schema_editor):
    BlockListEntry = apps.get_model("risk", "BlockListEntry")
    CustomerProfile = apps.get_model("accounts", "CustomerProfile")
    people = {}
    for entry in BlockListEntry.objects.order_by("pk"):
        people.setdefault(_normalised(entry.id_number), []).append(entry)
    for number, entries in people.items():
        # "x" and "X" typed for one person: one entry, the one already stored as it should be
        # (else the first), with every reason.
        keep = next((e for e in entries if e.id_number == number), entries[0])
        others = [e for e in entries if e.pk != keep.pk]
        if others:
            keep.reason = "\n".join(e.reason for e in [keep, *others])
            BlockListEntry.objects.filter(pk__in=[e.pk for e in others]).delete()
        keep.id_number = number
        keep.birth_date = _birth_date(number)
        profile = (CustomerProfile.objects.filter(id_number=number).exclude(id_number="")
                   .order_by("pk").first())
        if profile is not None:
            keep.full_name = " ".join(profile.full_name.split())
            keep.customer_id = profile.user_id
        keep.save(update_fields=["id_number", "reason", "birth_date", "full_name", "customer"])


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0003_profile_risk_inputs"),
        ("risk", "0002_declines_index"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="blocklistentry",
            name="full_name",
            field=models.CharField(blank=True, max_length=120),
        ),
        migrations.AddField(
            model_name="blocklistentry",
            name="birth_date",
            field=models.DateField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="blocklistentry",
            name="customer",
            field=models.ForeignKey(blank=True, null=True,
                                    on_delete=django.db.models.deletion.PROTECT,
                                    related_name="+", to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddIndex(
            model_name="blocklistentry",
            index=models.Index(fields=["birth_date"], name="block_list_by_birth_date"),
        ),
        migrations.RunPython(entries_complete, migrations.RunPython.noop),
    ]
