"""The lifecycle of a data-sharing agreement: draft → submitted → approved → active →
expired / terminated (and superseded by an approved amendment).

Every function here is an entry point: it opens its own transaction, checks who may act, checks
the rule, changes state and records the s.62 audit event in that same transaction.

Who may do what:
- a DPO of either party drafts, edits (while draft) and submits;
- the operator's DPO countersigns;
- a DPO of a party records the regulator notification;
- only a DPO of the **supplying force itself** approves — never a unit (the "no local agreements"
  rule), and only once the regulator notification, the countersignature, the signed document and
  every ICO content are present;
- activation and expiry happen by date (``agreements_apply_dates``, run by beat), without a click.
"""

from __future__ import annotations

import hashlib
from datetime import date
from functools import partial
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from guardian.shortcuts import assign_perm

from governance.access import agreement_check, agreement_party_ids, agreement_reader_ids, can_draft_agreement
from governance.agreements.documents import signed_document_erase, signed_document_refuse_active_content
from governance.agreements.models import (
    ENDED_STATES,
    Agreement,
    AgreementStatus,
    CustodyCategory,
)
from governance.agreements.rules import (
    APP_CATEGORY_RULE,
    EDITABLE_FIELDS,
    MAX_ALERT_RETENTION_DAYS,
    MAX_WATCHLIST_ERASURE_HOURS,
    agreement_approval_missing,
    agreement_date_problems,
    agreement_review_blind_problem,
    agreement_rule_breaches,
    agreement_terms_digest,
    category_labels,
    ico_missing_contents,
    non_app_categories,
    retention_term_problems,
)
from governance.audit.models import AuditAction
from governance.audit.services import audit_record
from governance.errors import PermissionRefused, StateConflict, ValidationFailed
from governance.locks import lock_rows
from governance.organisations.models import Organisation, OrganisationKind, User
from governance.organisations.roles import REGULATORS_GROUP_NAME
from governance.pdf import UnreadablePdf, pdf_page_count
from governance.references import next_free_reference, save_with_next_reference
from governance.states import locked_in_state

# --- helpers -----------------------------------------------------------------------------------


def _full_clean(agreement: Agreement, *, new_reference: bool = False) -> None:
    """``new_reference``: the reference is the next free number, about to be claimed by
    ``_save_new_agreement`` (the unique index decides, not a check here that another request can race)."""
    dates = agreement_date_problems(
        starts_on=agreement.starts_on, ends_on=agreement.ends_on, review_on=agreement.review_on
    )
    if dates:
        raise ValidationFailed(
            dates[0].message, code=dates[0].code, details={problem.field: [problem.message] for problem in dates}
        )
    try:
        agreement.full_clean(exclude=["signed_document", "reference"] if new_reference else ["signed_document"])
    except ValidationError as error:
        raise ValidationFailed("The agreement is not valid.", details=error.message_dict) from error
    unknown = set(agreement.permitted_custody_categories) - set(CustodyCategory.values)
    if unknown:
        raise ValidationFailed("Unknown custody categories.", code="unknown_custody_category", details=sorted(unknown))
    not_app = non_app_categories(agreement.permitted_custody_categories, agreement=agreement)
    if not_app:
        raise ValidationFailed(
            f"Watchlist categories outside the APP: {category_labels(not_app)}. " + APP_CATEGORY_RULE,
            code="custody_category_not_app",
            details={"permitted_custody_categories": sorted(not_app)},
        )
    terms = retention_term_problems(agreement)
    if terms:
        raise ValidationFailed(
            terms[0].message, code=terms[0].code, details={problem.field: [problem.message] for problem in terms}
        )
    if agreement.supplying_organisation.kind not in {OrganisationKind.POLICE_FORCE, OrganisationKind.POLICE_UNIT}:
        raise ValidationFailed("The supplying party must be a police force or unit.", code="supplier_not_police")
    if agreement.receiving_organisation.kind != OrganisationKind.OPERATOR:
        raise ValidationFailed("The receiving party must be an operator.", code="receiver_not_operator")


