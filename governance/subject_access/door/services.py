"""Writes for the public door: submission, answers to what the DPO asked, one-time codes, the
response's single-use link, and the DPO's reading of what the person sent.

Who acts: the data subject, not signed in (``actor`` None in the audit log, the client address in
the event's details), or the DPO through ``governance.subject_access.access``. Every entry point
opens its own ``transaction.atomic()`` and writes its audit event inside it. E-mails leave through
Django's mail API after commit (``transaction.on_commit``), never before the state they describe is
saved. Uploads are hostile: every image goes through the cheap checks (type sniffed from its bytes,
size, header, decode budget, scan and pixel limits: ``image_precheck``, nothing decoded in the web request) and is
stored encrypted (``governance.encryption``); the worker decodes it and keeps only a metadata-free re-encoding, or
erases a refused one (``door.checks``, issue 26). Nothing reads a file the worker has not checked. Codes and link
tokens are stored as keyed hashes only, never logged.

The link alone is not enough: the response is released only to the link's token *and* a one-time
code sent in a separate e-mail; the link works once, until it expires, and locks after
``OVERSIGHT_DOOR_CODE_ATTEMPTS`` wrong codes.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import QuerySet
from django.dispatch import receiver
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from governance import encryption
from governance.audit.models import AuditAction
from governance.audit.services import audit_record
from governance.errors import ApplicationError, NotFound, RateLimited, StateConflict, ValidationFailed
from governance.locks import lock_rows
from governance.organisations.models import Organisation, OrganisationKind, User
from governance.ratelimit import rate_hit
from governance.retention.erasure import erasure_with_certificate
from governance.subject_access.access import subject_request_check, subject_requests_visible_to
from governance.subject_access.door.models import (
    DoorCode,
    DoorCodePurpose,
    DoorFile,
    DoorFileKind,
    DoorReply,
    DoorSubmission,
)
from governance.subject_access.models import (
    CLOCK_STOPPED_STATUSES,
    RIGHT_PROVISIONS,
    ExportStatus,
    PauseReason,
    Regime,
    SubjectRequest,
    SubjectRequestExport,
    SubjectRequestPause,
)
from governance.subject_access.signals import clock_stopped

MAX_TEXT = 5000
MAX_NAME = 200
PUBLIC_NAME = "The requester, through the public page"

# Which organisations have a door, and the regime its requests fall under: an operator's processing
# is under the UK GDPR; a force's (its units' included: the force's DPO answers) under DPA 2018 Part 3.
DOOR_REGIMES = {OrganisationKind.OPERATOR: Regime.UK_GDPR, OrganisationKind.POLICE_FORCE: Regime.DPA_PART3}


# --- the controllers and the limits ------------------------------------------------------------------


def door_controllers() -> QuerySet[Organisation]:
    return Organisation.objects.filter(kind__in=list(DOOR_REGIMES)).order_by("name")


def door_controller(short_name: str) -> Organisation:
    controller = door_controllers().filter(short_name=short_name).first()
    if controller is None:
        raise NotFound("No such organisation takes requests here.", code="door_controller_not_found")
    return controller


def door_regime(controller: Organisation) -> str:
    return DOOR_REGIMES[controller.kind]


def door_rights(controller: Organisation) -> list[tuple[str, str]]:
    """The rights a person may exercise with this controller, with the law that gives each."""
    return list(RIGHT_PROVISIONS[door_regime(controller)].items())


def door_limit(*, address: str | None, controller: Organisation | None = None) -> None:
    """Count one submission or code request against the client address and the controller; refuse
    (429, coded) over either limit. Addresses are counted, never stored."""
    checks = [(f"address:{address or 'unknown'}", settings.OVERSIGHT_DOOR_RATE_PER_ADDRESS, "door_rate_address")]
    if controller is not None:
        checks.append((f"controller:{controller.pk}", settings.OVERSIGHT_DOOR_RATE_PER_CONTROLLER, "door_rate_org"))
    for ident, rate, code in checks:
        allowed, wait = rate_hit(ident, rate, scope="door-rate")
        if not allowed:
            raise RateLimited(
                f"Too many requests. Please try again in {max(1, int(wait // 60))} minutes.",
                code=code,
                details={"retry_after_seconds": int(wait)},
            )


# --- codes ---------------------------------------------------------------------------------------------


def _digest(value: str) -> str:
    return salted_hmac("oversight.subject_door", value.strip(), algorithm="sha256").hexdigest()


def _new_code() -> str:
    return f"{secrets.randbelow(10**8):08d}"


def _code_issue(*, submission: DoorSubmission, purpose: str, export=None, days: int) -> tuple[DoorCode, str, str]:
    """A fresh code (and link token); an earlier unused code for the same purpose stops working."""
    now = timezone.now()
    DoorCode.objects.filter(submission=submission, purpose=purpose, used_at__isnull=True, expires_at__gt=now).update(
        expires_at=now
    )
    code, token = _new_code(), secrets.token_urlsafe(32) if purpose == DoorCodePurpose.DOWNLOAD else ""
    row = DoorCode.objects.create(
        submission=submission,
        purpose=purpose,
        code_hash=_digest(code),
        link_hash=_digest(token) if token else "",
        export=export,
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    return row, code, token


def door_code_refusal(row: DoorCode | None) -> ApplicationError | None:
    """Why this code can no longer be tried (``None``: it can): used, expired, or locked."""
    if row is None:
        return ValidationFailed(
            "That reference and code do not match. Check both, or ask for a new code.", code="door_code_wrong"
        )
    if row.used_at is not None:
        return StateConflict("This code or link has already been used.", code="door_code_used")
    if row.expires_at <= timezone.now():
        return StateConflict("This code or link has expired. Ask for a new one.", code="door_code_expired")
    if row.failed_attempts >= settings.OVERSIGHT_DOOR_CODE_ATTEMPTS:
        return RateLimited(
            "Too many wrong codes: this code is locked. Ask for a new one, or contact the organisation.",
            code="door_code_locked",
        )
    return None


def _code_check(row: DoorCode | None, code: str, *, address: str | None) -> DoorCode:
    """Refuse a used, expired or locked code; count a wrong one (committed even though the caller's
    work is refused) and lock it at the limit. Returns the row, locked for update, when the code is right."""
    refusal = door_code_refusal(row)
    if refusal is not None:
        raise refusal
    if constant_time_compare(row.code_hash, _digest(code or "")):
        return row
    with transaction.atomic():
        row = lock_rows(DoorCode.objects).get(pk=row.pk)
        row.failed_attempts += 1
        row.save(update_fields=["failed_attempts"])
        locked = row.failed_attempts >= settings.OVERSIGHT_DOOR_CODE_ATTEMPTS
        audit_record(
            action=AuditAction.AUTHENTICATION,
            event="subject_door.code_locked" if locked else "subject_door.code_wrong",
            actor=None,
            target=row.submission.request,
            details={"purpose": row.purpose, "attempts": row.failed_attempts, "address": address or "unknown"},
        )
    if locked:
        raise door_code_refusal(row)
    left = settings.OVERSIGHT_DOOR_CODE_ATTEMPTS - row.failed_attempts
    raise ValidationFailed(
        f"That code is not right. {left} {'try' if left == 1 else 'tries'} left before it locks.",
        code="door_code_wrong",
        details={"attempts_left": left},
    )


# --- mail ----------------------------------------------------------------------------------------------


def _public_url(name: str, *args) -> str:
    return settings.OVERSIGHT_SITE_URL.rstrip("/") + reverse(name, args=args)


def _mail_on_commit(*, to: str, subject: str, body: str) -> None:
    """Send after the state the e-mail describes is committed; a mail failure never undoes it."""
    transaction.on_commit(
        lambda: send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [to], fail_silently=True), robust=True
    )


# --- files -----------------------------------------------------------------------------------------------


def _files_precheck(files: list[tuple[str, bytes]]) -> list[tuple[str, bytes, str]]:
    """Each upload given the cheap checks every upload gets in a web request (``image_precheck``: size, type,
    header, decode budget, scans, minimum side; nothing decoded, issue 26); refused with its coded reason, naming
    the file. Returns ``(kind, bytes as uploaded, content type)``: the worker decodes them (``door.checks``)."""
    from governance.imagetypes import CONTENT_TYPES
    from governance.watchlist.validation import image_precheck

    if len(files) > settings.OVERSIGHT_DOOR_MAX_FILES:
        raise ValidationFailed(f"Send at most {settings.OVERSIGHT_DOOR_MAX_FILES} images.", code="door_too_many_files")
    accepted = []
    for kind, data in files:
        if kind not in DoorFileKind.values:
            raise ValidationFailed("Unknown kind of file.", code="door_file_kind_unknown")
        if len(data) > settings.OVERSIGHT_SUBJECT_PHOTO_MAX_BYTES:
            raise ValidationFailed(
                f"{DoorFileKind(kind).label}: the file is {len(data):,} bytes; the limit is "
                f"{settings.OVERSIGHT_SUBJECT_PHOTO_MAX_BYTES:,} bytes.",
                code="file_too_large",
            )
        try:
            facts = image_precheck(data)
        except ApplicationError as error:
            raise ValidationFailed(f"{DoorFileKind(kind).label}: {error.message}", code=error.code) from None
        accepted.append((kind, data, CONTENT_TYPES[facts.format]))
    return accepted


def _files_store(submission: DoorSubmission, accepted) -> list[DoorFile]:
    """The uploads stored encrypted as sent, unchecked; the worker's check is queued for after commit. No reader
    serves them before it has run (``door_file_read``, ``door_photos``)."""
    from governance.subject_access.door.checks import door_files_queue

    now = timezone.now()
    stored = [
        DoorFile.objects.create(
            submission=submission,
            kind=kind,
            ciphertext=encryption.encrypt(data),
            content_type=content_type,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            key_id=encryption.key_fingerprint(),
            received_at=now,
        )
        for kind, data, content_type in accepted
    ]
    door_files_queue([item.pk for item in stored])
    return stored


# --- submission ------------------------------------------------------------------------------------------


def _text(values: dict, name: str, limit: int) -> str:
    return str(values.get(name) or "").strip()[:limit]


def door_submit(
    *, controller: Organisation, values: dict, files: list[tuple[str, bytes]], address: str | None
) -> SubjectRequest:
    """A person's request through the controller's public page: recorded in the DPO's register as
    received now (``subject_request_receive_through_door``), with the images they sent, and an
    acknowledgement e-mailed with the reference. Refused (coded) over the rate limits, for a bot's
    honeypot, an invalid e-mail address, or a hostile upload — before anything is stored."""
    from governance.subject_access.services import subject_request_receive_through_door

    if values.get("website"):  # the honeypot: a field people never see and bots fill in
        raise ValidationFailed("The form could not be accepted.", code="door_bot_suspected")
    door_limit(address=address, controller=controller)
    email = _text(values, "email", 254)
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationFailed(
            "Give an e-mail address we can reach you at.", code="request_incomplete", details={"email": ["Invalid."]}
        ) from None
    accepted = _files_precheck(files)
    fields = {
        "regime": door_regime(controller),
        "right": values.get("right"),
        "requester_name": _text(values, "requester_name", MAX_NAME),
        "requester_contact": email,
        "acting_for_subject": _text(values, "acting_for_subject", MAX_NAME),
        "request_text": _text(values, "request_text", MAX_TEXT),
        "received_on": timezone.localdate(),
    }
    with transaction.atomic():
        request = subject_request_receive_through_door(organisation=controller, fields=fields)
        SubjectRequest.objects.filter(pk=request.pk).update(created_by_name=PUBLIC_NAME)
        request.pauses.update(
            recorded_by_name=PUBLIC_NAME,
            note="Proof of identity: the month starts from the day it arrived, once the DPO has checked it.",
        )
        submission = DoorSubmission.objects.create(request=request, email=email, submitted_at=timezone.now())
        stored = _files_store(submission, accepted)
        audit_record(
            action=AuditAction.COLLECTION,
            event="subject_door.submitted",
            actor=None,
            target=request,
            details={
                "reference": request.reference,
                "files": sorted(f.kind for f in stored),
                "address": address or "unknown",
            },
        )
        _mail_on_commit(
            to=email,
            subject=f"Your request {request.reference} to {controller.name}",
            body=(
                f"{controller.name} has received your request. Its reference is {request.reference}.\n\n"
                "Keep this reference. If we need anything more from you, we will e-mail you a one-time code "
                f"to use at {_public_url('subject-door-return')}.\n\n"
                "We answer within one calendar month of the day we have what we need to confirm who you are."
            ),
        )
        if not any(f.kind == DoorFileKind.IDENTITY for f in stored):  # ask for it at once, with a code to answer
            door_asked(request=request, pause=request.pauses.get(restarted_on__isnull=True))
    return request


# --- the DPO asks, the person answers ---------------------------------------------------------------------


_ASKED = {
    PauseReason.IDENTITY: "proof of who you are (a clear photo of a passport, driving licence or identity card)",
    PauseReason.CLARIFICATION: "more detail about what you are asking for",
    PauseReason.FEE: "a fee",
}


def door_asked(*, request: SubjectRequest, pause: SubjectRequestPause) -> None:
    """The DPO asked the requester for something (``subject_request_clock_stop``): if the request
    came through the door, a one-time code is issued and e-mailed with what was asked. Inside the
    DPO's transaction; the e-mail leaves after commit."""
    submission = DoorSubmission.objects.filter(request=request).first()
    if submission is None:
        return
    _, code, _ = _code_issue(
        submission=submission, purpose=DoorCodePurpose.RETURN, days=settings.OVERSIGHT_DOOR_CODE_DAYS
    )
    note = f"\n\nTheir note: {pause.note}" if pause.note else ""
    _mail_on_commit(
        to=submission.email,
        subject=f"{request.organisation.name} needs something from you ({request.reference})",
        body=(
            f"To go on with your request {request.reference}, {request.organisation.name} needs "
            f"{_ASKED[pause.reason]}.{note}\n\n"
            f"Go to {_public_url('subject-door-return')} and give your reference and this one-time code: {code}\n"
            f"The code works once, for {settings.OVERSIGHT_DOOR_CODE_DAYS} days."
        ),
    )


