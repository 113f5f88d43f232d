from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView
from oauth2_provider import views as oauth2_views

admin.site.site_header = "Credit platform back office"
admin.site.site_title = "Back office"

# Partner banks only use the client-credentials grant, so only the endpoints a bank's back end
# calls are routed: token, revoke and introspect. Not routed: application registration and
# management (/o/applications/...), /o/authorize/ and the authorized-token pages, the device,
# OIDC, metadata and dynamic-registration views. The names and the "oauth2_provider" namespace
# are the package's own, so reverse("oauth2_provider:token") still works.
oauth2_urlpatterns = (
    [
        path("token/", oauth2_views.TokenView.as_view(), name="token"),
        path("revoke_token/", oauth2_views.RevokeTokenView.as_view(), name="revoke-token"),
        path("introspect/", oauth2_views.IntrospectTokenView.as_view(), name="introspect"),
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
]
