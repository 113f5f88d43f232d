"""Every change to users, profiles and partner API clients goes through a function here."""

from .staff import staff_user_create  # noqa: E402,F401
