"""Search (by reference and by face), compilation, redaction and the exported PDF/JSON.

The engine's face reader and face redactor, and the alert/probe providers, are recognition's (not in
this branch). To prove governance's orchestration without them, these tests register a real, simple
face reader (a colour-layout vector of the photo), a real redactor (Pillow blur of everything outside
the subject's box) and a real probe provider that compares vectors by cosine similarity — nothing in
governance's own code path is mocked. The PDF is parsed with pypdf, its embedded image measured for
blur, and a page rendered with pdftoppm.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from datetime import timedelta

import numpy as np
import pytest
from django.utils import timezone
from PIL import Image, ImageFilter
from pypdf import PdfReader

from governance import encryption
from governance.audit.models import AuditEvent
from governance.errors import ValidationFailed
from governance.subject_access import services as sars
from governance.subject_access.models import ExportStatus, ItemDecision, SubjectRequestExport
from governance.subject_access.registry import (
    Candidate,
    FaceProbe,
    ItemRef,
    Picture,
    StaffMention,
    SubjectDataProvider,
    SubjectItem,
)
from tests.governance.subject_access.conftest import face_like_jpeg, intake

pytestmark = pytest.mark.django_db

SUBJECT_BOX = (20, 40, 90, 140)


def colour_layout(jpeg: bytes) -> FaceProbe:
    """A real (if simple) face reader: 4x4 colour layout of the photo, unit length. A flat image has
    no face to read (ValueError, as the registry's contract says)."""
    image = Image.open(io.BytesIO(jpeg)).convert("RGB")
    if max(image.getextrema(), key=lambda band: band[1] - band[0])[1] - min(b[0] for b in image.getextrema()) < 30:
        raise ValueError("no face found in the photo")
    vector = np.asarray(image.resize((4, 4)), dtype=np.float32).ravel()
    vector -= vector.mean()
    return FaceProbe(embedding=vector / np.linalg.norm(vector), backend="test-colour-layout", box=SUBJECT_BOX)


def blur_others(jpeg: bytes, keep_box) -> bytes:
    """A real redactor: everything outside ``keep_box`` blurred (every other face with it)."""
    image = Image.open(io.BytesIO(jpeg)).convert("RGB")
    blurred = image.filter(ImageFilter.GaussianBlur(12))
    if keep_box:
        blurred.paste(image.crop(keep_box), keep_box[:2])
    out = io.BytesIO()
    blurred.save(out, format="JPEG", quality=92)
    return out.getvalue()


class ProbeStore:
    """A provider of stored probes (what recognition's alert provider does over its alerts)."""

    kind = "test-probe"

    def __init__(self, photos: dict[str, bytes]):
        self.photos = photos
        self.vectors = {key: colour_layout(jpeg).embedding for key, jpeg in photos.items()}
        self.queries = []

    def search(self, actor, query):
        self.queries.append(query)
        if query.face is None or query.face.backend != "test-colour-layout":
            return []
        out = []
        for key, vector in self.vectors.items():
            score = float(np.dot(vector, query.face.embedding))
            if score >= 0.9:
                out.append(
                    Candidate(
                        ref=ItemRef(self.kind, key),
                        title=f"Probe {key}",
                        found_by="face",
                        score=score,
                        crop_jpeg=self.photos[key],
                    )
                )
        return out

    def compile(self, actor, ref):
        if ref.key not in self.photos:
            return None
        return SubjectItem(
            ref=ref,
            section="Alerts",
            title=f"Alert from probe {ref.key}",
            facts=[("Camera", "GS-1, Granary Square")],
            pictures=[Picture(jpeg=self.photos[ref.key], caption="Camera crop", subject_box=SUBJECT_BOX)],
            staff=[StaffMention(name="Riley Reviewer", role="Reviewer")],
            source="Camera GS-1",
            recipients=["Met Camden BCU"],
            retention="31 days after the match.",
            audit_targets=[("test.probe", ref.key)],
        )

    def provider(self) -> SubjectDataProvider:
        return SubjectDataProvider(
            kind=self.kind, title="Test probes", section="Alerts", search=self.search, compile=self.compile
        )


def _request(actor, **fields):
    return sars.subject_request_receive(actor=actor, fields=intake(**fields))


def test_search_by_reference_is_audited_with_its_justification(cast, held):
    request = _request(cast.estate_dpo)
    with pytest.raises(ValidationFailed) as refused:
        sars.subject_request_search(actor=cast.estate_dpo, request=request, justification="", subject_references=["x"])
    assert refused.value.code == "justification_required"
    outcome = sars.subject_request_search(
        actor=cast.estate_dpo, request=request, justification="SAR received by post.", subject_references=["met-s-0001"]
    )
    refs = {str(c.ref) for c in outcome.candidates}
    assert f"watchlist-image:{held.image.pk}" in refs and f"watchlist-image:{held.withdrawn.pk}" in refs
    assert f"watchlist-image:{held.other.pk}" not in refs
    assert {f"deletion-certificate:{c.pk}" for c in held.certificates} <= refs
    # The operator's DPO sees provenance, not the image bytes: no crop for them.
    assert all(c.crop_jpeg is None for c in outcome.candidates)
    event = AuditEvent.objects.get(event="subject_request.searched")
    assert event.action == "consultation" and event.justification == "SAR received by post."
    assert event.details["by_face"] is False


def test_search_by_face_without_a_face_engine_is_a_coded_refusal(cast, held, clean_registry):
    request = _request(cast.estate_dpo)
    with pytest.raises(ValidationFailed) as refused:
        sars.subject_request_search(
            actor=cast.estate_dpo, request=request, justification="Photo supplied.", photo=face_like_jpeg(1)
        )
    assert refused.value.code == "face_search_unavailable"


def test_search_by_face_reads_the_photo_once_and_asks_every_provider(cast, held, clean_registry):
    reads = []

    def reader(jpeg):
        reads.append(len(jpeg))
        return colour_layout(jpeg)

    clean_registry.face_reader_register(reader)
    store = ProbeStore({"p1": face_like_jpeg(1), "p2": face_like_jpeg(90)})
    clean_registry.subject_data_provider_register(store.provider())
    request = _request(cast.estate_dpo, subject_references=[])
    outcome = sars.subject_request_search(
        actor=cast.estate_dpo, request=request, justification="Photo supplied with the SAR.", photo=face_like_jpeg(2)
    )
    assert len(reads) == 1 and outcome.by_face
    assert store.queries and store.queries[0].face.backend == "test-colour-layout"
    found = {str(c.ref): c for c in outcome.candidates}
    assert "test-probe:p1" in found and found["test-probe:p1"].score > 0.9
    assert "test-probe:p2" not in found  # someone else's colours
    # Not an image at all, and a photo with no face: coded refusals, nothing searched.
    with pytest.raises(ValidationFailed) as refused:
        sars.subject_request_search(
            actor=cast.estate_dpo, request=request, justification="Photo supplied again.", photo=b"GIF89a...."
        )
    assert refused.value.code == "unsupported_type"
    flat = io.BytesIO()
    Image.new("RGB", (120, 120), (128, 128, 128)).save(flat, format="JPEG")
    with pytest.raises(ValidationFailed) as refused:
        sars.subject_request_search(
            actor=cast.estate_dpo, request=request, justification="Photo supplied again.", photo=flat.getvalue()
        )
    assert refused.value.code == "no_usable_face"
    event = AuditEvent.objects.filter(event="subject_request.searched").latest("sequence")
    assert event.details["by_face"] is True and "embedding" not in json.dumps(event.details)


def _export(actor, request) -> SubjectRequestExport:
    """Start the export; the task runs on commit (in-process here, as in the embedded default)."""
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        sars.subject_request_export_start(actor=actor, request=request)
    return SubjectRequestExport.objects.filter(request=request).latest("pk")


def _confirm_all(actor, request, **search):
    outcome = sars.subject_request_search(actor=actor, request=request, justification="SAR received.", **search)
    sars.subject_request_decide(
        actor=actor,
        request=request,
        decisions=[(str(c.ref), ItemDecision.CONFIRMED, c.found_by) for c in outcome.candidates],
    )
    return outcome


def _stripe_contrast(image: Image.Image, box) -> float:
    """Mean absolute difference between neighbouring pixels inside ``box`` (within a face): the
    fine stripes give a high one, a blur a low one."""
    grey = np.asarray(image.convert("L").crop(box), dtype=np.float32)
    return float(np.abs(np.diff(grey, axis=1)).mean())


def test_the_exported_pdf_has_the_sections_the_images_redacted_and_page_numbers(
    cast, held, clean_registry, artifacts_dir, django_capture_on_commit_callbacks
):
    clean_registry.face_reader_register(colour_layout)
    clean_registry.face_redactor_register(blur_others)
    store = ProbeStore({"p1": face_like_jpeg(1)})
    clean_registry.subject_data_provider_register(store.provider())
    request = _request(cast.met_dpo, regime="dpa_part3")
    _confirm_all(cast.met_dpo, request, subject_references=["MET-S-0001"], photo=face_like_jpeg(2))
    with django_capture_on_commit_callbacks(execute=True):
        sars.subject_request_export_start(actor=cast.met_dpo, request=request)
    export = SubjectRequestExport.objects.get(request=request)
    assert export.status == ExportStatus.READY and export.progress == 100
    assert export.kept_until == timezone.localdate() + timedelta(days=90)
    assert b"%PDF" not in bytes(export.pdf_ciphertext)  # encrypted at rest
    pdf = encryption.decrypt(bytes(export.pdf_ciphertext))
    reader = PdfReader(io.BytesIO(pdf))
    text = "\n".join(page.extract_text() for page in reader.pages)
    for heading in (
        "Contents",
        "What the law requires us to tell you",
        "Watchlist entries",
        "Alerts",
        "Erasures",
        "Who did what with your data",
        "Information withheld",
        "not on a watchlist",
    ):
        assert heading in text, heading
    assert f"Page 1 of {len(reader.pages)}" in text
    assert "Information Commissioner" in text and "Automated matching and human review" in text
    # What the response says about review comes from the items (none here states one), never a fixed sentence.
    assert "No record we hold about you shows an alert" in text and "two trained people" not in text
    assert "faces scanned" in text  # the aggregate counters are named
    assert "Metropolitan Police Service" in text  # the source / controller
    assert "Watchlist image received" in text and "watchlist_image.received" not in text  # plain words
    images = [image for page in reader.pages for image in page.images]
    assert len(images) >= 2  # the watchlist image and the probe crop, embedded
    for embedded in images:
        picture = Image.open(io.BytesIO(embedded.data))
        subject, bystander = (35, 70, 75, 110), (125, 70, 165, 110)  # inside each face
        assert _stripe_contrast(picture, subject) > 30  # the subject's face is as it was
        assert _stripe_contrast(picture, bystander) < 8  # the other face is blurred
    document = json.loads(encryption.decrypt(bytes(export.json_ciphertext)))
    assert document["request"]["reference"] == request.reference
    assert {s["title"] for s in document["sections"]} == {"Watchlist entries", "Erasures", "Alerts"}
    assert document["information"]["source"] and document["non_match"].startswith("Faces seen")
    # Pages rendered for the eye: the cover letter, and the first page with an embedded (redacted)
    # image (test-artifacts/subject_access_response_page1.png, ..._image_page.png).
    pdftoppm = shutil.which("pdftoppm")
    assert pdftoppm, "pdftoppm (poppler-utils) is needed to render a page"
    pdf_path = artifacts_dir / "subject_access_response.pdf"
    pdf_path.write_bytes(pdf)
    with_image = next(number for number, page in enumerate(reader.pages, start=1) if page.images)
    for page, name in ((1, "page1"), (with_image, "image_page")):
        subprocess.run(
            [
                pdftoppm,
                "-png",
                "-r",
                "70",
                "-f",
                str(page),
                "-l",
                str(page),
                "-singlefile",
                str(pdf_path),
                str(artifacts_dir / f"subject_access_response_{name}"),
            ],
            check=True,
            timeout=60,
        )
        rendered = Image.open(artifacts_dir / f"subject_access_response_{name}.png")
        assert rendered.size[0] > 400 and rendered.convert("L").getextrema()[0] < 100  # ink on the page
    # The export and the download are disclosures to the data subject.
    assert AuditEvent.objects.get(event="subject_request.exported").action == "disclosure"
    data, content_type = sars.subject_request_export_download(actor=cast.met_dpo, export=export, fmt="pdf")
    assert data == pdf and content_type == "application/pdf"
    download = AuditEvent.objects.get(event="subject_request.downloaded")
    assert download.action == "disclosure" and request.reference in download.recipient


def test_without_a_redactor_pictures_are_withheld_never_exported_unredacted(cast, held, clean_registry):
    request = _request(cast.met_dpo, regime="dpa_part3")
    _confirm_all(cast.met_dpo, request, subject_references=["MET-S-0001"])
    export = _export(cast.met_dpo, request)
    assert export.status == ExportStatus.READY  # eager in the embedded default
    reader = PdfReader(io.BytesIO(encryption.decrypt(bytes(export.pdf_ciphertext))))
    assert sum(len(page.images) for page in reader.pages) == 0
    text = " ".join(" ".join(page.extract_text().split()) for page in reader.pages)
    assert "no face redactor is available" in text


def test_staff_names_become_roles_where_the_policy_says_so(cast, held, clean_registry):
    clean_registry.face_redactor_register(blur_others)
    request = _request(cast.met_dpo, regime="dpa_part3")
    _confirm_all(cast.met_dpo, request, subject_references=["MET-S-0001"])
    named = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(_pdf(cast.met_dpo, request))).pages)
    assert "Sam Submitter" in named and "api.camden" not in named  # a name by policy, never a username
    sars.organisation_staff_policy_set(actor=cast.met_dpo, staff_names_as_roles=True)
    request.refresh_from_db()
    request.organisation.refresh_from_db()
    roles = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(_pdf(cast.met_dpo, request))).pages)
    assert "Sam Submitter" not in roles and "api.camden" not in roles
    assert "Force submitter" in roles


