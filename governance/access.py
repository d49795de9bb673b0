"""Who may see and do what: the scope rules every access module shares, and the access functions of
agreements, watchlist images, the audit log and retention.

Every read and every action on a record goes through one function per kind of object, in its domain's
access module (this one; ``governance.<domain>.access``; ``recognition.deployments.access``; the list is
``docs/access.md``), in the shape of zulip's ``access_stream_by_id``: ``<entity>_for(actor, pk, to=...)``
returns the object or raises ``NotFound`` — the same for a record that does not exist and one the
actor's organisation may not see —, and ``PermissionRefused`` where the actor may see it but their role
may not do that. Every decision is a named ``can_<verb>_<thing>`` predicate that views, services, the API
and templates (``may.<name>``, ``page_predicate_register``) all ask; nobody re-derives a check
(``tests/test_access_predicates.py``).

Scope is data: a record concerns the organisations stored on it (the parties of an agreement, the
supplier of an image and the operator it went to, the organisations an audit event is about), and
lists filter on those columns. Two rules say whose records an organisation's members act on:

- ``supply_chain_ids``: a force and its units act as one supply chain. What a unit supplied is
  seen by its force; what a force supplied is seen by its units (also units created later). Two
  units of one force do not see each other's supply, and no force sees another force's.
- ``answerable_ids``: an organisation answers for itself and its units (the audit log: a force's
  DPO reads what happened to its units' records; a unit's DPO reads its own).

Regulators read the metadata of every organisation's records and never image bytes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Exists, OuterRef, Q, QuerySet
from guardian.shortcuts import get_objects_for_user

from governance.agreements.models import Agreement
from governance.errors import NotFound, PermissionRefused
from governance.organisations.models import Organisation, OrganisationKind
from governance.organisations.roles import Role
from governance.registry import Registry

# --- scope ---------------------------------------------------------------------------------------


def _organisation(actor: Any) -> Organisation | None:
    if actor is None or isinstance(actor, AnonymousUser) or not getattr(actor, "is_authenticated", False):
        return None
    return getattr(actor, "organisation", None)


def supply_chain_ids(organisation: Organisation | None) -> frozenset[int]:
    """The organisation, its force (for a unit) and its units (for a force): the supply chain whose
    shared records (deployments, alerts, reviews, disclosures, holds, certificates) its members see."""
    if organisation is None:
        return frozenset()
    cached = getattr(organisation, "_supply_chain_ids", None)
    if cached is not None:
        return cached
    ids = {organisation.pk}
    if organisation.parent_id:
        ids.add(organisation.parent_id)
    if organisation.kind == OrganisationKind.POLICE_FORCE:
        ids.update(Organisation.objects.filter(parent_id=organisation.pk).values_list("pk", flat=True))
    organisation._supply_chain_ids = frozenset(ids)
    return organisation._supply_chain_ids


def answerable_ids(organisation: Organisation | None) -> frozenset[int]:
    """The organisation and its units: whose actions and records its DPO answers for (audit log)."""
    if organisation is None:
        return frozenset()
    ids = {organisation.pk}
    if organisation.kind == OrganisationKind.POLICE_FORCE:
        ids.update(Organisation.objects.filter(parent_id=organisation.pk).values_list("pk", flat=True))
    return frozenset(ids)


def is_regulator(actor: Any) -> bool:
    organisation = _organisation(actor)
    return bool(organisation and organisation.kind == OrganisationKind.REGULATOR and actor.has_role(Role.REGULATOR))


def is_police_reviewer(actor: Any) -> bool:
    organisation = _organisation(actor)
    return bool(organisation and organisation.is_police and actor.has_role(Role.POLICE_REVIEWER))


def parties_filter(actor: Any, *, supplier: str, operator: str | None = None) -> Q:
    """The one scope filter for records shared between a supplier and an operator.

    ``supplier`` / ``operator`` name the columns holding the two sides. Regulators: everything
    (metadata); police: records supplied within their supply chain; an operator: its own records.
    """
    organisation = _organisation(actor)
    if organisation is None:
        return Q(pk__in=[])
    if is_regulator(actor):
        return Q()
    condition = Q(**{f"{supplier}__in": supply_chain_ids(organisation)})
    if operator:
        condition |= Q(**{operator: organisation.pk})
    return condition


def role_allows(actor: Any, permission: str) -> bool:
    """The role (model permission) part of every check: ``app_label.codename``."""
    return bool(_organisation(actor) is not None and actor.has_perm(permission))


def controller_refusal(actor: Any, record: Any, permission: str, what: str) -> PermissionRefused | None:
    """The one rule for records a controller keeps (DPIAs, appropriate policy documents): only the
    controller's members act, with their role's permission. ``None``: the actor may."""
    organisation = _organisation(actor)
    if organisation is None or not actor.has_perm(permission):
        return PermissionRefused(f"Your role does not allow this action on {what}.")
    if organisation.pk != record.controller_id:
        return PermissionRefused(
            f"Only {record.controller}, the controller, acts on this {what.split(' ', 1)[1]}.",
            code="not_the_controller",
        )
    return None


@dataclass(frozen=True)
class RecordAccess:
    """The one shape of access to a kind of record kept by a controller or shared between parties
    (agreements, DPIAs, appropriate policy documents), after zulip's ``access_stream_by_id``.

    ``visible_to(actor)`` is the scope (what the actor may see at all); ``refusal(actor, record, to)``
    says why the actor may not do ``to`` to a record they see (``None``: they may). A record outside
    the scope is ``NotFound`` exactly like a missing one; a visible one the role may not act on is
    the refusal (403)."""

    visible_to: Callable[[Any], QuerySet]
    refusal: Callable[[Any, Any, str], PermissionRefused | None]
    missing: str
    missing_code: str

    def _not_found(self) -> NotFound:
        return NotFound(self.missing, code=self.missing_code)

    def can(self, actor: Any, record: Any, to: str) -> bool:
        """The button test."""
        if to == "view":
            return self.visible_to(actor).filter(pk=record.pk).exists()
        return self.refusal(actor, record, to) is None

    def check(self, actor: Any, record: Any, *, to: str) -> Any:
        """Raise unless the actor may do ``to`` to a record already in hand."""
        if not self.visible_to(actor).filter(pk=record.pk).exists():
            raise self._not_found()
        if to != "view":
            refusal = self.refusal(actor, record, to)
            if refusal is not None:
                raise refusal
        return record

    def by_id(self, actor: Any, pk: Any, *, to: str = "view") -> Any:
        """The record by its id if the actor may do ``to`` to it (a malformed id is not found)."""
        try:
            record = self.visible_to(actor).get(pk=pk)
        except (ObjectDoesNotExist, ValueError, TypeError, OverflowError):
            raise self._not_found() from None
        return self.check(actor, record, to=to)


# --- agreements --------------------------------------------------------------------------------


def agreements_visible_to(actor: Any) -> QuerySet[Agreement]:
    """Agreements the actor's organisation is party to (a force's units read its agreements, also
    units created later); regulators read the whole register. Object permissions only
    (``accept_global_perms=False``): a role's model-level permission never widens the set."""
    if _organisation(actor) is None:
        return Agreement.objects.none()
    return get_objects_for_user(
        actor, "governance.view_agreement", klass=Agreement, accept_global_perms=False
    ).select_related(
        "supplying_organisation", "supplying_organisation__parent", "receiving_organisation", "approving_organisation"
    )


