from django.urls import path

from recognition.deployments import api

urlpatterns = [
    path("cameras/<int:pk>/frames/", api.FrameUploadApi.as_view(), name="api-camera-frames"),
    path("deployments/<int:pk>/", api.DeploymentDetailApi.as_view(), name="api-deployment-detail"),
    path(
        "deployments/<int:pk>/review-service-level/",
        api.DeploymentServiceLevelApi.as_view(),
        name="api-deployment-review-service-level",
    ),
    path("disclosures/", api.DisclosureListApi.as_view(), name="api-disclosure-list"),
    path("disclosures/<int:pk>/", api.DisclosureDetailApi.as_view(), name="api-disclosure-detail"),
    path("disclosures/<int:pk>/outcome/", api.DisclosureOutcomeApi.as_view(), name="api-disclosure-outcome"),
]
