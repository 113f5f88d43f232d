"""Usernames are unique whatever their letter case, and as long as an e-mail address.

Customers now sign up with their e-mail address as their username, so the column is widened to
the e-mail column's 254 characters, and a unique index on lower(username) stops "Alice" and
"alice" from both existing (two sign-ups at the same moment used to make both). Logins look a
name up in any case (`accounts.models.UserManager`).

Existing rows are checked first: if two usernames differ only in case the migration stops and
names them, rather than failing on the index with PostgreSQL's message. The demo seeding
("demo", "customer01", staff names) and the simulator ("sim2026-000001") make lower-case names
only, so their databases pass."""

import django.contrib.auth.validators
import django.db.models.functions.text
from django.db import migrations, models
from django.db.models import Count
from django.db.models.functions import Lower

import accounts.models


def refuse_usernames_differing_only_in_case(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    clashes = (User.objects.using(schema_editor.connection.alias)
               .values(lowered=Lower("username")).annotate(n=Count("id")).filter(n__gt=1)
               .values_list("lowered", flat=True))
    clashes = list(clashes[:20])
    if clashes:
        names = sorted(User.objects.using(schema_editor.connection.alias)
                       .annotate(lowered=Lower("username")).filter(lowered__in=clashes)
                       .values_list("username", flat=True))
        raise RuntimeError(
            "Usernames must be unique whatever their letter case, but these differ only in "
            f"case: {', '.join(names)}. Rename all but one of each group (admin, Users), "
            "then migrate again.")


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0003_profile_risk_inputs"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.RunPython(refuse_usernames_differing_only_in_case, migrations.RunPython.noop),
        migrations.AlterModelManagers(
            name="user",
            managers=[
                ("objects", accounts.models.UserManager()),
            ],
        ),
        migrations.AlterField(
            model_name="user",
            name="username",
            field=models.CharField(
                error_messages={"unique": "A user with that username already exists."},
                help_text="Required. 254 characters or fewer. Letters, digits and @/./+/-/_ only.",
                max_length=254, unique=True,
                validators=[django.contrib.auth.validators.UnicodeUsernameValidator()],
                verbose_name="username"),
        ),
        migrations.AddConstraint(
            model_name="user",
            constraint=models.UniqueConstraint(
                django.db.models.functions.text.Lower("username"),
                name="user_username_unique_any_case",
                violation_error_message="A user with that username already exists (in another "
                                        "letter case)."),
        ),
    ]
