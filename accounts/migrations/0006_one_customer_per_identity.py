"""One identity number, one customer: a partial unique constraint on CustomerProfile.id_number
(a blank number is nobody's yet, so any number of profiles may have one).

Databases made before this rule may hold the same number on several profiles: the population
simulator and the demo seeding drew numbers at random and sometimes drew one twice, and the
profile page never asked whether a number was taken. Before the constraint is added, each such
number is resolved deterministically, and nobody is lost:

- the number stays on one profile: a verified one before an unverified one (a number that
  agrees with the date of birth given is more likely the holder's own), then the oldest
  (`created_at`), then the lowest id;
- every other profile holding it keeps its account, lines, loans and history, but its
  `id_number` is cleared and `identity_verified` set to False. Policy then declines its next
  application with "We could not verify your identity: enter your resident identity number
  ..." until the customer enters their own number on their profile, where the new rule refuses
  a number that belongs to someone else. Their gender (derived from the number) is left as it
  was, since nothing shows it to be wrong.

Reversing the migration drops the constraint and does not bring cleared numbers back."""

from django.db import migrations, models
from django.db.models import Count

CHUNK = 1000


def keeper_and_cleared(rows):
    """rows: (id, identity_verified, created_at) of the profiles sharing one number. Returns
    (the id that keeps the number, the ids to clear, in order)."""
    ordered = sorted(rows, key=lambda row: (not row[1], row[2], row[0]))
    return ordered[0][0], sorted(row[0] for row in ordered[1:])


def identity_duplicates_resolve(apps, schema_editor=None) -> list[int]:
    """Clear the number (and the verification) of every profile but one per shared number, as
    the module docstring says; returns the ids of the profiles cleared."""
    profile_model = apps.get_model("accounts", "CustomerProfile")
    shared = list(profile_model.objects.exclude(id_number="").values("id_number")
                  .annotate(holders=Count("id")).filter(holders__gt=1)
                  .order_by("id_number").values_list("id_number", flat=True))
    cleared = []
    for start in range(0, len(shared), CHUNK):
        numbers = shared[start:start + CHUNK]
        holders = {}
        for pk, number, verified, created_at in (
                profile_model.objects.filter(id_number__in=numbers)
                .values_list("id", "id_number", "identity_verified", "created_at")):
            holders.setdefault(number, []).append((pk, verified, created_at))
        for number in numbers:
            cleared.extend(keeper_and_cleared(holders[number])[1])
    for start in range(0, len(cleared), CHUNK):
        profile_model.objects.filter(pk__in=cleared[start:start + CHUNK]).update(
            id_number="", identity_verified=False)
    return cleared


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0005_notice"),
    ]

    operations = [
        migrations.RunPython(identity_duplicates_resolve, migrations.RunPython.noop,
                             elidable=False),
        migrations.AddConstraint(
            model_name="customerprofile",
            constraint=models.UniqueConstraint(
                condition=models.Q(("id_number", ""), _negated=True), fields=("id_number",),
                name="profile_one_customer_per_id_number",
                violation_error_message="This identity number is already registered to "
                                        "another account."),
        ),
    ]
