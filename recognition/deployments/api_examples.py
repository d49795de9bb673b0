"""Request and response examples of the camera, disclosure and deployment API operations (shown in the docs;
checked against the schema by ``tests/api/test_api_schema.py``)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample

DISCLOSURE = {
    "id": 31,
    "alert": 412,
    "deployment": "LFR-2026-0003",
    "site": "King's Cross estate, Granary Square",
    "camera": "GS-1",
    "camera_location": "Granary Square, north steps",
    "subject_reference": "KX-SUBJ-0042",
    "watchlist_image": 1201,
    "score": 0.61,
    "first_seen_at": "2026-12-01T17:58:02Z",
    "last_seen_at": "2026-12-01T17:58:40Z",
    "sightings": 3,
    "recipient_organisation": "met-camden",
    "recipient": "Camden LFR desk (CJSM)",
    "channel": "cjsm_email",
    "justification": "Wanted on warrant for robbery; location needed for arrest.",
    "disclosed_at": "2026-12-01T18:04:11Z",
    "disclosed_by_name": "Priya Shah",
    "outcome": "",
    "outcome_notes": "",
    "outcome_reported_at": None,
    "outcome_reported_by_name": "",
    "outcome_ethnic_group": "",
}
REPORTED = {
    **DISCLOSURE,
    "outcome": "arrested",
    "outcome_notes": "Arrested on warrant at 18:20 by officers on the north steps.",
    "outcome_reported_at": "2026-12-01T19:10:00Z",
    "outcome_reported_by_name": "api.met-camden",
    "outcome_ethnic_group": "white",
}

frame_upload = [
    OpenApiExample(
        "A JPEG frame", value={"frame": "@frame-000123.jpg"}, request_only=True, media_type="multipart/form-data"
    ),
    OpenApiExample(
        "Taken for matching",
        value={"camera": 1, "received_at": "2026-12-01T17:58:02.120Z", "in_flight": 2},
        response_only=True,
        status_codes=["202"],
    ),
]
disclosure_list = [
    OpenApiExample(
        "Awaiting your outcome",
        value=DISCLOSURE,  # drf-spectacular wraps it in the page
        response_only=True,
        status_codes=["200"],
    )
]
disclosure_detail = [OpenApiExample("A disclosure", value=DISCLOSURE, response_only=True, status_codes=["200"])]
disclosure_outcome = [
    OpenApiExample(
        "Arrested",
        value={
            "outcome": "arrested",
            "notes": "Arrested on warrant at 18:20 by officers on the north steps.",
            "ethnic_group": "white",
        },
        request_only=True,
    ),
    OpenApiExample("Outcome recorded", value=REPORTED, response_only=True, status_codes=["200"]),
]

DEPLOYMENT = {
    "id": 3,
    "reference": "LFR-2026-0003",
    "name": "Granary Square evening deployment",
    "operator": "King's Cross Estate Operator",
    "site": "King's Cross estate, Granary Square",
    "status": "live",
    "review_service_level_minutes": 5,
}
deployment_detail = [OpenApiExample("A deployment", value=DEPLOYMENT, response_only=True, status_codes=["200"])]
deployment_service_level = [
    OpenApiExample("Ten minutes", value={"review_service_level_minutes": 10}, request_only=True),
    OpenApiExample(
        "Service level set",
        value={**DEPLOYMENT, "review_service_level_minutes": 10},
        response_only=True,
        status_codes=["200"],
    ),
]