def _sync_party_access(agreement: Agreement) -> None:
    """Grant exactly the agreement's current readers access, and revoke everyone else's, in the
    caller's transaction: parties (and the supplying unit's force) read and change it, the
    supplying force's units read it (they upload under it), every regulator reads it. A changed
    party therefore loses access at the moment the change commits."""
    from django.contrib.auth.models import Group

    from governance.agreements.models import AgreementGroupObjectPermission

    parties = Organisation.objects.filter(pk__in=agreement_party_ids(agreement)).select_related("access_group")
    readers = Organisation.objects.filter(pk__in=agreement_reader_ids(agreement)).select_related("access_group")
    regulators = Group.objects.get(name=REGULATORS_GROUP_NAME)
    wanted = {(o.access_group_id, "view_agreement") for o in readers}
    wanted |= {(o.access_group_id, "change_agreement") for o in parties}
    wanted.add((regulators.pk, "view_agreement"))
    for row in AgreementGroupObjectPermission.objects.filter(content_object=agreement).select_related("permission"):
        if (row.group_id, row.permission.codename) not in wanted:
            row.delete()
    for organisation in parties:
        assign_perm("governance.change_agreement", organisation.access_group, agreement)
    for organisation in readers:
        assign_perm("governance.view_agreement", organisation.access_group, agreement)
    assign_perm("governance.view_agreement", regulators, agreement)


def agreements_grant_to_new_unit(*, unit: Organisation) -> None:
    """A unit created after its force's agreements reads them like the units that existed then.
    Runs inside ``organisation_create``'s transaction."""
    for agreement in Agreement.objects.filter(supplying_organisation_id=unit.parent_id):
        assign_perm("governance.view_agreement", unit.access_group, agreement)


def _parties(agreement: Agreement) -> tuple[int, int]:
    return agreement.supplying_organisation_id, agreement.receiving_organisation_id


def _snapshot(agreement: Agreement) -> dict[str, Any]:
    return {
        name: (str(getattr(agreement, name + "_id")) if name.endswith("organisation") else getattr(agreement, name))
        for name in EDITABLE_FIELDS
    }


def _changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    return {k: [str(before[k]), str(after[k])] for k in after if before.get(k) != after[k]}


def _next_reference() -> str:
    return next_free_reference(Agreement.objects.all(), f"DSA-{timezone.localdate().year}-")


def _save_new_agreement(agreement: Agreement) -> None:
    """Save a new agreement (version 1) under the next free register reference, safe against another
    agreement being created at the same moment (see ``governance.references``)."""
    save_with_next_reference(
        agreement,
        next_reference=_next_reference,
        taken=lambda reference: Agreement.objects.filter(reference=reference, version=agreement.version).exists(),
    )


# --- drafting ------------------------------------------------------------------------------------


def agreement_draft(*, actor: User, fields: dict[str, Any]) -> Agreement:
    """Create a draft agreement. The actor's organisation must be one of the parties."""
    if not can_draft_agreement(actor):
        raise PermissionRefused("Only a data protection officer can draft an agreement.")
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationFailed("Unknown agreement fields.", details=sorted(unknown))
    with transaction.atomic():
        agreement = Agreement(**fields, reference=_next_reference(), version=1, drafted_by=actor)
        _full_clean(agreement, new_reference=True)
        if actor.organisation_id not in agreement_party_ids(agreement):
            raise PermissionRefused("You can only draft agreements your organisation is party to.", code="not_a_party")
        _save_new_agreement(agreement)
        _sync_party_access(agreement)
        audit_record(
            action=AuditAction.COLLECTION,
            event="agreement.drafted",
            actor=actor,
            target=agreement,
            details={"reference": agreement.reference, "version": agreement.version},
        )
    return agreement


def agreement_update(*, actor: User, agreement: Agreement, fields: dict[str, Any]) -> Agreement:
    """Edit a draft. Submitted or approved agreements change only through an amendment."""
    agreement_check(actor, agreement, to="change")
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationFailed("Unknown agreement fields.", details=sorted(unknown))
    with transaction.atomic():
        agreement = locked_in_state(agreement, AgreementStatus.DRAFT, action="edit the agreement")
        before = _snapshot(agreement)
        for name, value in fields.items():
            setattr(agreement, name, value)
        if agreement.previous_version_id and _parties(agreement) != _parties(agreement.previous_version):
            raise ValidationFailed(
                "An amendment keeps the agreement's parties; a different supplier or operator needs a new agreement.",
                code="amendment_keeps_parties",
                details={"supplying_organisation": ["An amendment cannot change the parties."]},
            )
        _full_clean(agreement)
        if actor.organisation_id not in agreement_party_ids(agreement):
            raise PermissionRefused("You can only keep agreements your organisation is party to.", code="not_a_party")
        agreement.save()
        _sync_party_access(agreement)
        audit_record(
            action=AuditAction.ALTERATION,
            event="agreement.edited",
            actor=actor,
            target=agreement,
            details={"changes": _changes(before, _snapshot(agreement))},
        )
    return agreement