def agreement_party_ids(agreement: Agreement) -> set[int]:
    """Organisations party to the agreement: the supplier, its force, and the operator."""
    ids = {agreement.supplying_organisation_id, agreement.receiving_organisation_id}
    force = agreement.supplying_organisation.force
    if force:
        ids.add(force.pk)
    return ids


def agreement_reader_ids(agreement: Agreement) -> set[int]:
    """Organisations that read the agreement: its parties and the supplying force's units."""
    ids = agreement_party_ids(agreement)
    ids.update(Organisation.objects.filter(parent_id=agreement.supplying_organisation_id).values_list("pk", flat=True))
    return ids


# What each action on an agreement needs beyond being a party: the role's permission, and where
# it matters, which party acts.
_AGREEMENT_ACTIONS: dict[str, str] = {
    "change": "governance.change_agreement",
    "submit": "governance.submit_agreement",
    "approve": "governance.approve_agreement",
    "countersign": "governance.countersign_agreement",
    "notify": "governance.notify_regulator_agreement",
    "terminate": "governance.terminate_agreement",
    "amend": "governance.add_agreement",
    "renew": "governance.add_agreement",
}


def agreement_refusal(actor: Any, agreement: Agreement, to: str) -> PermissionRefused | None:
    """Why the actor may not do ``to`` to a visible agreement (``None``: they may). States are the
    services' concern; this is who may act."""
    permission = _AGREEMENT_ACTIONS[to]
    organisation = _organisation(actor)
    if organisation is None or organisation.pk not in agreement_party_ids(agreement) or not actor.has_perm(permission):
        return PermissionRefused("Your role does not allow this action on this agreement.")
    if to == "approve":  # only the supplying force itself: never a unit (no local-level agreements)
        if not organisation.is_force_level:
            return PermissionRefused(
                "Agreements must be approved above local level: a unit cannot approve an agreement, its force must.",
                code="local_level_approval",
            )
        force = agreement.supplying_force
        if force is None or organisation.pk != force.pk:
            return PermissionRefused(
                "Only the supplying force approves its agreements.", code="not_the_supplying_force"
            )
    if to == "countersign" and organisation.pk != agreement.receiving_organisation_id:
        return PermissionRefused("Only the receiving operator countersigns.", code="not_the_operator")
    return None


