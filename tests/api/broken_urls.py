"""The real URLs plus two views that fail as code can fail: an exception in a DRF view and in a plain
Django view under /api/ (for the edge's JSON-only test)."""

from django.urls import path
from rest_framework.views import APIView

from config.urls import urlpatterns as real_urlpatterns


class BrokenApi(APIView):
    permission_classes: list = []

    def get(self, request):
        raise RuntimeError("a defect, with a detail no client should see: /srv/oversight/secret.py line 12")


def broken_plain_view(request):
    raise KeyError("a defect outside DRF")


urlpatterns = [
    path("api/v1/_broken/", BrokenApi.as_view()),
    path("api/v1/_broken-plain/", broken_plain_view),
    *real_urlpatterns,
]
