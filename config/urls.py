from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from governance.reports.urls import public_urlpatterns as published_report_urls

urlpatterns = [
    path("", include("governance.web.urls")),
    path("retention/", include("governance.retention.urls")),
    path("api/v1/", include("governance.api.urls")),
    path("api/v1/", include("recognition.deployments.api_urls")),
    path("deployments/", include("recognition.deployments.urls")),
    path("reports/", include("governance.reports.urls")),
    path("breaches/", include("governance.breaches.urls")),
    path("published/", include(published_report_urls)),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/v1/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("admin/", admin.site.urls),
]