@receiver(clock_stopped, dispatch_uid="subject-door-asked-when-the-clock-stops")
def _door_asked_when_the_clock_stops(sender, *, request: SubjectRequest, pause: SubjectRequestPause, **kwargs) -> None:
    """The request's services stop the clock without knowing about the door (``signals.clock_stopped``)."""
    door_asked(request=request, pause=pause)


def door_code_resend(*, reference: str, email: str, address: str | None) -> None:
    """A new return code, e-mailed to the address the request was made with — when the reference and
    the address match a request waiting for the person. The answer is the same either way, so the
    page says nothing about which requests exist. Rate-limited per client address."""
    door_limit(address=address)
    submission = (
        DoorSubmission.objects.select_related("request", "request__organisation")
        .filter(request__reference=reference.strip(), email__iexact=email.strip())
        .first()
    )
    if submission is None or submission.request.status not in CLOCK_STOPPED_STATUSES:
        return
    pause = submission.request.pauses.filter(restarted_on__isnull=True).order_by("-pk").first()
    with transaction.atomic():
        door_asked(request=submission.request, pause=pause)
        audit_record(
            action=AuditAction.AUTHENTICATION,
            event="subject_door.code_sent",
            actor=None,
            target=submission.request,
            details={"purpose": DoorCodePurpose.RETURN, "address": address or "unknown"},
        )