_AGREEMENTS = RecordAccess(agreements_visible_to, agreement_refusal, "No such agreement.", "agreement_not_found")


# The button test, the check of a record in hand, and the lookup by id (``RecordAccess``).
can_agreement = _AGREEMENTS.can
agreement_check = _AGREEMENTS.check
agreement_for = _AGREEMENTS.by_id


def can_extend_retention(actor: Any, agreement: Agreement) -> bool:
    """A longer retention term than the agreement's: the data protection officer of the supplying force
    itself — never a unit, never the operator (``governance.agreements.retention_terms``)."""
    force = agreement.supplying_force
    return bool(
        force is not None
        and _organisation(actor) is not None
        and actor.organisation_id == force.pk
        and actor.has_role(Role.DPO)
    )


def can_answer_regulator_on_agreement(actor: Any, agreement: Agreement) -> bool:
    """The regulator's questions about a notified agreement are answered by the parties' DPOs, those
    who record the notification (``governance.notifications.regulator``)."""
    return (
        not is_regulator(actor)
        and role_allows(actor, "governance.notify_regulator_agreement")
        and actor.organisation_id in agreement.concerned_organisation_ids()
    )


def can_read_agreements(actor: Any) -> bool:
    """The agreement register (its link and its pages): every role whose organisation is party to agreements."""
    return role_allows(actor, "governance.view_agreement")


def can_draft_agreement(actor: Any) -> bool:
    """Drafting a new agreement (the list's button, the form, ``agreement_draft``, the review reminders): a
    data protection officer. Amending or renewing one is ``can_agreement(actor, agreement, "amend")``."""
    return role_allows(actor, "governance.add_agreement")


# --- watchlist images ------------------------------------------------------------------------------


def images_visible_to(actor: Any):
    """A force sees its own images and its units'; a unit its own; the operator's staff and
    regulators the provenance metadata of images under agreements they are party to / oversee."""
    from governance.watchlist.models import WatchlistImage

    if not can_read_watchlist(actor):
        return WatchlistImage.objects.none()
    return get_objects_for_user(
        actor,
        "governance.view_watchlistimage",
        klass=WatchlistImage,
        accept_global_perms=False,
    ).select_related("agreement", "supplying_organisation", "supplying_force")


_IMAGE_ACTIONS = {
    "bytes": (
        "governance.view_watchlistimage_bytes",
        "Your organisation or role may see this image's provenance but not the image itself.",
        "bytes_not_permitted",
    ),
    "withdraw": (
        "governance.withdraw_watchlistimage",
        "Only the supplying force or unit can withdraw this image.",
        "withdraw_not_permitted",
    ),
}


