"""Staff of the collections workspace, for the collections tests and the browser test.

The permissions are given to each user as well as through the roles, so these tests say what
each permission allows whatever the roles' wiring (accounts/roles.py, tested on its own)."""

from django.contrib.auth.models import Permission

from accounts.roles import COLLECTOR
from accounts.services.staff import staff_user_create

COLLECTOR_PERMISSIONS = [("debt_collection", "view_collectioncase"),
                         ("debt_collection", "view_collectioncontact"),
                         ("debt_collection", "view_promisetopay"),
                         ("debt_collection", "work_collectioncase")]
MANAGER_PERMISSIONS = [*COLLECTOR_PERMISSIONS, ("debt_collection", "assign_collectioncase"),
                       ("accounts", "view_unmasked_identity")]


def _grant(user, permissions):
    user.user_permissions.add(*[
        Permission.objects.get(content_type__app_label=app, codename=codename)
        for app, codename in permissions])
    return user


def make_collector(username):
    """A member of the Collector group, who may work the cases assigned to them."""
    return _grant(staff_user_create(username=username, password="x", role=COLLECTOR),
                  COLLECTOR_PERMISSIONS)


def make_manager(username):
    """A collections manager: reassigns cases and sees numbers whole; not in the round robin."""
    return _grant(staff_user_create(username=username, password="x"), MANAGER_PERMISSIONS)
