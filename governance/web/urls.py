from django.contrib.auth import views as auth_views
from django.urls import path

from governance.administration import views as administration_views
from governance.signin import views as signin_views
from governance.web import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("sign-in/", signin_views.SignInView.as_view(), name="login"),
    path("sign-in/second-factor/", signin_views.second_factor, name="second-factor"),
    path("sign-in/second-factor/setup/", signin_views.second_factor_setup, name="second-factor-setup"),
    path("invitation/<str:secret>/", administration_views.invitation_accept, name="invitation-accept"),
    path("sign-out/", auth_views.LogoutView.as_view(), name="logout"),
    path("agreements/", views.agreement_register, name="agreement-list"),
    path("agreements/new/", views.agreement_create, name="agreement-create"),
    path("agreements/<int:pk>/", views.agreement_detail, name="agreement-detail"),
    path("agreements/<int:pk>/edit/", views.agreement_edit, name="agreement-edit"),
    path("agreements/<int:pk>/action/", views.agreement_action, name="agreement-action"),
    path("agreements/<int:pk>/amend/", views.agreement_amend, name="agreement-amend"),
    path("agreements/<int:pk>/renew/", views.agreement_renew, name="agreement-renew"),
    path("agreements/<int:pk>/document/", views.agreement_document, name="agreement-document"),
    path("agreements/<int:pk>/agreement.pdf", views.agreement_pdf, name="agreement-pdf"),
    path("audit/", views.audit_log, name="audit-log"),
]

from governance.audit import consultation_views  # noqa: E402
from governance.audit import views as audit_views  # noqa: E402

urlpatterns += [
    path("audit/<int:pk>/proof.json", audit_views.audit_event_proof, name="audit-event-proof"),
    path("audit/verify/", audit_views.audit_verify, name="audit-verify"),
    path("transparency/audit-log/", audit_views.audit_log_heads, name="audit-log-heads"),
]

from governance.web import watchlist_views  # noqa: E402

urlpatterns += [
    path("watchlist/", watchlist_views.watchlist_ledger, name="watchlist-ledger"),
    path("watchlist/upload/", watchlist_views.watchlist_upload, name="watchlist-upload"),
    path("watchlist/upload/bulk/", watchlist_views.watchlist_bulk_upload, name="watchlist-bulk-upload"),
    path(
        "watchlist/upload/bulk/<int:pk>/",
        watchlist_views.watchlist_bulk_upload_detail,
        name="watchlist-bulk-upload-detail",
    ),
    path("watchlist/<int:pk>/", watchlist_views.watchlist_image_detail, name="watchlist-image-detail"),
    path(
        "watchlist/<int:pk>/withdraw/", watchlist_views.watchlist_image_withdraw_view, name="watchlist-image-withdraw"
    ),
]
urlpatterns += [
    path("consultations/purpose/", consultation_views.consultation_purpose, name="consultation-purpose"),
    path(
        "consultations/subject/<path:reference>/",
        consultation_views.subject_consultations,
        name="subject-consultations",
    ),
    path(
        "consultations/<slug:kind>/<int:pk>/",
        consultation_views.record_consultations,
        name="record-consultations",
    ),
]
