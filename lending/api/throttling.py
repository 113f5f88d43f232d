"""How often the partner API may be called (docs/partner-api.md, "Rate limits"). The rates are
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], set from the environment in config/settings/base.py;
past a rate DRF answers 429 with Retry-After. The OAuth endpoints have their own throttles
(accounts.oauth)."""

from rest_framework.throttling import SimpleRateThrottle
from rest_framework.throttling import UserRateThrottle as DRFUserRateThrottle

from accounts.oauth import SettingsRateMixin


def application_id_of(request):
    """The pk of the OAuth client behind the request's access token, or None without one."""
    return getattr(request.auth, "application_id", None)


class OAuthClientRateThrottle(SettingsRateMixin, SimpleRateThrottle):
    """Calls per OAuth client (a bank's back end), whichever of its tokens it uses."""

    scope = "api_client"

    def get_cache_key(self, request, view):
        application_id = application_id_of(request)
        if application_id is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": application_id}


class UserRateThrottle(SettingsRateMixin, DRFUserRateThrottle):
    """Calls per signed-in user (a token issued for a user), or per address for callers with
    neither a user nor a token (the public schema). A client-credentials token has no user:
    its calls count against its client only."""

    scope = "api_user"

    def get_cache_key(self, request, view):
        user = getattr(request, "user", None)
        if application_id_of(request) is not None and not (user and user.is_authenticated):
            return None
        return super().get_cache_key(request, view)