def door_answer(
    *, reference: str, code: str, text: str, files: list[tuple[str, bytes]], address: str | None
) -> SubjectRequest:
    """The person answers what the DPO asked, with their reference and the one-time code. A
    clarification restarts the clock on the day of the answer (s.54(3C): the days from asking to
    answering, both included, do not count); proof of identity is kept for the DPO, who checks it
    and restarts the month from the day it arrived (s.54(3)). The code is used up."""
    from governance.subject_access.services import clock_restart

    door_limit(address=address)
    submission = DoorSubmission.objects.select_related("request").filter(request__reference=reference.strip()).first()
    row = (
        submission.codes.filter(purpose=DoorCodePurpose.RETURN).order_by("-created_at", "-pk").first()
        if submission
        else None
    )
    row = _code_check(row, code, address=address)
    text = (text or "").strip()[:MAX_TEXT]
    accepted = _files_precheck(files)
    if not text and not accepted:
        raise ValidationFailed("Write an answer or attach an image.", code="door_answer_empty")
    with transaction.atomic():
        row = lock_rows(DoorCode.objects).get(pk=row.pk)
        if row.used_at is not None:
            raise door_code_refusal(row)
        request = lock_rows(SubjectRequest.objects).get(pk=submission.request_id)
        pause = request.pauses.filter(restarted_on__isnull=True).order_by("-pk").first()
        if pause is None or request.status not in CLOCK_STOPPED_STATUSES:
            raise StateConflict("Nothing is waiting for an answer on this request.", code="door_nothing_asked")
        row.used_at = timezone.now()
        row.save(update_fields=["used_at"])
        DoorReply.objects.create(submission=submission, pause=pause, text=text, received_at=timezone.now())
        stored = _files_store(submission, accepted)
        audit_record(
            action=AuditAction.COLLECTION,
            event="subject_door.answered",
            actor=None,
            target=request,
            details={"asked": pause.reason, "files": sorted(f.kind for f in stored), "address": address or "unknown"},
        )
        if pause.reason == PauseReason.CLARIFICATION:
            request = clock_restart(actor=None, request=request, on=timezone.localdate())
    return request


