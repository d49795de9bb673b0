from django.urls import path

from governance.administration import views

urlpatterns = [
    path("", views.administration_home, name="administration-home"),
    path("users/invite/", views.user_invite, name="administration-user-invite"),
    path("users/<int:pk>/", views.user_detail, name="administration-user"),
    path("users/<int:pk>/action/", views.user_action, name="administration-user-action"),
    path("tokens/issue/", views.token_issue, name="administration-token-issue"),
    path("tokens/<int:pk>/revoke/", views.token_revoke, name="administration-token-revoke"),
]
