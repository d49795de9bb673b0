from django.urls import path

from governance.subject_access import views
from governance.subject_access.door import views as door_views

urlpatterns = [
    path("", views.subject_request_list, name="subject-request-list"),
    path("new/", views.subject_request_create, name="subject-request-create"),
    path("policy/", views.subject_request_policy, name="subject-request-policy"),
    path("<int:pk>/", views.subject_request_detail, name="subject-request-detail"),
    path("<int:pk>/action/", views.subject_request_action, name="subject-request-action"),
    path("<int:pk>/search/", views.subject_request_search, name="subject-request-search"),
    path("<int:pk>/search/<int:search_pk>/", views.subject_request_search_result, name="subject-request-search-result"),
    path("<int:pk>/decide/", views.subject_request_decide, name="subject-request-decide"),
    path("<int:pk>/export/", views.subject_request_export, name="subject-request-export"),
    path("exports/<int:pk>/status/", views.subject_request_export_status, name="subject-request-export-status"),
    path("exports/<int:pk>/<str:fmt>/", views.subject_request_download, name="subject-request-download"),
    path(
        "notifications/<int:pk>/acknowledge/",
        views.rights_notification_acknowledge,
        name="rights-notification-acknowledge",
    ),
    path("door/exports/<int:pk>/send/", door_views.door_response_send, name="subject-door-send"),
    path("door/files/<int:pk>/", door_views.door_file, name="subject-door-file"),
    path("consultations/<int:pk>/", views.rights_consultation, name="rights-consultation"),
]