def _pdf(actor, request) -> bytes:
    return encryption.decrypt(bytes(_export(actor, request).pdf_ciphertext))


def test_a_restricted_item_is_withheld_with_its_reason_or_neither_confirmed_nor_denied(cast, held, clean_registry):
    clean_registry.face_redactor_register(blur_others)
    request = _request(cast.met_dpo, regime="dpa_part3")
    _confirm_all(cast.met_dpo, request, subject_references=["MET-S-0001"])
    image_item = request.items.get(ref=f"watchlist-image:{held.image.pk}")
    sars.subject_request_item_restrict(
        actor=cast.met_dpo,
        request=request,
        item_id=image_item.pk,
        basis="s45_4_b",
        reason="Active investigation, operation NIGHTJAR.",
    )
    text = " ".join(
        " ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(_pdf(cast.met_dpo, request))).pages
    )
    assert "s.45(4)(b)" in text and "operation NIGHTJAR" in text
    assert f"Watchlist image #{held.image.pk}" not in text
    withdrawn = request.items.get(ref=f"watchlist-image:{held.withdrawn.pk}")
    sars.subject_request_item_restrict(
        actor=cast.met_dpo,
        request=request,
        item_id=withdrawn.pk,
        basis="s45_4_a",
        reason="Covert inquiry: do not reveal.",
        neither_confirm_nor_deny=True,
    )
    text = " ".join(
        " ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(_pdf(cast.met_dpo, request))).pages
    )
    assert "Covert inquiry" not in text and f"Watchlist image #{held.withdrawn.pk}" not in text
    assert "neither confirm nor deny" in text  # the standing sentence, in every response


