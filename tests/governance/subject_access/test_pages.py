"""The subject request pages: intake, the list and dashboard deadlines, search (a POST with its
justification; crops as data: URIs the CSP allows), decisions, the export with its progress, and
what a regulator sees (metadata only)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from governance.audit.models import AuditEvent
from governance.subject_access.models import SubjectRequest, SubjectRequestExport
from tests.governance.subject_access.conftest import face_like_jpeg, intake
from tests.governance.subject_access.test_search_and_export import ProbeStore, blur_others, colour_layout

pytestmark = pytest.mark.django_db


def _form(**overrides) -> dict:
    fields = intake(**overrides)
    fields["subject_references"] = "\n".join(fields["subject_references"])
    fields["received_on"] = fields["received_on"].isoformat()
    return fields


def test_a_dpo_records_a_request_and_sees_its_deadline_on_the_list_and_dashboard(client, cast):
    client.force_login(cast.estate_dpo)
    nav = client.get(reverse("dashboard")).content.decode()
    assert reverse("subject-request-list") in nav and "Subject requests" in nav
    response = client.post(reverse("subject-request-create"), _form())
    request = SubjectRequest.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("subject-request-detail", args=[request.pk])
    late = client.post(reverse("subject-request-create"), _form(received_on=timezone.localdate() - timedelta(days=40)))
    assert late.status_code == 302
    listing = client.get(reverse("subject-request-list")).content.decode()
    assert request.reference in listing and "days left" in listing
    assert 'data-deadline="overdue"' in listing and "Overdue by" in listing
    dashboard = client.get(reverse("dashboard")).content.decode()
    assert 'id="sar-deadlines"' in dashboard and "1 overdue" in dashboard
    overdue_only = client.get(reverse("subject-request-list"), {"overdue": "1"}).content.decode()
    assert request.reference not in overdue_only


def test_an_incomplete_intake_shows_coded_reasons_not_a_500(client, cast):
    client.force_login(cast.estate_dpo)
    response = client.post(reverse("subject-request-create"), _form(regime="dpa_part3"))
    assert response.status_code == 200 and "Part 3 is for competent authorities" in response.content.decode()
    assert not SubjectRequest.objects.exists()


def test_search_by_face_in_the_page_shows_scored_crops_and_records_only_the_decision(
    client, cast, held, clean_registry, settings
):
    """The photo search is answered at once ("searching", refreshing itself); the worker's task (run here as the
    embedded default runs it, on commit) stores the candidates, which the page then shows."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import TestCase

    from governance.subject_access.models import SubjectPhotoSearch

    clean_registry.face_reader_register(colour_layout)
    clean_registry.face_redactor_register(blur_others)
    clean_registry.subject_data_provider_register(ProbeStore({"p1": face_like_jpeg(1)}).provider())
    client.force_login(cast.estate_dpo)
    client.post(reverse("subject-request-create"), _form())
    request = SubjectRequest.objects.get()
    url = reverse("subject-request-search", args=[request.pk])

    with TestCase.captureOnCommitCallbacks(execute=False) as queued:
        answer = client.post(
            url,
            {
                "justification": "Photo supplied with the SAR.",
                "subject_references": "MET-S-0001",
                "photo": SimpleUploadedFile("me.jpg", face_like_jpeg(2), content_type="image/jpeg"),
            },
        )
    search = SubjectPhotoSearch.objects.get()
    result_url = reverse("subject-request-search-result", args=[request.pk, search.pk])
    assert answer.status_code == 302 and answer["Location"] == result_url
    assert (
        search.status == "queued"
        and search.photo_ciphertext
        and not AuditEvent.objects.filter(event="subject_request.searched")
    )
    waiting = client.get(result_url).content.decode()
    assert 'data-status="queued"' in waiting and '<meta http-equiv="refresh" content="2">' in waiting
    assert len(queued) == 1
    queued[0]()  # the worker's task (in-process, as in the embedded default)
    search.refresh_from_db()
    assert search.status == "done" and search.photo_ciphertext is None and search.photo_erased_at
    page = client.get(result_url)
    text = page.content.decode()
    assert page.status_code == 200 and 'data-ref="test-probe:p1"' in text and "http-equiv" not in text
    assert re.search(r'<img class="thumbnail" src="data:image/jpeg;base64,', text)  # not a served file
    assert "img-src 'self' data:" in page["Content-Security-Policy"]
    assert f'data-ref="watchlist-image:{held.image.pk}"' in text
    event = AuditEvent.objects.get(event="subject_request.searched")
    assert event.justification == "Photo supplied with the SAR." and event.details["by_face"] is True
    assert event.actor_id == cast.estate_dpo.pk
    viewed = AuditEvent.objects.get(event="subject_request.search_results_viewed")
    assert viewed.action == "consultation" and "test-probe:p1" in viewed.details["candidates"]
    # Another DPO of the same organisation does not see this searcher's candidates (nor learns the search exists).
    client.force_login(cast.estate_dpo2)
    assert client.get(result_url).status_code == 404
    client.force_login(cast.estate_dpo)
    refs = re.findall(r'name="ref" value="([^"]+)"', text)
    decisions = {f"decision_{i}": "confirmed" if ref == "test-probe:p1" else "dismissed" for i, ref in enumerate(refs)}
    response = client.post(reverse("subject-request-decide", args=[request.pk]), {"ref": refs, **decisions})
    assert response.status_code == 302
    stored = dict(request.items.values_list("ref", "decision"))
    assert stored["test-probe:p1"] == "confirmed" and len(stored) == len(refs)
    # The candidates served their purpose: erased with the decisions.
    search.refresh_from_db()
    assert search.results_ciphertext is None and search.results_erased_at
    assert "were erased when decisions were recorded" in client.get(result_url).content.decode()
    # Too big a photo: refused (coded) before it is read; a search without a justification too.
    settings.OVERSIGHT_SUBJECT_PHOTO_MAX_BYTES = 1000
    big = client.post(
        url,
        {
            "justification": "Photo supplied with the SAR.",
            "photo": SimpleUploadedFile("me.jpg", face_like_jpeg(2), content_type="image/jpeg"),
        },
    )
    assert big.status_code == 400 and "the limit is 1,000 bytes" in big.content.decode()
    unjustified = client.post(url, {"justification": "", "subject_references": "MET-S-0001"})
    assert unjustified.status_code == 400 and "Say why you are searching" in unjustified.content.decode()


