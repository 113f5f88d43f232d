# Offers customers cannot steer: the income each decision used and why, officers' income
# verifications, offers closed when another is accepted, and a cooling-off after every decision
# (the index now covers approvals as well as declines). Decisions made before keep the income
# their model saw as the figure they used, so the next decision compares with it.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.db.models.fields.json import KT
from django.db.models.functions import Cast


def incomes_from_inputs(apps, schema_editor):
    CreditDecision = apps.get_model("risk", "CreditDecision")
    income = Cast(KT("inputs__monthly_income"), models.DecimalField(max_digits=18,
                                                                      decimal_places=2))
    CreditDecision.objects.filter(income_used__isnull=True,
                                  inputs__monthly_income__isnull=False).update(
        income_declared=income, income_used=income, income_basis="declared",
        income_note="Recorded before incomes were: the monthly income the model saw.")


class Migration(migrations.Migration):

    dependencies = [
        ("risk", "0003_block_list_person"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="creditdecision",
            name="income_declared",
            field=models.DecimalField(blank=True, decimal_places=2, max_digits=18, null=True),
        ),
        migrations.AddField(
            model_name="creditdecision",
            name="income_used",
            field=models.DecimalField(blank=True, decimal_places=2, max_digits=18, null=True),
        ),
        migrations.AddField(
            model_name="creditdecision",
            name="income_basis",
            field=models.CharField(blank=True, choices=[
                ("declared", "Declared by the customer"),
                ("verified", "Verified by an officer"),
                ("unverified_change", "Lower figure: a large change not yet verified")],
                max_length=20),
        ),
        migrations.AddField(
            model_name="creditdecision",
            name="income_note",
            field=models.TextField(blank=True),
        ),
        migrations.AddField(
            model_name="creditdecision",
            name="closed_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="creditdecision",
            name="closed_by",
            field=models.ForeignKey(
                blank=True, help_text="The decision whose acceptance closed this offer.",
                null=True, on_delete=django.db.models.deletion.PROTECT,
                related_name="offers_closed", to="risk.creditdecision"),
        ),
        migrations.AddConstraint(
            model_name="creditdecision",
            constraint=models.CheckConstraint(
                condition=models.Q(("accepted_at__isnull", True), ("closed_at__isnull", True),
                                   _connector="OR"),
                name="offer_accepted_or_closed_not_both"),
        ),
        migrations.RemoveIndex(
            model_name="creditdecision",
            name="declines_by_customer",
        ),
        migrations.AddIndex(
            model_name="creditdecision",
            index=models.Index(fields=["customer", "product", "reapply_on"],
                               name="decisions_cooling_off"),
        ),
        migrations.CreateModel(
            name="IncomeVerification",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False,
                                           verbose_name="ID")),
                ("monthly_income", models.DecimalField(decimal_places=2, max_digits=18)),
                ("declared_income", models.DecimalField(decimal_places=2, max_digits=18)),
                ("evidence", models.TextField(help_text="What the officer saw.")),
                ("business_date", models.DateField()),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("customer", models.ForeignKey(
                    on_delete=django.db.models.deletion.PROTECT,
                    related_name="income_verifications", to=settings.AUTH_USER_MODEL)),
                ("verified_by", models.ForeignKey(
                    on_delete=django.db.models.deletion.PROTECT, related_name="+",
                    to=settings.AUTH_USER_MODEL)),
            ],
            options={
                "indexes": [models.Index(fields=["customer", "-created_at"],
                                         name="verifications_by_customer")],
                "constraints": [models.CheckConstraint(
                    condition=models.Q(("monthly_income__gte", 0)),
                    name="verified_income_not_negative")],
            },
        ),
        migrations.RunPython(incomes_from_inputs, migrations.RunPython.noop),
    ]