PDF_MAGIC = b"%PDF-"
SIGNED_DOCUMENT_REFUSALS = {
    "not_a_pdf": "The signed document must be a PDF that opens in a PDF reader; this file is not one.",
    "pdf_password_protected": "The signed document must open without a password; attach an unprotected copy.",
}


def agreement_attach_signed_document(*, actor: User, agreement: Agreement, document: UploadedFile) -> Agreement:
    """Attach the signed copy, allowed until approval: at most OVERSIGHT_MAX_DOCUMENT_BYTES, and a PDF that
    a reader opens without a password (checked with pypdf, not only by its first bytes)."""
    agreement_check(actor, agreement, to="change")
    if document.size > settings.OVERSIGHT_MAX_DOCUMENT_BYTES:
        raise ValidationFailed(
            f"The signed document is larger than {settings.OVERSIGHT_MAX_DOCUMENT_BYTES // (1024 * 1024)} MB.",
            code="file_too_large",
        )
    head = document.read(len(PDF_MAGIC))
    document.seek(0)
    try:
        if head != PDF_MAGIC:
            raise UnreadablePdf("not_a_pdf")
        pages = pdf_page_count(document)
    except UnreadablePdf as unreadable:
        raise ValidationFailed(SIGNED_DOCUMENT_REFUSALS[unreadable.code], code=unreadable.code) from None
    finally:
        document.seek(0)
    signed_document_refuse_active_content(document)  # scripts, actions, embedded files, HTML polyglots
    digest = hashlib.sha256()
    for chunk in document.chunks():
        digest.update(chunk)
    document.seek(0)
    with transaction.atomic():
        agreement = locked_in_state(
            agreement, AgreementStatus.DRAFT, AgreementStatus.SUBMITTED, action="attach the signed document"
        )
        replaced = agreement.signed_document.name
        agreement.signed_document.save(f"signed-{agreement.reference}-v{agreement.version}.pdf", document, save=False)
        if replaced and replaced != agreement.signed_document.name:  # the replaced copy is erased
            transaction.on_commit(partial(signed_document_erase, replaced))
        agreement.signed_document_sha256 = digest.hexdigest()
        agreement.signed_terms_digest = agreement_terms_digest(agreement)
        agreement.save(update_fields=["signed_document", "signed_document_sha256", "signed_terms_digest", "updated_at"])
        audit_record(
            action=AuditAction.COLLECTION,
            event="agreement.document_attached",
            actor=actor,
            target=agreement,
            details={
                "sha256": agreement.signed_document_sha256,
                "terms_digest": agreement.signed_terms_digest,
                "bytes": document.size,
                "pages": pages,
            },
        )
    return agreement


# --- approval ------------------------------------------------------------------------------------


def agreement_submit(*, actor: User, agreement: Agreement) -> Agreement:
    """Submit a complete draft for force-level approval."""
    agreement_check(actor, agreement, to="submit")
    with transaction.atomic():
        agreement = locked_in_state(agreement, AgreementStatus.DRAFT, action="submit the agreement")
        missing = ico_missing_contents(agreement)
        if missing:
            raise ValidationFailed(
                "The agreement is incomplete: the ICO data sharing code expects " + ", ".join(missing) + ".",
                code="ico_contents_missing",
                details=missing,
            )
        agreement.status = AgreementStatus.SUBMITTED
        agreement.submitted_at = timezone.now()
        agreement.submitted_by = actor
        agreement.save(update_fields=["status", "submitted_at", "submitted_by", "updated_at"])
        audit_record(action=AuditAction.ALTERATION, event="agreement.submitted", actor=actor, target=agreement)
    return agreement


