# The simulated history's last day on each simulated customer (the B-card's labels and ceiling).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("risk", "0004_decision_offers"),
    ]

    operations = [
        migrations.AddField(
            model_name="simulatedcustomer",
            name="history_end",
            field=models.DateField(blank=True, null=True),
        ),
    ]
