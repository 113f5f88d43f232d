"""Staff roles: the groups made after migrate, their permissions, and what each reaches."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client
from django.urls import reverse

from accounts.roles import (
    AUDITOR,
    COLLECTOR,
    RISK_MANAGER,
    RISK_OFFICER,
    ROLE_PERMISSIONS,
    staff_roles_ensure,
)
from accounts.services import staff_user_create
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def codenames(group):
    return set(group.permissions.values_list("content_type__app_label", "codename"))


def signed_in(user):
    client = Client()
    client.force_login(user)
    return client


def staff(role, username=None):
    return staff_user_create(username=username or role.lower().replace(" ", "-"),
                             password="x", role=role)


def changelist(app, model):
    return reverse(f"admin:{app}_{model}_changelist")


def test_each_role_is_a_group_with_exactly_its_permissions():
    assert set(Group.objects.values_list("name", flat=True)) >= set(ROLE_PERMISSIONS)
    for role, perms in ROLE_PERMISSIONS.items():
        assert codenames(Group.objects.get(name=role)) == set(perms), role


def test_ensuring_again_puts_drifted_permissions_back():
    collector = Group.objects.get(name=COLLECTOR)
    collector.permissions.add(Permission.objects.get(codename="lower_limit_creditline"))
    collector.permissions.remove(Permission.objects.get(codename="view_loan"))
    staff_roles_ensure()
    staff_roles_ensure()
    assert codenames(collector) == set(ROLE_PERMISSIONS[COLLECTOR])
    assert Group.objects.filter(name=COLLECTOR).count() == 1


def test_no_role_may_add_change_or_delete_anything():
    """Staff change state only through actions that call the services, never through forms;
    the exceptions are the block list, whose admin adds and lifts entries through its
    services, income verification (added through its service), and lifting a login lockout."""
    actions = {"lower_limit_creditline", "raise_limit_creditline", "freeze_creditline",
               "lift_cap_creditline", "extend_term_loan", "waive_penalty_loan", "write_off_loan",
               "decide_approvalrequest", "work_collectioncase", "assign_collectioncase",
               "decide_hardshiprequest", "view_unmasked_identity", "promote_modelversion",
               "add_blocklistentry", "delete_blocklistentry", "add_incomeverification",
               "delete_accessattempt"}
    for role in ROLE_PERMISSIONS:
        granted = {codename for _app, codename in codenames(Group.objects.get(name=role))}
        assert all(c.startswith("view_") or c in actions for c in granted), role


@pytest.mark.parametrize(("role", "may_lower"), [
    (RISK_OFFICER, True), (RISK_MANAGER, True), (COLLECTOR, False),
])
def test_only_officers_and_managers_may_lower_limits(role, may_lower):
    user = staff(role)
    assert user.is_staff and not user.is_superuser
    assert user.has_perm("lending.lower_limit_creditline") is may_lower
    assert not user.has_perm("lending.change_creditline")


@pytest.mark.parametrize(("role", "app", "model", "status"), [
    (RISK_OFFICER, "lending", "creditline", 200),
    (RISK_OFFICER, "lending", "journalentry", 200),
    (RISK_OFFICER, "lending", "posting", 200),
    (RISK_OFFICER, "lending", "limitchange", 200),
    (RISK_OFFICER, "accounts", "customerprofile", 200),
    (RISK_OFFICER, "core", "idempotencyrecord", 403),
    (RISK_OFFICER, "accounts", "partnerbank", 403),
    (COLLECTOR, "lending", "loan", 200),
    (COLLECTOR, "lending", "instalment", 200),
    (COLLECTOR, "lending", "repayment", 200),
    (COLLECTOR, "lending", "creditline", 200),
    (COLLECTOR, "accounts", "customerprofile", 200),
    (COLLECTOR, "lending", "journalentry", 403),
    (COLLECTOR, "lending", "limitchange", 403),
    (COLLECTOR, "accounts", "user", 403),
    (RISK_MANAGER, "accounts", "partnerbank", 200),
    (RISK_MANAGER, "operations", "closestep", 200),
])
def test_each_role_reaches_its_pages_in_the_admin(role, app, model, status):
    assert signed_in(staff(role)).get(changelist(app, model)).status_code == status


def test_staff_without_a_role_reach_the_admin_but_see_nothing():
    user = staff_user_create(username="new-hire", password="x")
    client = signed_in(user)
    index = client.get(reverse("admin:index"))
    assert index.status_code == 200
    assert index.context["app_list"] == []
    assert client.get(changelist("lending", "creditline")).status_code == 403


def test_a_customer_is_sent_to_the_admin_login():
    client = signed_in(UserFactory())
    for url in (reverse("admin:index"), changelist("lending", "loan")):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("admin:login"))


def test_a_customer_cannot_sign_in_to_the_admin():
    customer = UserFactory(username="zhang")
    response = Client().post(reverse("admin:login"),
                             {"username": customer.username, "password": "correct-horse-battery"})
    assert response.status_code == 200
    assert response.context["form"].errors


OUR_APPS = ("core", "accounts", "lending", "risk", "debt_collection", "operations")


def test_the_auditor_reads_every_table_of_ours_and_changes_nothing():
    views = set(Permission.objects.filter(content_type__app_label__in=OUR_APPS,
                                          codename__startswith="view_")
                .values_list("content_type__app_label", "codename"))
    # The chain heads are the audit trail's bookkeeping, read through its events.
    views.discard(("core", "view_auditchainhead"))
    granted = codenames(Group.objects.get(name=AUDITOR))
    assert views <= granted
    assert {codename for _app, codename in granted} <= {c for _a, c in views} | {
        "view_unmasked_identity"}


def test_migrate_makes_the_roles():
    """The roles come from migrate's post_migrate signal, on every database (not only from the
    test suite's own set-up)."""
    import gc

    from django.core.management.sql import emit_post_migrate_signal

    Group.objects.all().delete()
    gc.collect()
    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")
    assert set(Group.objects.values_list("name", flat=True)) >= set(ROLE_PERMISSIONS)
