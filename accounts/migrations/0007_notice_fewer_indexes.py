"""Notices keep the indexes something reads: the unique (customer, key) and the inbox's
(customer, read_at). The customer's own index repeated their first column, and nothing looked
notices up by "not e-mailed yet" (the e-mail task is given their ids): on a busy night the close
writes a hundred thousand notices, and each index is one more insert per notice."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0006_one_customer_per_identity"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="notice",
            name="notice_not_emailed",
        ),
        migrations.AlterField(
            model_name="notice",
            name="customer",
            field=models.ForeignKey(db_index=False,
                                    on_delete=django.db.models.deletion.PROTECT,
                                    related_name="notices", to=settings.AUTH_USER_MODEL),
        ),
    ]