# --- the response ----------------------------------------------------------------------------------------


def door_response_send(*, actor: User, export: SubjectRequestExport) -> DoorCode:
    """The DPO sends a ready response to a person who asked through the door: two e-mails, one with
    a single-use link, the other with the one-time code it needs. Audited; the disclosure itself is
    recorded when the person downloads."""
    request = subject_request_check(actor, export.request, to="export")
    submission = DoorSubmission.objects.filter(request=request).first()
    if submission is None:
        raise StateConflict("This request did not come through the public page.", code="door_not_used")
    if export.status != ExportStatus.READY:
        raise StateConflict("This export is not ready.", code="export_not_ready")
    with transaction.atomic():
        row, code, token = _code_issue(
            submission=submission,
            purpose=DoorCodePurpose.DOWNLOAD,
            export=export,
            days=settings.OVERSIGHT_DOOR_LINK_DAYS,
        )
        audit_record(
            action=AuditAction.ALTERATION,
            event="subject_door.response_sent",
            actor=actor,
            target=request,
            details={"export": export.pk, "expires_at": row.expires_at.isoformat()},
        )
        subject = f"Your response from {request.organisation.name} ({request.reference})"
        _mail_on_commit(
            to=submission.email,
            subject=subject,
            body=(
                f"The response to your request {request.reference} is ready. Download it here (the link works "
                f"once, for {settings.OVERSIGHT_DOOR_LINK_DAYS} days):\n\n"
                f"{_public_url('subject-door-download', token)}\n\n"
                "You will need the one-time code we send you in a separate e-mail."
            ),
        )
        _mail_on_commit(
            to=submission.email,
            subject=f"Your one-time code for {request.reference}",
            body=f"Your one-time code to download the response to {request.reference} is: {code}",
        )
    return row


