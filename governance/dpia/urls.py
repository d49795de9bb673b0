from django.urls import path

from governance.dpia import views

urlpatterns = [
    path("", views.dpia_list, name="dpia-list"),
    path("new/", views.dpia_create, name="dpia-create"),
    path("<int:pk>/", views.dpia_detail, name="dpia-detail"),
    path("<int:pk>/edit/", views.dpia_edit, name="dpia-edit"),
    path("<int:pk>/action/", views.dpia_action, name="dpia-action"),
    path("<int:pk>/compare/", views.dpia_compare, name="dpia-compare"),
    path("<int:pk>/pdf/", views.dpia_pdf, name="dpia-pdf"),
]
