from django.urls import path

from governance.api import views

urlpatterns = [
    path("agreements/", views.AgreementListApi.as_view(), name="api-agreement-list"),
    path("agreements/<int:pk>/", views.AgreementDetailApi.as_view(), name="api-agreement-detail"),
]