def door_link(token: str) -> DoorCode:
    row = (
        DoorCode.objects.select_related("submission__request__organisation", "export")
        .filter(purpose=DoorCodePurpose.DOWNLOAD, link_hash=_digest(token or "x"))
        .first()
    )
    if row is None:
        raise NotFound("This link is not valid.", code="door_link_unknown")
    return row


def door_download(*, token: str, code: str, address: str | None) -> tuple[bytes, str, str]:
    """The person's link and one-time code → the response PDF, once. A second use, an expired link
    and a locked code are refused (coded); a wrong code counts towards the lock. Audited as the
    ``disclosure`` to the data subject."""
    door_limit(address=address)
    row = _code_check(door_link(token), code, address=address)
    with transaction.atomic():
        row = lock_rows(DoorCode.objects).select_related("export", "submission__request").get(pk=row.pk)
        refusal = door_code_refusal(row)
        if refusal is not None:
            raise refusal
        export = row.export
        if export.status != ExportStatus.READY:
            raise StateConflict("This response is no longer available.", code="export_not_ready")
        row.used_at = timezone.now()
        row.save(update_fields=["used_at"])
        data = encryption.decrypt(bytes(export.pdf_ciphertext))
        request = row.submission.request
        audit_record(
            action=AuditAction.DISCLOSURE,
            event="subject_door.downloaded",
            actor=None,
            target=export,
            recipient=f"The data subject of {request.reference} (through the public page)",
            details={"sha256": export.pdf_sha256, "address": address or "unknown"},
        )
    return data, "application/pdf", f"{request.reference}-response.pdf"


