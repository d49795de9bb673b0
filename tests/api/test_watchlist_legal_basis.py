"""Every image's legal basis is stated by the force that shares it (College of Policing: the legal
basis and source of every image recorded); the API no longer fills one in when it is left out."""

from __future__ import annotations

import base64

import pytest

from governance.watchlist.models import WatchlistImage
from tests.governance.watchlist.support import (
    error_code,
    provenance_fields,
    synthetic_jpeg,
    upload,
)

pytestmark = pytest.mark.django_db


def test_an_upload_without_a_legal_basis_is_refused_naming_the_field(camden_api, active_agreement):
    response = upload(camden_api, active_agreement, seed=71, legal_basis=None)
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "missing_provenance"
    assert "legal_basis" in error["details"] and "legal_basis" in error["message"]
    assert not WatchlistImage.objects.exists()


def test_an_upload_stating_its_legal_basis_records_it(camden_api, active_agreement):
    response = upload(camden_api, active_agreement, seed=72, legal_basis="s35_5")
    assert response.status_code == 202, response.content
    assert WatchlistImage.objects.get(pk=response.json()["id"]).legal_basis == "s35_5"


def test_an_unknown_legal_basis_is_refused(camden_api, active_agreement):
    response = upload(camden_api, active_agreement, seed=73, legal_basis="consent")
    assert response.status_code == 400 and error_code(response) == "invalid_provenance"
    assert "legal_basis" in response.json()["error"]["details"]


def test_a_bulk_item_without_a_legal_basis_is_refused_on_its_own(camden_api, active_agreement):
    stated = provenance_fields(active_agreement, subject_reference="LB-1")
    missing = {
        k: v for k, v in provenance_fields(active_agreement, subject_reference="LB-2").items() if k != "legal_basis"
    }
    stated["image_base64"] = base64.b64encode(synthetic_jpeg(74)).decode()
    missing["image_base64"] = base64.b64encode(synthetic_jpeg(75)).decode()
    response = camden_api.post("/api/v1/watchlist-images/bulk/", {"items": [stated, missing]}, format="json")
    assert response.status_code == 202, response.content
    results = response.json()["results"]
    assert results[0]["ok"] and not results[1]["ok"]
    assert results[1]["error"]["code"] == "missing_provenance" and "legal_basis" in results[1]["error"]["details"]
    assert WatchlistImage.objects.count() == 1
