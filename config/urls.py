from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView
from oauth2_provider import urls as oauth2_urls

admin.site.site_header = "Credit platform back office"
admin.site.site_title = "Back office"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("o/", include(oauth2_urls)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/v1/", include("lending.api.urls")),
    path("", include("accounts.urls")),
    path("", include("lending.urls")),
    path("", include("risk.urls")),
]
