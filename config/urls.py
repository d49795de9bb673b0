from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

urlpatterns = [
    path("", include("governance.web.urls")),
    path("retention/", include("governance.retention.urls")),
    path("dpias/", include("governance.dpia.urls")),
    path("api/v1/", include("governance.api.urls")),
    path("api/v1/", include("recognition.deployments.api_urls")),
    path("deployments/", include("recognition.deployments.urls")),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/v1/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("admin/", admin.site.urls),
]
