"""Every change to users, profiles and partner API clients goes through a function here."""

from .customers import customer_profile_save, customer_sign_up  # noqa: E402,F401
from .partner_clients import PartnerClientCredentials, partner_client_create  # noqa: E402,F401
from .signals import customer_signals_record  # noqa: E402,F401
from .staff import staff_user_create  # noqa: E402,F401
