"""Back-office users in their roles."""

from django.contrib.auth.models import Group
from django.db import transaction

from accounts.models import User
from accounts.roles import ROLE_PERMISSIONS


def staff_user_create(*, username, password, role=None, superuser=False) -> User:
    """A staff member who signs in to the admin; `role` is one of accounts.roles' groups."""
    if role is not None and role not in ROLE_PERMISSIONS:
        raise ValueError(f"Unknown staff role {role!r}.")
    with transaction.atomic():
        if superuser:
            user = User.objects.create_superuser(username=username, password=password)
        else:
            user = User.objects.create_user(username=username, password=password, is_staff=True)
        if role is not None:
            user.groups.add(Group.objects.get(name=role))
    return user
