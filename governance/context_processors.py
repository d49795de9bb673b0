from django.conf import settings


def oversight(request):
    from governance.signin.services import second_factor_required, session_verified

    user = getattr(request, "user", None)
    # Signed in with the password but not yet the second factor: the pages show no navigation.
    pending = bool(
        user is not None and user.is_authenticated and second_factor_required(user) and not session_verified(request)
    )
    return {"OVERSIGHT_MODE": settings.OVERSIGHT_MODE, "second_factor_pending": pending}
