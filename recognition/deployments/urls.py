from django.urls import path

from recognition.deployments import camera_views, review_desk_views, views, watchlist_views

urlpatterns = [
    path("", views.deployment_list, name="deployment-list"),
    path("new/", views.deployment_create, name="deployment-create"),
    path("<int:pk>/", views.deployment_detail, name="deployment-detail"),
    path("<int:pk>/action/", views.deployment_action, name="deployment-action"),
    path("<int:pk>/authorisation/", views.deployment_authorisation, name="deployment-authorisation"),
    path("<int:pk>/post-review/", views.deployment_post_review, name="deployment-post-review"),
    path(
        "<int:pk>/review-service-level/",
        review_desk_views.deployment_review_service_level,
        name="deployment-review-service-level",
    ),
    path("<int:pk>/watchlist/", watchlist_views.deployment_watchlist, name="deployment-watchlist"),
    path(
        "<int:pk>/watchlist/review/",
        watchlist_views.deployment_watchlist_review_form,
        name="deployment-watchlist-review",
    ),
    path(
        "<int:pk>/watchlist/<int:image_pk>/image/",
        watchlist_views.deployment_watchlist_thumbnail,
        name="deployment-watchlist-thumbnail",
    ),
    path("cameras/", camera_views.camera_list, name="camera-list"),
    path("cameras/<int:pk>/key/", camera_views.camera_key, name="camera-key"),
    path("cameras/<int:pk>/key/confirm/", camera_views.camera_key_confirm, name="camera-key-confirm"),
    path("review/", views.review_queue, name="review-queue"),
    path("review/queue.json", views.review_queue_json, name="review-queue-json"),
    path(
        "review/alerts/<int:pk>/crop-thumbnail.jpg",
        review_desk_views.alert_queue_thumbnail,
        {"image": "crop"},
        name="alert-queue-crop-thumbnail",
    ),
    path(
        "review/alerts/<int:pk>/reference-thumbnail.jpg",
        review_desk_views.alert_queue_thumbnail,
        {"image": "reference"},
        name="alert-queue-reference-thumbnail",
    ),
    path("alerts/<int:pk>/", views.alert_detail, name="alert-detail"),
    path("alerts/<int:pk>/crop.jpg", views.alert_crop_image, name="alert-crop-image"),
    path("alerts/<int:pk>/reference.jpg", views.alert_reference_image, name="alert-reference-image"),
    path("alerts/<int:pk>/review/", views.alert_review, name="alert-review"),
    path("alerts/<int:pk>/disclose/", views.alert_disclose, name="alert-disclose"),
    path("disclosures/", views.disclosure_list, name="disclosure-list"),
    path("disclosures/<int:pk>/outcome/", views.disclosure_outcome, name="disclosure-outcome"),
    path(
        "disclosures/<int:pk>/outcome/correct/",
        views.disclosure_outcome_correct,
        name="disclosure-outcome-correct",
    ),
]
