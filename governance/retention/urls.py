from django.urls import path

from governance.retention import views

urlpatterns = [
    path("", views.retention_dashboard, name="retention-dashboard"),
    path("holds/", views.legal_hold_create, name="legal-hold-create"),
    path("holds/<int:pk>/release/", views.legal_hold_end, name="legal-hold-release"),
    path("certificates/<int:pk>.<str:fmt>", views.certificate_download, name="deletion-certificate"),
    path(
        "runs/<uuid:run_id>/certificates.<str:fmt>", views.run_certificates_download, name="retention-run-certificates"
    ),
]