def can_image(actor: Any, image, to: str) -> bool:
    if to == "view":
        return images_visible_to(actor).filter(pk=image.pk).exists()
    permission = _IMAGE_ACTIONS[to][0]
    return role_allows(actor, permission) and actor.has_perm(permission, image)


def image_check(actor: Any, image, *, to: str):
    if not images_visible_to(actor).filter(pk=image.pk).exists():
        raise NotFound("No such watchlist image.")
    if to != "view" and not can_image(actor, image, to):
        _, message, code = _IMAGE_ACTIONS[to]
        raise PermissionRefused(message, code=code)
    return image


def image_for(actor: Any, pk: Any, *, to: str = "view"):
    from governance.watchlist.models import WatchlistImage

    try:
        image = images_visible_to(actor).get(pk=pk)
    except (WatchlistImage.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound("No such watchlist image.") from None
    return image_check(actor, image, to=to)


def can_read_watchlist(actor: Any) -> bool:
    """The watchlist ledger (its link and its pages): the supplying forces' roles, operators' and regulators' DPOs."""
    return role_allows(actor, "governance.view_watchlistimage")


def can_upload_watchlist_image(actor: Any) -> bool:
    """Uploading to a watchlist (one image, a bulk request or the API): a force's submitter or DPO. Which
    agreement and whose images is ``governance.watchlist.services``' concern."""
    return role_allows(actor, "governance.add_watchlistimage")


# --- audit log -------------------------------------------------------------------------------------


def can_read_audit_log(actor: Any) -> bool:
    """The audit log and "who looked at this" (every page that shows who consulted a record): DPOs,
    administrators and regulators."""
    return role_allows(actor, "governance.view_auditevent")


def can_start_audit_verification(actor: Any) -> bool:
    """A data protection officer or the regulator may start a verification of the whole log."""
    return bool(getattr(actor, "is_authenticated", False)) and (is_regulator(actor) or actor.has_role(Role.DPO))


def can_export_audit_log(actor: Any) -> bool:
    """Exporting the audit log as CSV: DPOs only (an administrator reads it on screen)."""
    return role_allows(actor, "governance.export_auditevent")


def audit_events_visible_to(actor: Any):
    """Events about the actor's organisation (and its units): its objects and its members' actions.
    Regulators read every event. Raises ``PermissionRefused`` for a role without the audit log."""
    from governance.audit.models import AuditEvent, AuditEventOrganisation

    if not can_read_audit_log(actor):
        raise PermissionRefused("Your role cannot read the audit log.")
    if is_regulator(actor):
        return AuditEvent.objects.all()
    concerned = AuditEventOrganisation.objects.filter(
        event_id=OuterRef("pk"), organisation_id__in=answerable_ids(_organisation(actor))
    )
    return AuditEvent.objects.filter(Exists(concerned))


def audit_event_for(actor: Any, sequence: int):
    """One audit event by its number, if the actor may read it (``audit_events_visible_to``); another
    organisation's event is "not found", exactly like a missing one."""
    event = audit_events_visible_to(actor).filter(sequence=sequence).first()
    if event is None:
        raise NotFound("No such audit event.")
    return event


def record_history(target_type: str, records: Any):
    """What happened to a record (or to each version of it), oldest first, for its own page: the
    events naming it as their target. The gate is the record's own access function (whoever may open
    the record reads its history); searching across records is the audit log's, scoped by
    ``audit_events_visible_to``. ``records``: one record or several (their primary keys)."""
    from governance.audit.models import AuditEvent

    many = records if isinstance(records, (list, tuple, set, frozenset, QuerySet)) else [records]
    ids = [str(getattr(record, "pk", record)) for record in many]
    return AuditEvent.objects.filter(target_type=target_type, target_id__in=ids).order_by("sequence")


# --- retention: legal holds, runs and deletion certificates ----------------------------------------


def can_view_retention(actor: Any) -> bool:
    """The retention dashboard (sweeps, holds, certificates): DPOs of every kind of organisation."""
    return role_allows(actor, "retention.view_retentionrun")


def can_read_holds(actor: Any) -> bool:
    """Legal holds (the dashboard panel and the retention page's list)."""
    return can_view_retention(actor) and role_allows(actor, "retention.view_legalhold")


def can_place_hold(actor: Any) -> bool:
    """Placing a legal hold on a record the organisation is party to: a data protection officer (which
    records: ``governance.retention.registry.hold_target``)."""
    return role_allows(actor, "retention.add_legalhold")


def _require_retention(actor: Any) -> None:
    if not can_view_retention(actor):
        raise PermissionRefused("Your role cannot see retention enforcement.")


def holds_visible_to(actor: Any):
    """Holds on records the actor's organisation is party to (both sides see a hold on what they share)."""
    from governance.retention.models import LegalHold

    _require_retention(actor)
    return LegalHold.objects.filter(
        parties_filter(actor, supplier="supplier_organisation_id", operator="operator_organisation_id")
    )


def can_release_hold(actor: Any, hold) -> bool:
    """Only the side that placed a hold releases it: its organisation or that organisation's force."""
    organisation = _organisation(actor)
    if organisation is None or not role_allows(actor, "retention.change_legalhold"):
        return False
    placer = hold.placed_by_organisation
    return placer is not None and organisation.pk in {placer.pk, placer.parent_id}


def hold_for(actor: Any, pk: Any, *, to: str = "view"):
    from governance.retention.models import LegalHold

    try:
        hold = holds_visible_to(actor).select_related("placed_by_organisation").get(pk=pk)
    except (LegalHold.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound("No such legal hold.") from None
    if to == "release" and not can_release_hold(actor, hold):
        raise PermissionRefused(
            "Only the organisation that placed the hold (or its force) can release it.", code="not_the_hold_owner"
        )
    return hold


def certificates_visible_to(actor: Any):
    from governance.watchlist.models import DeletionCertificate

    _require_retention(actor)
    if not role_allows(actor, "governance.view_deletioncertificate"):
        raise PermissionRefused("Your role cannot read deletion certificates.")
    return DeletionCertificate.objects.filter(
        parties_filter(actor, supplier="supplier_organisation_id", operator="operator_organisation_id")
    )


def certificate_for(actor: Any, pk: Any):
    from governance.watchlist.models import DeletionCertificate

    try:
        return certificates_visible_to(actor).get(pk=pk)
    except (DeletionCertificate.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound("No such deletion certificate.") from None


def runs_visible_to(actor: Any):
    """Retention runs are the system's sweeps: every DPO sees that they ran; what each erased is
    shown to an organisation only through its own certificates (``run_counts_for``)."""
    from governance.retention.models import RetentionRun

    _require_retention(actor)
    return RetentionRun.objects.all()


def run_for(actor: Any, run_id: Any):
    from governance.retention.models import RetentionRun

    try:
        return runs_visible_to(actor).get(run_id=run_id)
    except (RetentionRun.DoesNotExist, ValueError, TypeError):
        raise NotFound("No such retention run.") from None


# --- predicates the pages ask by name ----------------------------------------------------------------

# ``{% if may.read_breaches %}`` in a template calls ``can_read_breaches(request.user)``: the only way a
# template decides what to show about the user's role (``governance.context_processors``). Each domain's
# access module registers its user-level predicates here (recognition's from its app's ``ready``).
_PAGE_PREDICATES: Registry[Callable[[Any], bool]] = Registry("page predicate")


def page_predicate_register(name: str, predicate: Callable[[Any], bool]) -> None:
    """Make ``predicate(user)`` answer ``may.<name>`` in templates."""
    _PAGE_PREDICATES.register(name, predicate)


def page_predicate(name: str) -> Callable[[Any], bool] | None:
    return _PAGE_PREDICATES.get(name)


page_predicate_register("read_agreements", can_read_agreements)
page_predicate_register("draft_agreement", can_draft_agreement)
page_predicate_register("read_watchlist", can_read_watchlist)
page_predicate_register("upload_watchlist_image", can_upload_watchlist_image)
page_predicate_register("read_audit_log", can_read_audit_log)
page_predicate_register("view_retention", can_view_retention)
