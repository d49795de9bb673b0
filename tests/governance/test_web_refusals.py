"""How the web pages answer a service's refusal of a posted form (``governance.web.errors``): back to the page it was
posted from with the sentence (and, where asked, one line per field), while a missing or forbidden object stays the
404 or 403 page; and the same through a real page (the Authorising Officer's form)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.signed_cookies import SessionStore
from django.http import Http404, HttpResponse
from django.test import RequestFactory
from django.urls import reverse

from governance.errors import NotFound, PermissionRefused, StateConflict, ValidationFailed
from governance.web.errors import refusals_as_pages, refusals_back_to

REFUSAL = ValidationFailed(
    "The form is incomplete.", details={"reasons": ["Write the reasons.", "At least a sentence."], "limit": 20}
)


def _request():
    request = RequestFactory().post("/anything/")
    request.session = SessionStore()
    request.user = AnonymousUser()
    request._messages = FallbackStorage(request)
    return request


def _view(error, **options):
    @refusals_as_pages
    @refusals_back_to("deployment-detail", **options)
    def view(request, pk):
        if error is not None:
            raise error
        return HttpResponse("done")

    return view


def _said(request) -> list[str]:
    return [str(message) for message in get_messages(request)]


def test_a_refusal_goes_back_to_the_page_with_its_sentence():
    request = _request()
    response = _view(REFUSAL)(request, pk=7)
    assert (response.status_code, response["Location"]) == (302, reverse("deployment-detail", args=[7]))
    assert _said(request) == ["The form is incomplete."]


def test_with_details_each_field_named_gets_its_line():
    request = _request()
    response = _view(REFUSAL, with_details=True)(request, pk=7)
    assert response.status_code == 302
    assert _said(request) == [
        "The form is incomplete.",
        "reasons: Write the reasons. At least a sentence.",
        "limit: 20",  # one value, not a list: said whole
    ]


def test_a_state_conflict_goes_back_too_and_success_is_the_views_own_answer():
    request = _request()
    assert _view(StateConflict("It has ended."))(request, pk=3).status_code == 302
    assert _said(request) == ["It has ended."]
    assert _view(None)(_request(), pk=3).content == b"done"


@pytest.mark.django_db
def test_missing_or_forbidden_stays_the_404_or_403_page():
    with pytest.raises(Http404):
        _view(NotFound("No such deployment."))(_request(), pk=1)
    request = _request()
    response = _view(PermissionRefused("Not yours to change."))(request, pk=1)
    assert response.status_code == 403 and b"Not yours to change." in response.content
    assert _said(request) == []


@pytest.mark.django_db
def test_the_authorising_officers_refusal_without_reasons_comes_back_to_the_deployment_page(
    client, cast, active_agreement
):
    from recognition.deployments.models import DeploymentAuthorisation
    from recognition.deployments.services.planning import deployment_plan
    from tests.recognition.deployments.conftest import deployment_fields

    deployment = deployment_plan(actor=cast.estate_dpo, agreements=[active_agreement], fields=deployment_fields(cast))
    client.force_login(cast.met_ao)
    response = client.post(
        reverse("deployment-authorisation", args=[deployment.pk]), {"decision": "refuse", "refusal_reasons": ""}
    )
    assert (response.status_code, response["Location"]) == (302, reverse("deployment-detail", args=[deployment.pk]))
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "The Authorising Officer's written reasons are incomplete."
    ]
    assert not DeploymentAuthorisation.objects.exists()
