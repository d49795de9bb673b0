from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

urlpatterns = [
    path("", include("governance.web.urls")),
    path("retention/", include("governance.retention.urls")),
    path("api/v1/", include("governance.api.urls")),
    path("api/v1/", include("recognition.deployments.api_urls")),
    path("deployments/", include("recognition.deployments.urls")),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/v1/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    # One sign-in page for everyone (lockout, second factor, audit): the admin's own login redirects to it.
    path("admin/login/", RedirectView.as_view(pattern_name="login", query_string=True)),
    path("admin/", admin.site.urls),
]
