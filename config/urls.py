from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from accounts.oauth import PartnerIntrospectTokenView, PartnerRevokeTokenView, PartnerTokenView

admin.site.site_header = "Credit platform back office"
admin.site.site_title = "Back office"

# Partner banks only use the client-credentials grant, so only the endpoints a bank's back end
# calls are routed: token, revoke and introspect, each throttled and limited to partner banks'
# clients (accounts.oauth); /o/token/ issues no refresh token and takes no other grant. Not
# routed: application registration and management (/o/applications/...), /o/authorize/ and
# consent, the authorized-token pages, the device, OIDC, metadata and dynamic-registration
# views. The names and the "oauth2_provider" namespace are the package's own, so
# reverse("oauth2_provider:token") still works.
oauth2_urlpatterns = (
    [
        path("token/", PartnerTokenView.as_view(), name="token"),
        path("revoke_token/", PartnerRevokeTokenView.as_view(), name="revoke-token"),
        path("introspect/", PartnerIntrospectTokenView.as_view(), name="introspect"),
    ],
    "oauth2_provider",
)

urlpatterns = [
    path("admin/", admin.site.urls),
    path("o/", include(oauth2_urlpatterns)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/v1/", include("lending.api.urls")),
    path("", include("accounts.urls")),
    path("", include("lending.urls")),
    path("", include("risk.urls")),
    path("", include("debt_collection.urls")),
]