def test_a_passer_by_with_no_match_gets_the_non_match_explanation(cast, held, clean_registry):
    clean_registry.face_reader_register(colour_layout)
    clean_registry.face_redactor_register(blur_others)
    clean_registry.subject_data_provider_register(ProbeStore({"p1": face_like_jpeg(1)}).provider())
    request = _request(cast.estate_dpo, subject_references=[])
    outcome = sars.subject_request_search(
        actor=cast.estate_dpo, request=request, justification="Passer-by's SAR.", photo=face_like_jpeg(120)
    )
    assert outcome.candidates == []
    text = " ".join(
        " ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(_pdf(cast.estate_dpo, request))).pages
    )
    assert "We hold no personal data about you there" in text
    assert "deleted immediately and automatically" in text and "faces scanned" in text


def test_exported_files_are_erased_by_their_own_retention_rule(cast, held, clean_registry):
    from governance.retention.services import retention_sweep
    from governance.watchlist.models import DeletionCertificate

    request = _request(cast.estate_dpo)
    export = _export(cast.estate_dpo, request)
    assert export.status == ExportStatus.READY
    retention_sweep(at=timezone.now() + timedelta(days=30), triggered_by="test")
    export.refresh_from_db()
    assert export.status == ExportStatus.READY  # not yet due
    retention_sweep(at=timezone.now() + timedelta(days=92), triggered_by="test")
    export.refresh_from_db()
    assert export.status == ExportStatus.ERASED and export.pdf_ciphertext is None
    assert DeletionCertificate.objects.filter(subject_type="governance.subjectrequestexport", subject_id=str(export.pk))
    with pytest.raises(Exception) as refused:
        sars.subject_request_export_download(actor=cast.estate_dpo, export=export, fmt="pdf")
    assert getattr(refused.value, "code", "") == "export_not_ready"
