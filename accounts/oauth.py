"""The OAuth2 server partner banks and merchants use (docs/partner-api.md), no wider than they
need.

- The client-credentials grant only: `OAUTH2_PROVIDER["OAUTH2_SERVER_CLASS"]` is oauthlib's
  `BackendApplicationServer` (token, revocation and bearer-token checks, nothing else), and
  `PartnerOAuth2Validator` refuses every other grant type as well.
- Only clients made by `partner_client_create` and not revoked (`partner_client_usable`), or by
  `merchant_client_create` for an active merchant (`merchant_client_usable`), authenticate; an
  application made any other way is `invalid_client`.
- Each kind of client gets only its own scopes (`client_scopes`): a merchant's token carries
  the checkout scope and nothing else, a partner bank's never carries it. The APIs check the
  client's kind as well as the scope, so neither token reaches the other's endpoints.
- No refresh token is ever stored or returned.
- Introspection answers for the calling client's own tokens only.
- POST /o/token/, /o/revoke_token/ and /o/introspect/ are throttled per client id and per
  address before any secret is checked; past the rate the answer is a 429 with Retry-After.
"""

import base64
import calendar
import hashlib
import logging
import math
from urllib.parse import unquote_plus

from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.http import JsonResponse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider.models import get_access_token_model, get_application_model
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.scopes import get_scopes_backend
from oauth2_provider.views import RevokeTokenView, TokenView
from oauth2_provider.views.mixins import OAuthLibMixin
from oauthlib.common import Request as OauthlibRequest
from oauthlib.oauth2.rfc6749.errors import InvalidClientError
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from .services.merchants import MERCHANT_SCOPE, merchant_client_usable
from .services.partner_clients import partner_client_usable

log = logging.getLogger(__name__)

CLIENT_CREDENTIALS = "client_credentials"


# Throttles ---------------------------------------------------------------------------------------

class SettingsRateMixin:
    """Reads the throttle's rate from REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] each time a
    throttle is made. DRF's own throttles copy the rates onto the class when it is imported,
    so a changed setting (a test's override) would not reach them."""

    def get_rate(self):
        try:
            return api_settings.DEFAULT_THROTTLE_RATES[self.scope]
        except KeyError:
            raise ImproperlyConfigured(
                f'REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] has no rate for {self.scope!r}.'
            ) from None


def client_id_of(request):
    """The client id a request to an OAuth endpoint names, in HTTP Basic or in the body, as
    django-oauth-toolkit reads it; None when it names none or cannot be read."""
    scheme, _, credentials = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme == "Basic" and credentials:
        try:
            pair = base64.b64decode(credentials, validate=True).decode("utf-8")
        except ValueError:  # not base64 (or not ASCII at all), or not UTF-8 once decoded
            pair = ""
        client_id, colon, _ = pair.partition(":")
        if colon:
            return unquote_plus(client_id) or None
    return request.POST.get("client_id") or None


class OAuthClientRateThrottle(SettingsRateMixin, SimpleRateThrottle):
    """Requests to the OAuth endpoints per client id named, whether or not the secret is right."""

    scope = "oauth_client"

    def get_cache_key(self, request, view):
        client_id = client_id_of(request)
        if client_id is None:
            return None
        # Hashed: a cache key is no place for arbitrary text of the caller's.
        ident = hashlib.sha256(client_id.encode("utf-8", "surrogatepass")).hexdigest()
        return self.cache_format % {"scope": self.scope, "ident": ident}


class OAuthAddressRateThrottle(SettingsRateMixin, SimpleRateThrottle):
    """Requests to the OAuth endpoints per caller address (REST_FRAMEWORK["NUM_PROXIES"] says
    which hop of X-Forwarded-For to trust)."""

    scope = "oauth_address"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


def oauth_error(status, error, description, headers=None):
    """An error as the OAuth endpoints answer one (RFC 6749 §5.2), never cached."""
    return JsonResponse({"error": error, "error_description": description}, status=status,
                        headers={"Cache-Control": "no-store", **(headers or {})})


class OAuthThrottleMixin:
    """Counts a POST against the caller's address, then against the client id it names, before
    anything else is done; past either rate it is a 429 with Retry-After and an OAuth-style
    error (`slow_down`, which RFC 8628 registers for the token endpoint)."""

    throttle_classes = (OAuthAddressRateThrottle, OAuthClientRateThrottle)

    def throttled(self, request):
        for throttle_class in self.throttle_classes:
            throttle = throttle_class()
            if not throttle.allow_request(request, self):
                wait = max(1, math.ceil(throttle.wait() or 1))
                return oauth_error(429, "slow_down",
                                   f"Too many requests. Retry in {wait} seconds.",
                                   headers={"Retry-After": str(wait)})
        return None


# The validator -----------------------------------------------------------------------------------

def client_usable(application) -> bool:
    return partner_client_usable(application) or merchant_client_usable(application)


def client_scopes(application) -> set[str]:
    """The scopes a client may hold: a merchant's, the checkout scope only; a partner bank's,
    every configured scope but that one; any other application, none."""
    configured = set(get_scopes_backend().get_all_scopes())
    if merchant_client_usable(application):
        return configured & {MERCHANT_SCOPE}
    if partner_client_usable(application):
        return configured - {MERCHANT_SCOPE}
    return set()


