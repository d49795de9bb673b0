"""The search by the requester's photo, off the web request (issue 26).

The web request's half (``subject_photo_search_start``) checks the photo from its length and header only and records
the search with the photo encrypted; the worker's half (``subject_photo_search_run``, the task below) decodes it,
reads the face, asks every provider through ``subject_request_search`` and keeps the candidates encrypted until the
searcher decides; the sweep re-queues lost searches and erases what nobody decided on. The tasks live beside the code
they run, so the request services never import them back (no import circle: ``tests/test_import_boundaries.py``).
"""

from __future__ import annotations

import base64
import json
import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from governance import encryption
from governance.errors import ApplicationError, ValidationFailed
from governance.locks import lock_rows
from governance.organisations.models import User
from governance.subject_access.models import PhotoSearchStatus, SubjectPhotoSearch, SubjectRequest
from governance.subject_access.registry import Candidate, ItemRef, face_reader
from governance.subject_access.services import (
    SearchOutcome,
    _name,
    _search_refused_record,
    _search_terms,
    subject_photo_admit,
    subject_request_search,
)

logger = logging.getLogger(__name__)

PHOTO_SEARCH_FAILED = "search_failed"


def subject_photo_search_start(
    *,
    actor: User,
    request: SubjectRequest,
    justification: str,
    photo: bytes,
    subject_references=(),
    case_references=(),
) -> SubjectPhotoSearch:
    """The web request's half of a search by photo: the checks every search makes, the photo's checks from its
    length and header (``subject_photo_admit``: nothing is decoded), a face engine registered; then the search is
    recorded with the photo encrypted, queued for the worker after commit (in-process in the embedded default), and
    returned at once. A photo refused here is audited as a refused search, as one the worker refuses is."""
    justification, subjects, cases = _search_terms(
        actor, request, justification, subject_references, case_references, photo=True
    )
    try:
        subject_photo_admit(photo)
        if face_reader() is None:
            raise ValidationFailed(
                "Search by face is not available: no face engine is registered in this installation.",
                code="face_search_unavailable",
            )
    except ApplicationError as refused:
        _search_refused_record(actor, request, justification, subjects, refused)
        raise
    with transaction.atomic():
        search = SubjectPhotoSearch.objects.create(
            request=request,
            actor=actor,
            actor_name=_name(actor),
            justification=justification,
            subject_references=subjects,
            case_references=cases,
            photo_ciphertext=encryption.encrypt(photo),
            created_at=timezone.now(),
        )
        pk = search.pk
        transaction.on_commit(lambda: subject_photo_search_task.delay(pk), robust=True)
    return search


def subject_photo_search_run(*, search_id: int) -> SubjectPhotoSearch | None:
    """The worker's half: decode the photo, read the face, ask every provider (``subject_request_search``, as the
    searcher, whose access is checked again; audited there as today), then store the candidates encrypted, or the
    coded refusal (no face, corrupt, too many pixels, ...: ``refusal_code``), and erase the photo either way. The face
    read from it lives only in this call. Idempotent: a search already finished (or its photo gone) is left as it is.

    Decoding here holds no web decode slot (``image_door``) when a worker runs it; in the embedded default the task
    runs inside the web process, so it holds one there."""
    search = SubjectPhotoSearch.objects.select_related("request", "actor").filter(pk=search_id).first()
    if search is None or search.status != PhotoSearchStatus.QUEUED or not search.photo_ciphertext:
        return search
    refusal: ApplicationError | None = None
    outcome = None
    try:
        outcome = subject_request_search(
            actor=search.actor,
            request=search.request,
            justification=search.justification,
            subject_references=search.subject_references,
            case_references=search.case_references,
            photo=encryption.decrypt(bytes(search.photo_ciphertext)),
            door=bool(settings.CELERY_TASK_ALWAYS_EAGER),
        )
    except ApplicationError as error:
        refusal = error
    except Exception:  # noqa: BLE001 - a fault of the engine or a provider: a coded result, never a lost search
        logger.exception("Photo search #%s could not be completed", search_id)  # no photo, no face in the log
        refusal = ApplicationError(
            "The search could not be completed; the photo was erased. Search again.", code=PHOTO_SEARCH_FAILED
        )
    now = timezone.now()
    with transaction.atomic():
        search = lock_rows(SubjectPhotoSearch.objects).get(pk=search_id)
        if search.status != PhotoSearchStatus.QUEUED:
            return search
        search.photo_ciphertext = None
        search.photo_erased_at = now
        search.finished_at = now
        if refusal is not None:
            search.status = PhotoSearchStatus.REFUSED
            search.refusal_code = refusal.code[:60]
            search.refusal_message = refusal.message
        else:
            search.status = PhotoSearchStatus.DONE
            search.candidate_count = len(outcome.candidates)
            search.results_ciphertext = encryption.encrypt(_search_outcome_dump(outcome))
        search.save()
    return search


