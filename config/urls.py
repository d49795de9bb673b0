from django.conf import settings
from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from governance.notifications import views as notification_views
from governance.ops import health, metrics
from governance.reports.urls import public_urlpatterns as published_report_urls

_docs_view = SpectacularSwaggerSplitView.as_view(url_name="api-schema")
if settings.PRODUCTION:  # the docs page (and the schema, SPECTACULAR_SETTINGS) only behind sign-in
    _docs_view = login_required(_docs_view)

urlpatterns = [
    path("health/live/", health.live, name="health-live"),
    path("health/ready/", health.ready, name="health-ready"),
    path("metrics", metrics.metrics_view, name="metrics"),
    path("", include("governance.web.urls")),
    path("retention/", include("governance.retention.urls")),
    path("administration/", include("governance.administration.urls")),
    path("dpias/", include("governance.dpia.urls")),
    path("api/v1/", include("governance.api.urls")),
    path("api/v1/", include("recognition.deployments.api_urls")),
    path("deployments/", include("recognition.deployments.urls")),
    path("reports/", include("governance.reports.urls")),
    path("breaches/", include("governance.breaches.urls")),
    path("notifications/", include("governance.notifications.urls")),
    path("account/", notification_views.account, name="account"),
    path("subject-requests/", include("governance.subject_access.urls")),
    path("published/", include(published_report_urls)),
    path("requests/", include("governance.subject_access.door.urls")),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its start-up script as a file: the CSP allows no inline script.
    path("api/v1/docs/", _docs_view, name="api-docs"),
    # One sign-in page for everyone (lockout, second factor, audit): the admin's own login redirects to it.
    path("admin/login/", RedirectView.as_view(pattern_name="login", query_string=True), name="admin-login"),
    path("admin/", admin.site.urls),
]