class PartnerOAuth2Validator(OAuth2Validator):
    """django-oauth-toolkit's validator, narrowed to partner banks' and merchants' clients, each
    with its own scopes (module docstring)."""

    def _load_application(self, client_id, request):
        # PostgreSQL refuses a NUL character in a string, and psycopg 3 raises a DataError for
        # it, which the package does not catch (it expects psycopg2's ValueError): a client id
        # with one was a 500 at every OAuth endpoint. No client id has one.
        if isinstance(client_id, str) and "\x00" in client_id:
            return None
        return super()._load_application(client_id, request)

    def _extract_basic_auth(self, request):
        # The package decodes Basic credentials with base64.b64decode, which raises a
        # ValueError it does not catch for a non-ASCII header ("Basic é"): that was a 500.
        # Such a header carries no credentials.
        auth_string = super()._extract_basic_auth(request)
        return auth_string if auth_string and auth_string.isascii() else None

    def authenticate_client(self, request, *args, **kwargs):
        if not super().authenticate_client(request, *args, **kwargs):
            return False
        if not client_usable(request.client):
            log.info("Refused OAuth2 client %s: not a partner bank's or a merchant's usable API "
                     "client.", request.client.client_id)
            request.client = None
            return False
        return True

    def authenticate_client_id(self, client_id, request, *args, **kwargs):
        # Only public clients (no secret) authenticate by id alone; no client of ours is one.
        return False

    def get_default_scopes(self, client_id, request, *args, **kwargs):
        # A token request that names no scope gets the client's own: DEFAULT_SCOPES is the
        # partner banks' `loans:read`, which a merchant's client may not hold.
        if merchant_client_usable(request.client):
            return [MERCHANT_SCOPE]
        return super().get_default_scopes(client_id, request, *args, **kwargs)

    def validate_scopes(self, client_id, scopes, client, request, *args, **kwargs):
        return set(scopes) <= client_scopes(client) and super().validate_scopes(
            client_id, scopes, client, request, *args, **kwargs)

    def validate_grant_type(self, client_id, grant_type, client, request, *args, **kwargs):
        return grant_type == CLIENT_CREDENTIALS and super().validate_grant_type(
            client_id, grant_type, client, request, *args, **kwargs)

    def save_bearer_token(self, token, request, *args, **kwargs):
        # The client-credentials grant asks for no refresh token (RFC 6749 §4.4.3); should
        # anything ever add one, it is neither stored nor returned (this dict is the response).
        token.pop("refresh_token", None)
        Application = get_application_model()
        with transaction.atomic():
            # The lock `partner_client_revoke` takes: a client revoked after it authenticated
            # and before its token is stored gets no token.
            application = Application.objects.select_for_update().get(pk=request.client.pk)
            if not client_usable(application):
                raise InvalidClientError(request=request)
            return super().save_bearer_token(token, request, *args, **kwargs)


# The views ---------------------------------------------------------------------------------------

@method_decorator(csrf_exempt, name="dispatch")
class PartnerTokenView(OAuthThrottleMixin, TokenView):
    """POST /o/token/: throttled, then the client-credentials grant. The package's view would
    also take the device-code grant here, and answer a 500 when its `device_code` is missing."""

    def post(self, request, *args, **kwargs):
        return self.throttled(request) or self.authorization_flow_token_response(request)


@method_decorator(csrf_exempt, name="dispatch")
class PartnerRevokeTokenView(OAuthThrottleMixin, RevokeTokenView):
    """POST /o/revoke_token/ (RFC 7009): throttled; a client revokes only its own tokens (the
    package scopes the lookup to the authenticated client)."""

    def post(self, request, *args, **kwargs):
        return self.throttled(request) or super().post(request, *args, **kwargs)


@method_decorator(csrf_exempt, name="dispatch")
class PartnerIntrospectTokenView(OAuthThrottleMixin, OAuthLibMixin, View):
    """POST /o/introspect/ (RFC 7662) for a partner client, authenticated as at /o/token/.

    It answers for the caller's own tokens only: another client's token is `{"active":
    false}`, exactly as an unknown one (RFC 7662 §2.2), so a client learns nothing about the
    tokens of another bank. The package's view answers for any token to any client, and takes
    the token in a query string too; this one takes it only in the body."""

    http_method_names = ["post", "options"]

    def post(self, request, *args, **kwargs):
        throttled = self.throttled(request)
        if throttled:
            return throttled
        core = self.get_oauthlib_core()
        uri, http_method, body, headers = core._extract_params(request)
        oauth_request = OauthlibRequest(uri, http_method, body, headers)
        if not core.server.request_validator.authenticate_client(oauth_request):
            return oauth_error(401, "invalid_client", "Client authentication failed.",
                               headers={"WWW-Authenticate": 'Basic realm="oauth"'})
        token_value = request.POST.get("token")
        if not token_value:
            return oauth_error(400, "invalid_request", "The token parameter is missing.")
        checksum = hashlib.sha256(token_value.encode("utf-8", "surrogatepass")).hexdigest()
        token = (get_access_token_model().objects.select_related("application")
                 .filter(token_checksum=checksum, application=oauth_request.client).first())
        if token is None or not token.is_valid():
            return JsonResponse({"active": False}, headers={"Cache-Control": "no-store"})
        return JsonResponse({
            "active": True,
            "scope": token.scope,
            "client_id": token.application.client_id,
            "token_type": "Bearer",
            "exp": calendar.timegm(token.expires.utctimetuple()),
        }, headers={"Cache-Control": "no-store"})