# The sweep (``subject_photo_searches_sweep``, every few minutes): a search still queued this long after it was
# recorded lost its task (a broker or worker crash) and is queued again (longer than the task's time limit, so a
# search still running is never run twice); one still queued after the longer wait is ended as ``search_failed``
# and its photo erased, so no photo is kept for a search that will not run. Candidates nobody decided on are erased
# after ``PHOTO_SEARCH_RESULTS_KEPT``.
PHOTO_SEARCH_REQUEUE_AFTER = timedelta(minutes=15)
PHOTO_SEARCH_GIVE_UP_AFTER = timedelta(hours=1)
PHOTO_SEARCH_RESULTS_KEPT = timedelta(days=7)


def subject_photo_searches_sweep(*, now=None) -> dict[str, int]:
    """Nothing accepted is lost, nothing kept for ever (issue 26): re-queue the searches whose task was lost, end
    those that never ran (photo erased, a coded ``search_failed``), erase undecided candidates past their time."""
    now = now or timezone.now()
    queued = SubjectPhotoSearch.objects.filter(status=PhotoSearchStatus.QUEUED)
    requeued = list(
        queued.filter(
            created_at__lte=now - PHOTO_SEARCH_REQUEUE_AFTER, created_at__gt=now - PHOTO_SEARCH_GIVE_UP_AFTER
        ).values_list("pk", flat=True)
    )
    for pk in requeued:
        subject_photo_search_task.delay(pk)
    ended = queued.filter(created_at__lte=now - PHOTO_SEARCH_GIVE_UP_AFTER).update(
        status=PhotoSearchStatus.REFUSED,
        refusal_code=PHOTO_SEARCH_FAILED,
        refusal_message="The search did not run; the photo was erased. Search again.",
        photo_ciphertext=None,
        photo_erased_at=now,
        finished_at=now,
    )
    erased = (
        SubjectPhotoSearch.objects.filter(finished_at__lte=now - PHOTO_SEARCH_RESULTS_KEPT, results_erased_at=None)
        .exclude(results_ciphertext=None)
        .update(results_ciphertext=None, results_erased_at=now)
    )
    return {"requeued": len(requeued), "ended": ended, "results_erased": erased}


def _search_outcome_dump(outcome: SearchOutcome) -> bytes:
    candidates = [
        {
            "ref": str(c.ref),
            "title": c.title,
            "found_by": c.found_by,
            "summary": c.summary,
            "score": c.score,
            "crop": base64.b64encode(c.crop_jpeg).decode("ascii") if c.crop_jpeg else None,
        }
        for c in outcome.candidates
    ]
    return json.dumps({"by_face": outcome.by_face, "problems": outcome.problems, "candidates": candidates}).encode()


def subject_photo_search_outcome(search: SubjectPhotoSearch) -> SearchOutcome | None:
    """A finished search's candidates, decrypted for its searcher's page (None: not done, or already erased). The
    caller audits the reading (``audit_consultation``)."""
    if search.status != PhotoSearchStatus.DONE or not search.results_ciphertext:
        return None
    data = json.loads(encryption.decrypt(bytes(search.results_ciphertext)))
    return SearchOutcome(
        by_face=data["by_face"],
        problems=data["problems"],
        candidates=[
            Candidate(
                ref=ItemRef.parse(c["ref"]),
                title=c["title"],
                found_by=c["found_by"],
                summary=c["summary"],
                score=c["score"],
                crop_jpeg=base64.b64decode(c["crop"]) if c["crop"] else None,
            )
            for c in data["candidates"]
        ],
    )


@shared_task(name="governance.subject_access.tasks.subject_photo_search", acks_late=True, time_limit=600)
def subject_photo_search_task(search_id: int) -> str:
    """A search by the requester's photo, off the web request (issue 26). Idempotent: arguments are the search's
    pk; a finished search is left as it is. (Its registered name is the one it had in ``tasks``.)"""
    search = subject_photo_search_run(search_id=search_id)
    return search.status if search else "missing"


@shared_task(name="governance.subject_access.tasks.subject_photo_searches_sweep")
def subject_photo_searches_sweep_task() -> dict:
    """Beat, every few minutes: lost photo searches queued again, never-run ones ended, old candidates erased."""
    return subject_photo_searches_sweep()
