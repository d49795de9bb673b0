"""Request and response examples of the police API's governance operations (shown in the docs).

The test ``tests/api/test_api_schema.py`` checks every example against the operation's schema, so an
example that stops matching the serializers fails CI.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample

AGREEMENT = {
    "id": 7,
    "reference": "DSA-2026-0007",
    "version": 1,
    "title": "Camden watchlist images for the King's Cross estate",
    "status": "active",
    "supplying_organisation": "met-camden",
    "receiving_organisation": "kx-estate",
    "purpose": "Locating people wanted on warrant for serious violent offences at the estate.",
    "data_items": "Custody photograph, pseudonymous subject reference, custody category and reference.",
    "lawful_basis": "s35_5",
    "schedule8_condition": "sch8_1",
    "special_category_data": "Biometric data (facial images processed to identify); criminal offence data.",
    "permitted_custody_categories": ["wanted", "suspect"],
    "max_images": 50,
    "starts_on": "2026-11-01",
    "ends_on": "2027-04-30",
    "review_on": "2027-02-01",
    "match_retention_days": 31,
    "watchlist_erasure_hours": 24,
    "retention_extension_match_days": None,
    "retention_extension_watchlist_hours": None,
    "retention_extension_reason": "",
    "retention_extension_approved_by_name": "",
    "retention_extension_approved_at": None,
    "operator_article6_basis": "art6_1_f",
    "operator_article9_condition": "art9_2_g",
    "operator_schedule1_condition": "sch1_10",
    "police_reviewer_required": True,
    "operator_reviewers_see_image": False,
    "regulator_notified_on": "2026-10-20",
    "regulator_notification_reference": "ICO-2026-4411",
    "regulator": "ico",
    "approved_at": "2026-10-28T10:15:00Z",
    "approving_organisation": "met",
    "countersigned_at": "2026-10-29T09:02:00Z",
    "recorded_retrospectively": False,
    "rule_breaches": [],
}

WATCHLIST_IMAGE = {
    "id": 1201,
    "agreement": 7,
    "agreement_reference": "DSA-2026-0007",
    "supplying_organisation": "met-camden",
    "supplying_force": "met",
    "subject_reference": "KX-SUBJ-0042",
    "custody_category": "wanted",
    "legal_basis": "s35_5",
    "schedule8_condition": "sch8_1",
    "custody_reference": "CUST/01/26/88310",
    "image_taken_on": "2026-09-14",
    "shared_on": "2026-12-01",
    "transfer_channel": "api",
    "notes": "",
    "submitted_by_name": "api.met-camden",
    "received_at": "2026-12-01T18:32:05Z",
    "sha256": "3f0a9c5e1b7d4e2f8a6c0b9d7e5f3a1c2b4d6e8f0a1b3c5d7e9f1a2b4c6d8e0f",
    "image_format": "JPEG",
    "width": 640,
    "height": 800,
    "face_box": None,
    "status": "received",
    "stage": "received",
    "rejection_reason": "",
    "rejection_message": "",
    "enrolled_at": None,
    "rejected_at": None,
    "withdrawn_at": None,
    "withdrawal_reason": "",
    "erased_at": None,
    "recorded_retrospectively": False,
}

# As the upload's 202 answers it: the worker has not yet decoded it (no width or height yet).
CHECKING_IMAGE = {**WATCHLIST_IMAGE, "stage": "checking", "width": None, "height": None}

WITHDRAWN_IMAGE = {
    **WATCHLIST_IMAGE,
    "status": "erased",
    "stage": "erased",
    "enrolled_at": "2026-12-01T18:32:09Z",
    "withdrawn_at": "2026-12-02T08:00:00Z",
    "withdrawal_reason": "Warrant executed; no longer wanted.",
    "erased_at": "2026-12-02T08:00:00Z",
    "deletion_certificates": [
        {
            "id": 88,
            "subject_type": "governance.watchlistimage",
            "subject_id": "1201",
            "sha256": WATCHLIST_IMAGE["sha256"],
            "reason": "Warrant executed; no longer wanted.",
            "rule": "withdrawal",
            "erased_at": "2026-12-02T08:00:00Z",
            "erased_by_name": "api.met-camden",
            "run_id": None,
        }
    ],
}

UPLOAD_FIELDS = {
    "agreement": 7,
    "subject_reference": "KX-SUBJ-0042",
    "custody_category": "wanted",
    "custody_reference": "CUST/01/26/88310",
    "image_taken_on": "2026-09-14",
    "legal_basis": "s35_5",
}

agreement_list = [
    OpenApiExample(
        "Agreements",
        value=AGREEMENT,  # drf-spectacular wraps it in the page
        response_only=True,
        status_codes=["200"],
    ),
]
agreement_detail = [OpenApiExample("An active agreement", value=AGREEMENT, response_only=True, status_codes=["200"])]

watchlist_list = [
    OpenApiExample(
        "Images",
        value={"count": 1, "next": None, "previous": None, "results": [WATCHLIST_IMAGE]},
        response_only=True,
        status_codes=["200"],
    )
]
watchlist_upload = [
    OpenApiExample(
        "One custody image",
        value={**UPLOAD_FIELDS, "image": "@custody-88310.jpg"},
        request_only=True,
        media_type="multipart/form-data",
    ),
    OpenApiExample(
        "Accepted, checking",
        value={**CHECKING_IMAGE, "url": "/api/v1/watchlist-images/1201/"},
        response_only=True,
        status_codes=["202"],
    ),
]
watchlist_detail = [
    OpenApiExample("Received", value={**WATCHLIST_IMAGE, "deletion_certificates": []}, response_only=True),
]
watchlist_withdraw = [
    OpenApiExample(
        "Reason in the body (or the X-Reason header)",
        value={"reason": "Warrant executed; no longer wanted."},
        request_only=True,
    ),
    OpenApiExample("Withdrawn and erased", value=WITHDRAWN_IMAGE, response_only=True, status_codes=["200"]),
]
BULK_STATUS = {
    "id": 31,
    "url": "/api/v1/watchlist-bulk-uploads/31/",
    "created_at": "2026-12-01T18:32:05Z",
    "accepted": 1,
    "refused": 1,
    "checking": 1,
    "complete": False,
    "results": [
        {"index": 0, "ok": True, "image": CHECKING_IMAGE, "error": None},
        {
            "index": 1,
            "ok": False,
            "image": None,
            "error": {
                "code": "not_an_image",
                "message": "The file is not a JPEG, PNG or WebP image.",
                "details": None,
                "status": 422,
            },
        },
    ],
}

watchlist_bulk = [
    OpenApiExample(
        "Two images",
        value={
            "items": [
                {**UPLOAD_FIELDS, "image_base64": "/9j/4AAQSkZJRgABAQ…"},
                {**UPLOAD_FIELDS, "subject_reference": "KX-SUBJ-0043", "image_base64": "iVBORw0KGgo…"},
            ]
        },
        request_only=True,
    ),
    OpenApiExample("One accepted, one refused", value=BULK_STATUS, response_only=True, status_codes=["202"]),
]

watchlist_bulk_status = [
    OpenApiExample(
        "Both done: one enrolled, one refused at receipt",
        value={
            **BULK_STATUS,
            "checking": 0,
            "complete": True,
            "results": [
                {
                    "index": 0,
                    "ok": True,
                    "image": {**WATCHLIST_IMAGE, "status": "enrolled", "stage": "enrolled"},
                    "error": None,
                },
                BULK_STATUS["results"][1],
            ],
        },
        response_only=True,
        status_codes=["200"],
    )
]