def test_the_export_is_built_with_progress_and_downloaded_as_an_audited_disclosure(client, cast, held, clean_registry):
    clean_registry.face_redactor_register(blur_others)
    client.force_login(cast.met_dpo)
    client.post(reverse("subject-request-create"), _form(regime="dpa_part3"))
    request = SubjectRequest.objects.get()
    client.post(
        reverse("subject-request-search", args=[request.pk]),
        {"justification": "SAR received by post.", "subject_references": "MET-S-0001"},
    )
    client.post(
        reverse("subject-request-decide", args=[request.pk]),
        {"ref": [f"watchlist-image:{held.image.pk}"], "decision_0": "confirmed"},
    )
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        assert client.post(reverse("subject-request-export", args=[request.pk])).status_code == 302
    export = SubjectRequestExport.objects.get()
    status = client.get(reverse("subject-request-export-status", args=[export.pk])).json()
    assert status["status"] == "ready" and status["progress"] == 100
    detail = client.get(reverse("subject-request-detail", args=[request.pk])).content.decode()
    assert "js/subject-export.js" in detail and "<progress" in detail and status["pdf"] in detail
    pdf = client.get(status["pdf"])
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    data = client.get(status["json"]).json()
    assert data["request"]["reference"] == request.reference
    assert AuditEvent.objects.filter(event="subject_request.downloaded", action="disclosure").count() == 2
    assert client.get(reverse("subject-request-download", args=[export.pk, "docx"])).status_code == 400


def test_a_regulator_reads_the_register_but_not_the_contents(client, cast):
    client.force_login(cast.estate_dpo)
    client.post(reverse("subject-request-create"), _form())
    request = SubjectRequest.objects.get()
    client.force_login(cast.regulator)
    listing = client.get(reverse("subject-request-list")).content.decode()
    assert request.reference in listing
    detail = client.get(reverse("subject-request-detail", args=[request.pk])).content.decode()
    assert 'id="metadata-only"' in detail and "Robin Requester" not in detail
    assert client.get(reverse("subject-request-search", args=[request.pk])).status_code == 403
    client.force_login(cast.other_dpo)
    assert client.get(reverse("subject-request-detail", args=[request.pk])).status_code == 404


def test_the_dpo_sets_the_staff_names_policy(client, cast):
    client.force_login(cast.estate_dpo)
    client.post(reverse("subject-request-policy"), {"staff_names_as_roles": "on"})
    cast.estate.refresh_from_db()
    assert cast.estate.staff_names_as_roles is True
    assert AuditEvent.objects.filter(event="organisation.staff_names_policy_set").exists()
    client.force_login(cast.regulator)
    assert client.post(reverse("subject-request-policy"), {}).status_code == 403


def test_the_page_asks_for_a_fee_and_shows_the_deadline_from_its_payment(client, cast):
    """DPA 2018 s.54(3)(c): the month runs from the payment; the page's due date is the function's."""
    from governance.subject_access.deadlines import next_working_day, one_calendar_month_after

    client.force_login(cast.estate_dpo)
    received = timezone.localdate() - timedelta(days=10)
    client.post(reverse("subject-request-create"), _form(received_on=received))
    request = SubjectRequest.objects.get()
    action = reverse("subject-request-action", args=[request.pk])
    asked = (received + timedelta(days=1)).isoformat()
    refused = client.post(action, {"action": "stop", "reason": "fee", "on": asked}, follow=True).content.decode()
    assert "manifestly unfounded or excessive" in refused and not request.pauses.exists()
    client.post(action, {"action": "stop", "reason": "fee", "on": asked, "fee_ground": "manifestly_excessive"})
    page = client.get(reverse("subject-request-detail", args=[request.pk])).content.decode()
    assert "Awaiting the fee" in page and "— (clock stopped)" in page
    paid = received + timedelta(days=5)
    client.post(action, {"action": "restart", "on": paid.isoformat()})
    request.refresh_from_db()
    due = next_working_day(one_calendar_month_after(paid))
    assert request.due_on == due
    assert f"{due.day} {due:%B %Y}" in client.get(reverse("subject-request-detail", args=[request.pk])).content.decode()
