from django.urls import path

from governance.breaches import views

urlpatterns = [
    path("", views.breach_register, name="breach-register"),
    path("<int:pk>/", views.breach_detail, name="breach-detail"),
    path("<int:pk>/<str:action>/", views.breach_action, name="breach-action"),
]
