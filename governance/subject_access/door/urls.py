"""The public door (no sign-in): ``/requests/``."""

from django.urls import path

from governance.subject_access.door import views

urlpatterns = [
    path("", views.door_index, name="subject-door-index"),
    path("sent/", views.door_sent, name="subject-door-sent"),
    path("answer/", views.door_return, name="subject-door-return"),
    path("answer/new-code/", views.door_new_code, name="subject-door-new-code"),
    path("response/<str:token>/", views.door_download, name="subject-door-download"),
    path("to/<str:short_name>/", views.door_request, name="subject-door"),
]
