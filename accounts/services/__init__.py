"""Every change to users, profiles and partner API clients goes through a function here."""

from .customers import customer_profile_save, customers_create_many  # noqa: F401
from .partner_clients import PartnerClientCredentials, partner_client_create  # noqa: E402,F401
from .sign_up import customer_sign_up  # noqa: F401
from .signals import customer_signals_record  # noqa: E402,F401
from .staff import staff_user_create  # noqa: E402,F401
