from django.urls import path

from governance.notifications import views

urlpatterns = [
    path("", views.inbox, name="notification-inbox"),
    path("<int:pk>/", views.notification_open, name="notification-open"),
    path("read-all/", views.notifications_read_all, name="notification-read-all"),
    path("received/<str:kind>/<int:pk>/acknowledge/", views.received_acknowledge, name="received-acknowledge"),
    path("received/<str:kind>/<int:pk>/query/", views.received_query, name="received-query"),
    path("queries/<int:pk>/answer/", views.query_answer, name="query-answer"),
]