# --- the DPO reads what the person sent -------------------------------------------------------------------


def door_context(request: SubjectRequest) -> dict:
    """What the request's page shows of the door, for who reads the request's contents: the files
    (links, not bytes), the answers, and the day proof of identity arrived (the restart form's
    date: the month starts again from that day, s.54(3))."""
    from governance.subject_access.forms import RestartClockForm

    submission = DoorSubmission.objects.filter(request=request).first()
    if submission is None:
        return {}
    files = list(submission.files.all())
    identity = [f.received_at for f in files if f.kind == DoorFileKind.IDENTITY and not f.refusal_code]
    context = {"door": submission, "door_files": files, "door_replies": list(submission.replies.all())}
    if identity:
        context["restart_form"] = RestartClockForm(initial={"on": timezone.localtime(max(identity)).date()})
    return context


def door_file_for(actor, pk) -> DoorFile:
    """A file sent through the door, for who may read the request's contents (else not found)."""
    try:
        item = DoorFile.objects.select_related("submission__request").get(
            pk=pk, submission__request__in=subject_requests_visible_to(actor)
        )
    except (DoorFile.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound("No such file.", code="door_file_not_found") from None
    subject_request_check(actor, item.submission.request, to="contents")
    return item


def door_file_read(*, actor: User, item: DoorFile) -> bytes:
    """Decrypt a file for the DPO; audited as a ``consultation`` of the person's data."""
    subject_request_check(actor, item.submission.request, to="contents")
    if item.refusal_code:
        raise StateConflict(
            f"This image was refused when it was checked ({item.refusal_code}) and erased.", code="door_file_refused"
        )
    if item.erased_at or item.ciphertext is None:
        raise StateConflict("This file has been erased (retention).", code="door_file_erased")
    if item.checked_at is None:
        raise StateConflict("This image is still being checked; try again shortly.", code="door_file_checking")
    data = encryption.decrypt(bytes(item.ciphertext))
    with transaction.atomic():
        audit_record(
            action=AuditAction.CONSULTATION,
            event="subject_door.file_viewed",
            actor=actor,
            target=item,
            details={"kind": item.kind, "request": item.submission.request.reference},
        )
    return data


def door_photos(request: SubjectRequest) -> list[DoorFile]:
    """The photos the requester sent through the door that are checked and still held (for the DPO's face search)."""
    return list(
        DoorFile.objects.filter(
            submission__request=request,
            kind=DoorFileKind.PHOTO,
            erased_at__isnull=True,
            checked_at__isnull=False,
            refusal_code="",
        )
    )


def door_photo_read(*, actor: User, request: SubjectRequest, pk) -> bytes:
    """One of this request's door photos, decrypted for the face search (audited as it is read)."""
    item = door_file_for(actor, pk)
    if item.submission.request_id != request.pk or item.kind != DoorFileKind.PHOTO:
        raise NotFound("No such photo.", code="door_file_not_found")
    return door_file_read(actor=actor, item=item)


def door_file_erase(*, item: DoorFile, run_id: str | None) -> int:
    """Erase a file at the end of its retention: ciphertext blanked, a deletion certificate and an
    ``erasure`` event. Inside the retention run's transaction; idempotent."""
    item = lock_rows(DoorFile.objects).select_related("submission__request").get(pk=item.pk)
    if item.erased_at:
        return 0
    request = item.submission.request
    item.ciphertext = None
    item.erased_at = timezone.now()
    item.save(update_fields=["ciphertext", "erased_at"])
    erasure_with_certificate(
        target=item,
        subject_type="governance.doorfile",
        label=f"{item.get_kind_display()} sent with {request.reference}",
        sha256=item.sha256,
        rule="subject_door_file.after_close",
        reason=f"Kept {settings.OVERSIGHT_DOOR_FILE_RETENTION_DAYS} days after the request was closed.",
        run_id=run_id,
        erased_at=item.erased_at,
        details={"subject_request": request.reference},
        operator_organisation_id=request.organisation_id,
        event="subject_door_file.erased",
        justification="Retention of files sent through the public page",
        cite_certificate=True,
    )
    return 1