def agreement_record_regulator_notification(
    *,
    actor: User,
    agreement: Agreement,
    notified_on: date,
    reference: str,
    notified_by: str,
    regulator: Organisation | None = None,
) -> Agreement:
    """Record that a regulator (an ``Organisation`` of kind regulator, named) was told of the agreement —
    a precondition of approval. The regulator then sees it among its notifications."""
    agreement_check(actor, agreement, to="notify")
    if not reference.strip() or not notified_by.strip():
        raise ValidationFailed("Give the notification's reference and who sent it.", code="notification_incomplete")
    if notified_on > timezone.localdate():
        raise ValidationFailed("The notification date cannot be in the future.", code="notification_in_future")
    if regulator is None:
        raise ValidationFailed(
            "Name the regulator the agreement was notified to: a notification to nobody is no notification.",
            code="regulator_required",
        )
    if regulator.kind != OrganisationKind.REGULATOR:
        raise ValidationFailed("The notified body must be a regulator.", code="not_a_regulator")
    with transaction.atomic():
        agreement = locked_in_state(
            agreement, AgreementStatus.DRAFT, AgreementStatus.SUBMITTED, action="record the regulator notification"
        )
        agreement.regulator_notified_on = notified_on
        agreement.regulator_notification_reference = reference.strip()
        agreement.regulator_notified_by = notified_by.strip()
        agreement.regulator = regulator
        agreement.save(
            update_fields=[
                "regulator_notified_on",
                "regulator_notification_reference",
                "regulator_notified_by",
                "regulator",
                "updated_at",
            ]
        )
        audit_record(
            action=AuditAction.ALTERATION,
            event="agreement.regulator_notified",
            actor=actor,
            target=agreement,
            details={
                "notified_on": notified_on.isoformat(),
                "reference": reference.strip(),
                "regulator": regulator.short_name,
            },
        )
    return agreement


def agreement_countersign(*, actor: User, agreement: Agreement) -> Agreement:
    """The receiving operator's DPO countersigns a submitted agreement."""
    agreement_check(actor, agreement, to="countersign")
    with transaction.atomic():
        agreement = locked_in_state(agreement, AgreementStatus.SUBMITTED, action="countersign")
        if agreement.countersigned_at:
            return agreement
        agreement.countersigned_at = timezone.now()
        agreement.countersigned_by = actor
        agreement.save(update_fields=["countersigned_at", "countersigned_by", "updated_at"])
        audit_record(action=AuditAction.ALTERATION, event="agreement.countersigned", actor=actor, target=agreement)
    return agreement


def agreement_approve(*, actor: User, agreement: Agreement) -> Agreement:
    """Force-level approval. Refused for units, and until every prerequisite of
    ``agreement_approval_prerequisites`` (notification, countersignature, signed document, DPIA) is
    met. An approved agreement whose start date has come is activated at once; an approved
    amendment supersedes the version it amends."""
    agreement_check(actor, agreement, to="approve")
    organisation = actor.organisation
    with transaction.atomic():
        agreement = locked_in_state(agreement, AgreementStatus.SUBMITTED, action="approve")
        blind = agreement_review_blind_problem(agreement)  # meaningful human review (Art. 22)
        if blind:
            raise ValidationFailed(blind, code="review_without_reference")
        # Notification, countersignature, signed document, DPIA: one rule, also the page's checklist.
        missing = agreement_approval_missing(agreement)
        if missing:
            message = (
                missing[0].refusal
                if len(missing) == 1
                else "Approval is refused until: " + "; ".join(p.label.lower() for p in missing) + "."
            )
            raise StateConflict(message, code=missing[0].code, details={"missing": [p.code for p in missing]})
        agreement.status = AgreementStatus.APPROVED
        agreement.approved_at = timezone.now()
        agreement.approved_by = actor
        agreement.approved_by_name = str(actor)
        agreement.approving_organisation = organisation
        agreement.save(
            update_fields=[
                "status",
                "approved_at",
                "approved_by",
                "approved_by_name",
                "approving_organisation",
                "updated_at",
            ]
        )
        audit_record(action=AuditAction.ALTERATION, event="agreement.approved", actor=actor, target=agreement)
        if agreement.previous_version_id:
            _supersede(agreement.previous_version, by=agreement)
        _apply_dates(agreement, today=timezone.localdate())
    return agreement


