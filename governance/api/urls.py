from django.urls import path

from governance.api import views

urlpatterns = [
    path("agreements/", views.AgreementListApi.as_view(), name="api-agreement-list"),
    path("agreements/<int:pk>/", views.AgreementDetailApi.as_view(), name="api-agreement-detail"),
]

from governance.api import watchlist  # noqa: E402

urlpatterns += [
    path("watchlist-images/", watchlist.WatchlistImageListApi.as_view(), name="api-watchlist-image-list"),
    path("watchlist-images/bulk/", watchlist.WatchlistImageBulkApi.as_view(), name="api-watchlist-image-bulk"),
    path(
        "watchlist-bulk-uploads/<int:pk>/",
        watchlist.WatchlistBulkUploadDetailApi.as_view(),
        name="api-watchlist-bulk-upload-detail",
    ),
    path("watchlist-images/<int:pk>/", watchlist.WatchlistImageDetailApi.as_view(), name="api-watchlist-image-detail"),
    path(
        "watchlist-images/<int:pk>/image/", watchlist.WatchlistImageBytesApi.as_view(), name="api-watchlist-image-bytes"
    ),
]

from governance.api import audit  # noqa: E402

urlpatterns += [
    path("audit-events/<int:pk>/proof/", audit.AuditEventProofApi.as_view(), name="api-audit-event-proof"),
]
