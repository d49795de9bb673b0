"""How the web pages answer a refusal raised by a service."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render

from governance.errors import ApplicationError, NotFound, PermissionRefused


def refusals_as_pages(view: Callable) -> Callable:
    """``NotFound`` → 404 (another organisation's object looks exactly like a missing one);
    ``PermissionRefused`` → the 403 page with the service's sentence; any other refusal (``ValidationFailed``,
    ``StateConflict``) → its status with its code and sentence."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except NotFound as error:
            raise Http404(error.message) from error
        except PermissionRefused as error:
            return render(request, "errors/403.html", {"message": error.message}, status=403)
        except ApplicationError as error:  # bad input or a state that forbids it: the coded refusal, never a 500
            response = render(
                request, "errors/400.html", {"message": error.message, "code": error.code}, status=error.status_code
            )
            if getattr(error, "retry_after_seconds", None):  # a refusal that passes with time (``ImageDoorBusy``)
                response["Retry-After"] = str(error.retry_after_seconds)
            return response

    return wrapper


def refusal_messages(request, error: ApplicationError) -> None:
    """A refusal as messages on the next page: its sentence, then one line per field it names (``details``: a list
    of sentences, or one value such as a size or a limit)."""
    messages.error(request, error.message)
    if isinstance(error.details, dict):
        for name, problems in error.details.items():
            listed = problems if isinstance(problems, (list, tuple)) else [problems]
            messages.error(request, f"{name}: {' '.join(map(str, listed))}")


def refusal_on_form(form, error: ApplicationError) -> None:
    """A refusal shown on the form that was posted: its sentence above the form, and each problem it names beside
    the field it names (problems for fields the form does not have are in the sentence)."""
    form.add_error(None, error.message)
    if isinstance(error.details, dict):
        for field, problems in error.details.items():
            if field in form.fields:
                form.add_error(field, problems)


def refusals_back_to(page: str, *, with_details: bool = False) -> Callable[[Callable], Callable]:
    """A form posted from the page ``page`` (a URL name taking the view's ``pk``): a refusal of what was asked
    (``ValidationFailed``, ``StateConflict``, …) goes back to that page as a message (``with_details``: and one per
    field it names, ``refusal_messages``), so the user can correct it there; a missing or forbidden object
    (``NotFound``, ``PermissionRefused``) is left to ``refusals_as_pages`` (the 404 or 403 page), which must wrap
    this decorator."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(request, pk, *args, **kwargs):
            try:
                return view(request, pk, *args, **kwargs)
            except (NotFound, PermissionRefused):
                raise
            except ApplicationError as error:
                if with_details:
                    refusal_messages(request, error)
                else:
                    messages.error(request, error.message)
                return redirect(page, pk)

        return wrapper

    return decorate
