from django.urls import path

from governance.dpia import policy_views, views

urlpatterns = [
    path("", views.dpia_list, name="dpia-list"),
    path("new/", views.dpia_create, name="dpia-create"),
    path("<int:pk>/", views.dpia_detail, name="dpia-detail"),
    path("<int:pk>/edit/", views.dpia_edit, name="dpia-edit"),
    path("<int:pk>/action/", views.dpia_action, name="dpia-action"),
    path("<int:pk>/compare/", views.dpia_compare, name="dpia-compare"),
    path("<int:pk>/pdf/", views.dpia_pdf, name="dpia-pdf"),
    # Appropriate policy documents (DPA 2018 s.42), beside the DPIAs.
    path("policies/", policy_views.policy_list, name="policy-list"),
    path("policies/new/", policy_views.policy_create, name="policy-create"),
    path("policies/<int:pk>/", policy_views.policy_detail, name="policy-detail"),
    path("policies/<int:pk>/edit/", policy_views.policy_edit, name="policy-edit"),
    path("policies/<int:pk>/action/", policy_views.policy_action, name="policy-action"),
]
