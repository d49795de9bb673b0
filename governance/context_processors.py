from django.conf import settings


def oversight(request):
    return {"OVERSIGHT_MODE": settings.OVERSIGHT_MODE}
