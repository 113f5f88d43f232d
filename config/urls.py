from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from accounts.oauth import PartnerIntrospectTokenView, PartnerRevokeTokenView, PartnerTokenView

admin.site.site_header = "Credit platform back office"
admin.site.site_title = "Back office"

# Partner banks and merchants only use the client-credentials grant, so only the endpoints their
# back ends call are routed: token, revoke and introspect, each throttled and limited to partner
# banks' and merchants' clients (accounts.oauth); /o/token/ issues no refresh token and takes no
# other grant. Not routed: application registration and management (/o/applications/...),
# /o/authorize/ and consent, the authorized-token pages, the device, OIDC, metadata and
# dynamic-registration views. The names and the "oauth2_provider" namespace are the package's
# own, so reverse("oauth2_provider:token") still works.
oauth2_urlpatterns = (
    [
        path("token/", PartnerTokenView.as_view(), name="token"),
        path("revoke_token/", PartnerRevokeTokenView.as_view(), name="revoke-token"),
        path("introspect/", PartnerIntrospectTokenView.as_view(), name="introspect"),
    ],
    "oauth2_provider",
)

# Two APIs, each with its own schema naming only its routes and its scope: partner banks read
# the loans they fund, merchants create checkouts and refund them.
partner_api = [path("api/v1/", include("lending.api.urls"))]
merchant_api = [path("api/v1/merchant/", include("lending.api.merchant.urls"))]
MERCHANT_SCHEMA = {
    "TITLE": "Merchant checkout API",
    "DESCRIPTION": ("Pay-later (花呗) checkouts: create one for an order, send the customer to "
                    "it, read its state, refund its purchase. OAuth2 client credentials."),
    "OAUTH2_SCOPES": {"checkout": "Create checkouts, read them and refund their purchases"},
}

urlpatterns = [
    path("admin/", admin.site.urls),
    path("o/", include(oauth2_urlpatterns)),
    path("api/schema/", SpectacularAPIView.as_view(patterns=partner_api), name="schema"),
    path("api/merchant/schema/", SpectacularAPIView.as_view(
        patterns=merchant_api, custom_settings=MERCHANT_SCHEMA), name="merchant_schema"),
    *merchant_api,
    *partner_api,
    path("", include("operations.demo_shop.urls")),
    path("", include("accounts.urls")),
    path("", include("lending.urls")),
    path("", include("risk.urls")),
    path("", include("debt_collection.urls")),
]