def _supersede(old: Agreement, *, by: Agreement) -> None:
    """The approved amendment takes over: the old version ends, and the images held under it carry
    over to the amendment where its terms permit them (category, cap). What does not carry stays
    under the superseded version, whose retention rule then erases it: no state strands data."""
    from governance.watchlist.services import watchlist_images_carry_to_amendment

    old = lock_rows(Agreement.objects).get(pk=old.pk)
    if old.status in ENDED_STATES:
        return
    if _parties(old) != _parties(by):  # never reachable through agreement_update; kept as the rule's last line
        raise StateConflict(
            "An amendment must keep the parties of the agreement it amends.", code="amendment_keeps_parties"
        )
    old.status = AgreementStatus.SUPERSEDED
    old.ended_at = timezone.now()
    old.save(update_fields=["status", "ended_at", "updated_at"])
    audit_record(
        action=AuditAction.ALTERATION,
        event="agreement.superseded",
        actor=None,
        target=old,
        details={"superseded_by_version": by.version},
    )
    watchlist_images_carry_to_amendment(old=old, new=by)


# --- dates -----------------------------------------------------------------------------------------


def _apply_dates(agreement: Agreement, *, today: date) -> str | None:
    """Activate or expire one locked agreement by its dates. Returns what happened."""
    if agreement.status == AgreementStatus.APPROVED and agreement.starts_on <= today <= agreement.ends_on:
        agreement.status = AgreementStatus.ACTIVE
        agreement.activated_at = timezone.now()
        agreement.save(update_fields=["status", "activated_at", "updated_at"])
        audit_record(
            action=AuditAction.ALTERATION,
            event="agreement.activated",
            actor=None,
            target=agreement,
            details={"starts_on": agreement.starts_on.isoformat()},
        )
        return "activated"
    if agreement.status in {AgreementStatus.APPROVED, AgreementStatus.ACTIVE} and agreement.ends_on < today:
        agreement.status = AgreementStatus.EXPIRED
        agreement.ended_at = timezone.now()
        agreement.save(update_fields=["status", "ended_at", "updated_at"])
        audit_record(
            action=AuditAction.ALTERATION,
            event="agreement.expired",
            actor=None,
            target=agreement,
            details={"ends_on": agreement.ends_on.isoformat()},
        )
        return "expired"
    return None


def agreements_apply_dates(*, today: date | None = None) -> dict[str, int]:
    """Activate approved agreements whose start date has come; expire those whose end has passed.

    Run by beat (and the embedded scheduler). Idempotent; each agreement is its own transaction,
    locked with ``select_for_update`` so two runs never double-apply.
    """
    today = today or timezone.localdate()
    counts = {"activated": 0, "expired": 0}
    due = Agreement.objects.filter(status__in=[AgreementStatus.APPROVED, AgreementStatus.ACTIVE]).values_list(
        "pk", flat=True
    )
    for pk in list(due):
        with transaction.atomic():
            agreement = lock_rows(Agreement.objects).get(pk=pk)
            outcome = _apply_dates(agreement, today=today)
            if outcome:
                counts[outcome] += 1
    return counts


# --- ending, amending, renewing -------------------------------------------------------------------


def agreement_terminate(*, actor: User, agreement: Agreement, reason: str) -> Agreement:
    """End an approved or active agreement before its end date. Watchlist data must then be erased
    within the agreement's set hours (retention)."""
    agreement_check(actor, agreement, to="terminate")
    if not reason.strip():
        raise ValidationFailed("Give the reason for termination.", code="reason_required")
    with transaction.atomic():
        agreement = locked_in_state(agreement, AgreementStatus.APPROVED, AgreementStatus.ACTIVE, action="terminate")
        agreement.status = AgreementStatus.TERMINATED
        agreement.ended_at = timezone.now()
        agreement.termination_reason = reason.strip()
        agreement.terminated_by = actor
        agreement.save(update_fields=["status", "ended_at", "termination_reason", "terminated_by", "updated_at"])
        audit_record(
            action=AuditAction.ALTERATION,
            event="agreement.terminated",
            actor=actor,
            target=agreement,
            justification=reason.strip(),
        )
    return agreement


def _copy_terms(source: Agreement) -> dict[str, Any]:
    return {name: getattr(source, name) for name in EDITABLE_FIELDS}


RETENTION_EXTENSION_FIELDS: tuple[str, ...] = (
    "retention_extension_match_days",
    "retention_extension_watchlist_hours",
    "retention_extension_reason",
    "retention_extension_approved_by",
    "retention_extension_approved_by_name",
    "retention_extension_approved_at",
)


def _retention_extension(source: Agreement) -> dict[str, Any]:
    """An amendment is the same agreement: the supplying force DPO's approval of a longer term stays."""
    return {name: getattr(source, name) for name in RETENTION_EXTENSION_FIELDS}


