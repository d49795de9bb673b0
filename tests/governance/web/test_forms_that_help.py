"""Forms that help: errors on the field they concern, in plain words (never a constraint's name),
dates checked against each other, and a public notice dated after the start refused on its field."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.apps import apps
from django.db import models
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from recognition.deployments.models import Deployment
from tests.governance.web.test_agreement_form import _field_errors, _post_data
from tests.recognition.deployments.conftest import deployment_fields

pytestmark = pytest.mark.django_db

DEFAULT_CHECK_MESSAGE = models.CheckConstraint.default_violation_error_message


def test_every_check_constraint_speaks_in_plain_words():
    """A constraint's message reaches people (model validation, forms): none may be Django's default,
    which names the constraint."""
    ours = [a for a in apps.get_app_configs() if a.name.startswith(("governance", "recognition"))]
    silent = [
        f"{model._meta.label}.{constraint.name}"
        for app in ours
        for model in app.get_models()
        for constraint in model._meta.constraints
        if isinstance(constraint, models.CheckConstraint)
        and constraint.violation_error_message in (None, DEFAULT_CHECK_MESSAGE)
    ]
    assert silent == []


def test_no_images_allowed_is_an_error_on_the_field(cast):
    client = Client()
    client.force_login(cast.estate_dpo)
    response = client.post(reverse("agreement-create"), _post_data(cast, max_images=0))
    assert response.status_code == 200
    assert _field_errors(response) == {"max_images": ["An agreement allows at least one image."]}
    assert "Constraint" not in response.content.decode()


def test_a_renewal_with_disordered_dates_is_refused_in_words(cast, active_agreement):
    client = Client()
    client.force_login(cast.estate_dpo)
    today = timezone.localdate()
    response = client.post(
        reverse("agreement-renew", args=[active_agreement.pk]),
        {
            "starts_on": (today + timedelta(days=400)).isoformat(),
            "ends_on": (today + timedelta(days=380)).isoformat(),
            "review_on": (today + timedelta(days=390)).isoformat(),
        },
        follow=True,
    )
    text = response.content.decode()
    assert "Ends on: The end date must be on or after the start date." in text
    assert "ends_on:" not in text  # the field's label, never its code name


# --- deployments ------------------------------------------------------------------------------------


def _deployment_post(cast, agreement, **overrides) -> dict:
    fields = deployment_fields(cast, **overrides)
    data = {}
    for name, value in fields.items():
        if value is None:
            continue
        if hasattr(value, "pk"):
            value = value.pk
        elif hasattr(value, "hour"):
            value = timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")
        elif hasattr(value, "isoformat"):
            value = value.isoformat()
        data[name] = value
    data["agreements"] = [agreement.pk]
    return data


def test_a_deployment_ending_before_it_starts_is_an_error_on_the_end(cast, active_agreement):
    client = Client()
    client.force_login(cast.estate_dpo)
    now = timezone.now()
    response = client.post(
        reverse("deployment-create"),
        _deployment_post(cast, active_agreement, starts_at=now + timedelta(hours=5), ends_at=now + timedelta(hours=1)),
    )
    assert response.status_code == 200
    assert response.context["form"].errors["ends_at"] == ["The deployment must end after it starts."]
    assert (
        "Constraint" not in response.content.decode() and "deployment_window_ordered" not in response.content.decode()
    )
    assert not Deployment.objects.exists()


def test_the_operator_proposes_without_naming_an_officer_and_a_late_notice_is_an_error_on_its_field(
    cast, active_agreement
):
    """The Authorising Officer is the force's, who authorises in Oversight
    (``recognition.deployments.authorisation``): the operator's form asks for no officer or approver."""
    client = Client()
    client.force_login(cast.estate_dpo)
    form = client.get(reverse("deployment-create")).context["form"]
    assert not {f for f in form.fields if f.startswith("authorising_officer") or f.startswith("threshold_approved")}

    late = _deployment_post(cast, active_agreement, public_notice_given_on=timezone.localdate() + timedelta(days=10))
    response = client.post(reverse("deployment-create"), late)
    assert response.status_code == 200
    assert response.context["form"].errors["public_notice_given_on"] == [
        "The public notice must be given before the deployment starts, not after."
    ]
    assert not Deployment.objects.exists()

    response = client.post(reverse("deployment-create"), _deployment_post(cast, active_agreement))
    assert response.status_code == 302, response.context["form"].errors
    assert Deployment.objects.get().authorisations.count() == 0  # proposed, not yet authorised
