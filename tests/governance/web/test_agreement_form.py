"""The agreement form's date rules: field-level errors in plain words, and the service refusing the
same dates with a code (a review before the start was accepted; end-before-start showed the raw
constraint name)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from governance.agreements import services
from governance.agreements.models import Agreement
from governance.errors import ValidationFailed
from governance.web.forms import AgreementForm
from tests.conftest import agreement_terms

pytestmark = pytest.mark.django_db


def _post_data(cast, **overrides) -> dict:
    terms = agreement_terms(cast, **overrides)
    defaults = {
        "lawful_basis": Agreement._meta.get_field("lawful_basis").default,
        "match_retention_days": 30,
        "watchlist_erasure_hours": 24,
    }
    data = {}
    for name in AgreementForm.Meta.fields:
        value = terms.get(name, defaults.get(name))
        if value is None or value is False:
            continue
        data[name] = value.pk if hasattr(value, "pk") else value.isoformat() if hasattr(value, "isoformat") else value
    return data


def _field_errors(response) -> dict:
    form = response.context["form"]
    return {name: [str(e) for e in errors] for name, errors in form.errors.items()}


def test_the_form_accepts_good_dates(client, cast):
    client.force_login(cast.estate_dpo)
    response = client.post("/agreements/new/", _post_data(cast))
    assert response.status_code == 302, _field_errors(response)
    assert Agreement.objects.count() == 1


def test_an_end_before_the_start_is_a_plain_field_error(client, cast):
    client.force_login(cast.estate_dpo)
    starts = agreement_terms(cast)["starts_on"]
    response = client.post(
        "/agreements/new/", _post_data(cast, ends_on=starts - timedelta(days=1), review_on=starts - timedelta(days=5))
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "agreement_ends_after_start" not in body and "onstraint" not in body
    errors = _field_errors(response)
    assert errors["ends_on"] == ["The end date must be on or after the start date."]
    assert "__all__" not in errors
    assert not Agreement.objects.exists()


def test_a_review_before_the_start_is_refused(client, cast):
    client.force_login(cast.estate_dpo)
    starts = agreement_terms(cast)["starts_on"]
    response = client.post("/agreements/new/", _post_data(cast, review_on=starts - timedelta(days=1)))
    assert response.status_code == 200
    assert _field_errors(response)["review_on"] == ["The review date must be on or after the start date."]
    assert not Agreement.objects.exists()


def test_a_review_after_the_end_is_a_field_error_too(client, cast):
    client.force_login(cast.estate_dpo)
    ends = agreement_terms(cast)["ends_on"]
    response = client.post("/agreements/new/", _post_data(cast, review_on=ends + timedelta(days=1)))
    assert _field_errors(response)["review_on"] == ["The review date must fall before the agreement ends."]
    assert not Agreement.objects.exists()


@pytest.mark.parametrize(
    "change, code, field",
    [
        ({"review_on_delta": -1}, "review_before_start", "review_on"),
        ({"ends_on_delta": -1}, "ends_before_start", "ends_on"),
    ],
)
def test_the_service_refuses_the_same_dates_with_a_code(cast, change, code, field):
    starts = agreement_terms(cast)["starts_on"]
    overrides = {}
    if "review_on_delta" in change:
        overrides["review_on"] = starts + timedelta(days=change["review_on_delta"])
    if "ends_on_delta" in change:
        overrides["ends_on"] = starts + timedelta(days=change["ends_on_delta"])
        overrides["review_on"] = starts
    with pytest.raises(ValidationFailed) as refused:
        services.agreement_draft(actor=cast.estate_dpo, fields=agreement_terms(cast, **overrides))
    assert refused.value.code == code
    assert field in refused.value.details
    assert "agreement_ends_after_start" not in refused.value.message
    assert not Agreement.objects.exists()


def test_renewal_dates_follow_the_same_rule(cast, active_agreement):
    starts = active_agreement.ends_on + timedelta(days=1)
    with pytest.raises(ValidationFailed) as refused:
        services.agreement_renew(
            actor=cast.estate_dpo,
            agreement=active_agreement,
            starts_on=starts,
            ends_on=starts + timedelta(days=365),
            review_on=starts - timedelta(days=1),
        )
    assert refused.value.code == "review_before_start"


def test_the_edit_form_shows_saved_dates_in_the_format_date_inputs_read(client, cast):
    """A browser shows an <input type="date"> only when its value is YYYY-MM-DD: a draft saved once could not be
    saved again until every date was retyped, because the form rendered '01/01/2027' (shown empty)."""
    client.force_login(cast.estate_dpo)
    assert client.post("/agreements/new/", _post_data(cast)).status_code == 302
    agreement = Agreement.objects.get()
    body = client.get(f"/agreements/{agreement.pk}/edit/").content.decode()
    for field in ("starts_on", "ends_on", "review_on"):
        value = getattr(agreement, field).isoformat()
        assert f'name="{field}" value="{value}"' in body, field