def agreement_amend(*, actor: User, agreement: Agreement, summary: str) -> Agreement:
    """Start an amendment: a new draft *version* of the same agreement. The current version stays
    in force until the amendment is approved, then is superseded."""
    agreement_check(actor, agreement, to="amend")
    if not summary.strip():
        raise ValidationFailed("Describe what the amendment changes.", code="summary_required")
    with transaction.atomic():
        agreement = locked_in_state(agreement, AgreementStatus.APPROVED, AgreementStatus.ACTIVE, action="amend")
        if Agreement.objects.filter(previous_version=agreement).exists():
            raise StateConflict("An amendment of this version already exists.", code="amendment_exists")
        amendment = Agreement(
            **_copy_terms(agreement),
            reference=agreement.reference,
            version=agreement.version + 1,
            previous_version=agreement,
            predecessor=agreement.predecessor,
            amendment_summary=summary.strip(),
            drafted_by=actor,
            **_retention_extension(agreement),
        )
        _full_clean(amendment)
        amendment.save()
        _sync_party_access(amendment)
        audit_record(
            action=AuditAction.COLLECTION,
            event="agreement.amendment_drafted",
            actor=actor,
            target=amendment,
            justification=summary.strip(),
            details={"amends_version": agreement.version},
        )
    return amendment


def agreement_renew(*, actor: User, agreement: Agreement, starts_on: date, ends_on: date, review_on: date) -> Agreement:
    """Start a renewal: a *successor* agreement (new reference) with the same terms and new dates."""
    agreement_check(actor, agreement, to="renew")
    if starts_on <= agreement.starts_on:
        raise ValidationFailed("A renewal must start after the agreement it renews.", code="renewal_starts_too_early")
    with transaction.atomic():
        terms = _copy_terms(agreement) | {"starts_on": starts_on, "ends_on": ends_on, "review_on": review_on}
        # A renewal is a new agreement: a longer term than the bounds needs the force DPO's approval anew.
        terms["match_retention_days"] = min(terms["match_retention_days"], MAX_ALERT_RETENTION_DAYS)
        terms["watchlist_erasure_hours"] = min(terms["watchlist_erasure_hours"], MAX_WATCHLIST_ERASURE_HOURS)
        successor = Agreement(**terms, reference=_next_reference(), version=1, predecessor=agreement, drafted_by=actor)
        _full_clean(successor, new_reference=True)
        _save_new_agreement(successor)
        _sync_party_access(successor)
        audit_record(
            action=AuditAction.COLLECTION,
            event="agreement.renewal_drafted",
            actor=actor,
            target=successor,
            details={"renews": f"{agreement.reference} v{agreement.version}"},
        )
    return successor


def agreement_record_historical(
    *,
    actor: User | None,
    fields: dict[str, Any],
    status: AgreementStatus,
    approving_organisation: Organisation | None,
    approved_by_name: str,
    historical_notes: str,
    regulator_notified_on: date | None = None,
    reference: str | None = None,
    termination_reason: str = "",
) -> Agreement:
    """Enter an agreement made outside Oversight into the register *as a record of what happened*.

    Nothing is enforced on it (it is already past), but ``agreement_rule_breaches`` shows every
    rule it broke. Used for King's Cross 2016-2018: approved by a borough unit, never notified.
    """
    if status not in {AgreementStatus.ACTIVE, AgreementStatus.EXPIRED, AgreementStatus.TERMINATED}:
        raise ValidationFailed("A historical record is of an agreement that was in force.", code="invalid_state")
    with transaction.atomic():
        agreement = Agreement(
            **fields,
            reference=reference or _next_reference(),
            version=1,
            status=status,
            approving_organisation=approving_organisation,
            approved_by_name=approved_by_name,
            regulator_notified_on=regulator_notified_on,
            recorded_retrospectively=True,
            historical_notes=historical_notes,
            drafted_by=actor,
            termination_reason=termination_reason,
        )
        _full_clean(agreement, new_reference=not reference)
        if reference:
            agreement.save()  # the reference it had outside Oversight
        else:
            _save_new_agreement(agreement)
        _sync_party_access(agreement)
        audit_record(
            action=AuditAction.COLLECTION,
            event="agreement.recorded_retrospectively",
            actor=actor,
            target=agreement,
            details={"status": str(status), "rule_breaches": [b.code for b in agreement_rule_breaches(agreement)]},
        )
    return agreement
