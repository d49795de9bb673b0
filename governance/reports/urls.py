from django.urls import path

from governance.reports import views

urlpatterns = [
    path("", views.report_index, name="report-index"),
    path("transparency/", views.transparency_preview, name="report-transparency"),
    path("transparency/publish/", views.transparency_publish, name="report-transparency-publish"),
    path("regulator-pack/", views.regulator_pack_view, name="report-regulator-pack"),
    path("record-of-processing/", views.ropa_view, name="report-ropa"),
    path("regulator-pack/commentary/", views.principle_commentary, name="report-principle-commentary"),
    path("<str:kind>/<int:pk>/", views.subject_report, name="report-subject"),
]

public_urlpatterns = [
    path("<str:slug>/", views.published_report, name="report-published"),
]
