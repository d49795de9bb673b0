"""Who may see and do what with deployments, alerts, reviews and disclosures.

The same shape as ``governance.access`` (and built on its scope rules): one ``<entity>_for(actor,
pk, to=...)`` per kind of object, ``NotFound`` alike for missing and for another organisation's,
``PermissionRefused`` for a visible object the actor's role may not act on, and ``can_*``
predicates for the buttons.

Scope follows supply. A deployment concerns its operator and the supplying organisations of its
agreements. An alert — and its reviews, crops, thumbnail and disclosures — concerns the operator
and the organisation that supplied the *matched image* (``Alert.supplying_organisation``), within
its supply chain (the unit that supplied it and its force; a force's own images, the force and its
units). Another supplier of the same deployment never sees it. Regulators read every record's
metadata; they review nothing and see no image.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from governance.access import (
    is_police_reviewer,
    page_predicate_register,
    parties_filter,
    role_allows,
    supply_chain_ids,
)
from governance.errors import NotFound, PermissionRefused
from governance.organisations.models import Organisation, OrganisationKind
from governance.organisations.roles import Role
from recognition.deployments.models import Alert, AlertStatus, Camera, Deployment, DeploymentStatus, Disclosure

# --- deployments -----------------------------------------------------------------------------------


def can_read_deployments(actor: Any) -> bool:
    """The deployment register (its link and its pages): operators' DPOs and reviewers, police reviewers,
    Authorising Officers and regulators."""
    return role_allows(actor, "deployments.view_deployment")


def can_review_alerts(actor: Any) -> bool:
    """The review queue (its link, its page, its poll and the home panel): the operator's reviewers and
    police reviewers. Which alert: ``can_review_alert``."""
    return role_allows(actor, "deployments.review_alerts_deployment")


def can_read_disclosures(actor: Any) -> bool:
    """The disclosure register (its link, its page and the API): the operator's DPO, the force's
    submitters and regulators."""
    return role_allows(actor, "deployments.view_disclosure")


def can_report_outcomes(actor: Any) -> bool:
    """Reporting what the police did with disclosed alerts (the home panel). Which disclosure:
    ``can_report_outcome``."""
    return role_allows(actor, "deployments.report_outcome_disclosure")


def can_disclose_alerts(actor: Any) -> bool:
    """Disclosing confirmed alerts to the supplying force: the operator's DPO. Which alert:
    ``can_disclose_alert``."""
    return role_allows(actor, "deployments.disclose_alerts_deployment")


def can_authorise_deployments(actor: Any) -> bool:
    """The Authorising Officer's role (College of Policing APP). Which deployment: ``is_authorising_officer_of``."""
    return role_allows(actor, "deployments.authorise_deployment")


def is_force_authorising_officer(actor: Any) -> bool:
    """An Authorising Officer of a police force itself (a unit's never authorises: force level, as agreements)."""
    organisation = getattr(actor, "organisation", None)
    return bool(
        organisation is not None
        and organisation.kind == OrganisationKind.POLICE_FORCE
        and can_authorise_deployments(actor)
    )


def deployments_visible_to(actor: Any) -> QuerySet[Deployment]:
    if not can_read_deployments(actor):
        return Deployment.objects.none()
    return (
        Deployment.objects.filter(
            parties_filter(actor, supplier="agreements__supplying_organisation_id", operator="operator_id")
        )
        .distinct()
        .select_related("operator")
    )


def can_plan_deployment(actor: Any) -> bool:
    """An operator's data protection officer plans its deployments (the form, the button, the service)."""
    organisation = getattr(actor, "organisation", None)
    return (
        role_allows(actor, "deployments.add_deployment")
        and organisation is not None
        and organisation.kind == OrganisationKind.OPERATOR
    )


def can_operate_deployment(actor: Any, deployment: Deployment) -> bool:
    """The operator's DPO runs its deployments (cameras, watchlist review, go-live, pause, end)."""
    return role_allows(actor, "deployments.operate_deployment") and actor.organisation_id == deployment.operator_id


def deployment_for(actor: Any, pk: Any, *, to: str = "view") -> Deployment:
    try:
        deployment = deployments_visible_to(actor).get(pk=pk)
    except (Deployment.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound("No such deployment.") from None
    return deployment_check(actor, deployment, to=to)


def deployment_check(actor: Any, deployment: Deployment, *, to: str) -> Deployment:
    if not deployments_visible_to(actor).filter(pk=deployment.pk).exists():
        raise NotFound("No such deployment.")
    if to == "operate" and not can_operate_deployment(actor, deployment):
        raise PermissionRefused("Only the operator's data protection officer runs this deployment.")
    return deployment


# --- authorisation (College of Policing APP: each supplying force's Authorising Officer) ----------


def deployment_supplying_forces(deployment: Deployment) -> list[Organisation]:
    """The forces whose Authorising Officer must authorise a deployment: the force of each
    supplier of the deployment's agreements (a unit's images count for its parent force, which
    authorises at force level as it approves agreements)."""
    suppliers = Organisation.objects.filter(
        pk__in=deployment.agreements.values("supplying_organisation_id")
    ).select_related("parent")
    forces = {(supplier.force or supplier).pk: supplier.force or supplier for supplier in suppliers}
    return sorted(forces.values(), key=lambda force: force.name)


def is_authorising_officer_of(actor: Any, deployment: Deployment) -> bool:
    """The actor holds the Authorising Officer role in one of the deployment's supplying forces."""
    return is_force_authorising_officer(actor) and actor.organisation_id in {
        force.pk for force in deployment_supplying_forces(deployment)
    }


def can_authorise_deployment(actor: Any, deployment: Deployment) -> bool:
    """An Authorising Officer of a supplying force decides (authorises or refuses) a deployment that
    has not ended (the button; the service also checks the state)."""
    return deployment.status != "ended" and is_authorising_officer_of(actor, deployment)


def can_review_deployment_afterwards(actor: Any, deployment: Deployment) -> bool:
    """The post-deployment review: an Authorising Officer of a supplying force, once it has ended."""
    return deployment.status == "ended" and is_authorising_officer_of(actor, deployment)


# --- a deployment's watchlist (composed and reviewed by the supplying force) ---------------------


def _acting_force(actor: Any):
    """The police force the actor acts within (their force, or the force of their unit), if any."""
    organisation = getattr(actor, "organisation", None)
    if organisation is None or not getattr(actor, "is_authenticated", False) or not organisation.is_police:
        return None
    return organisation.force


def deployment_supplying_force_ids(deployment: Deployment) -> set[int]:
    """The forces whose images the deployment's agreements may carry: the supplier of each agreement, or
    its force where the supplier is a unit."""
    return {force.pk for force in deployment_supplying_forces(deployment)}


def deployments_supplied_by(actor: Any) -> QuerySet[Deployment]:
    """Deployments under agreements the actor's force (or unit) supplies: what its DPO and submitters
    compose and review watchlists for. Police organisations only; nobody else composes."""
    force = _acting_force(actor)
    if force is None or not (actor.has_role(Role.DPO) or actor.has_role(Role.FORCE_SUBMITTER)):
        return Deployment.objects.none()
    return (
        Deployment.objects.filter(agreements__supplying_organisation_id__in=supply_chain_ids(force))
        .distinct()
        .select_related("operator")
    )


def composable_images_q(actor: Any) -> Q:
    """Whose images the actor may put on (or take off) a deployment's watchlist: a force's DPO, every
    image of the force (its own and its units'); a unit's DPO and any submitter, the images their own
    organisation supplied ("whose images they are"). Nothing for anyone else."""
    organisation = getattr(actor, "organisation", None)
    force = _acting_force(actor)
    if force is None:
        return Q(pk__in=[])
    if actor.has_role(Role.DPO) and organisation.pk == force.pk:
        return Q(supplying_force_id=force.pk)
    if actor.has_role(Role.DPO) or actor.has_role(Role.FORCE_SUBMITTER):
        return Q(supplying_organisation_id=organisation.pk)
    return Q(pk__in=[])


def can_compose_deployment_watchlist(actor: Any, deployment: Deployment) -> bool:
    """The supplying force composes each deployment's watchlist from its own images: its DPO, or a
    submitter of the force or of its unit (their own images). The operator never does."""
    if deployment.status == DeploymentStatus.ENDED:
        return False
    return deployments_supplied_by(actor).filter(pk=deployment.pk).exists()


def can_review_deployment_watchlist(actor: Any, deployment: Deployment) -> bool:
    """Who records a supplying force's pre-deployment watchlist review (College of Policing APP: the
    police review each watchlist before each deployment): a data protection officer of the force (or of
    one of its units) that supplies the deployment, or an Authorising Officer of that force. An operator's
    user never does."""
    force = _acting_force(actor)
    if force is None or deployment.status == DeploymentStatus.ENDED:
        return False
    return (actor.has_role(Role.DPO) or actor.has_role(Role.AUTHORISING_OFFICER)) and force.pk in (
        deployment_supplying_force_ids(deployment)
    )


def can_see_deployment_watchlist_images(actor: Any) -> bool:
    """Thumbnails of watchlist entries: only for the supplying side's roles that may read image bytes
    (each image is further checked by ``governance.access.image_for(..., to="bytes")``); counts for others."""
    return _acting_force(actor) is not None and role_allows(actor, "governance.view_watchlistimage_bytes")


def watchlist_force_ids_visible_to(actor: Any, deployment: Deployment) -> set[int] | None:
    """Whose part of a deployment's watchlist the actor sees counted (None: every force's). The operator and
    regulators see every supplying force's counts; a force (or its unit) only its own — one supplier never
    learns what another put on the watchlist."""
    force = _acting_force(actor)
    return None if force is None else {force.pk}


def watchlist_deployment_for(actor: Any, pk: Any, *, to: str = "compose") -> Deployment:
    """A deployment whose watchlist the actor's force composes (``to="compose"``) or reviews
    (``to="review"``). Another organisation's deployment, like a missing one, is not found; the operator's
    own staff are refused (they see the deployment, but the watchlist is the force's)."""
    try:
        deployment = (deployments_supplied_by(actor) | deployments_visible_to(actor)).distinct().get(pk=pk)
    except (Deployment.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound("No such deployment.") from None
    return watchlist_deployment_check(actor, deployment, to=to)


def watchlist_deployment_check(actor: Any, deployment: Deployment, *, to: str) -> Deployment:
    visible = deployments_supplied_by(actor) | deployments_visible_to(actor)
    if not visible.filter(pk=deployment.pk).exists():
        raise NotFound("No such deployment.")
    if to == "compose" and not can_compose_deployment_watchlist(actor, deployment):
        raise PermissionRefused(
            "Only the supplying force (its data protection officer, or the submitter whose images they are) "
            "composes a deployment's watchlist, and only before the deployment ends.",
            code="watchlist_compose_not_permitted",
        )
    if to == "review" and not can_review_deployment_watchlist(actor, deployment):
        raise PermissionRefused(
            "Only the supplying force's data protection officer or Authorising Officer reviews its watchlist for a "
            "deployment, and only before the deployment ends.",
            code="watchlist_review_not_permitted",
        )
    return deployment


# --- alerts --------------------------------------------------------------------------------------


def alerts_visible_to(actor: Any) -> QuerySet[Alert]:
    """The parties' alerts for the roles that read deployments; for a role that reads only disclosures
    (a force submitter, who reports what the force did), the alerts disclosed to its supply chain: the
    context it acts on (what was seen, where, when, the reviews' outcome), never the images."""
    if role_allows(actor, "deployments.view_deployment"):
        alerts = Alert.objects.filter(
            parties_filter(actor, supplier="supplying_organisation_id", operator="deployment__operator_id")
        )
    elif role_allows(actor, "deployments.view_disclosure"):
        alerts = Alert.objects.filter(pk__in=disclosures_visible_to(actor).values("alert_id"))
    else:
        return Alert.objects.none()
    return alerts.select_related("deployment", "camera", "agreement", "watchlist_image", "supplying_organisation")


def can_see_alert_deployment(actor: Any, alert: Alert) -> bool:
    """Whether the alert's page may link to its deployment (a submitter sees the alert, not the deployment)."""
    return deployments_visible_to(actor).filter(pk=alert.deployment_id).exists()


def is_supply_side(actor: Any, alert: Alert) -> bool:
    """The actor acts for the organisation that supplied the matched image (or its force or units)."""
    organisation = getattr(actor, "organisation", None)
    return bool(
        organisation and organisation.is_police and alert.supplying_organisation_id in supply_chain_ids(organisation)
    )


def can_review_alert(actor: Any, alert: Alert) -> bool:
    """Reviewers of the operator and police reviewers of the supplying side review an alert."""
    if not can_review_alerts(actor):
        return False
    if actor.organisation_id == alert.deployment.operator_id:
        return True
    return is_police_reviewer(actor) and is_supply_side(actor, alert)


def can_see_watchlist_thumbnail(actor: Any, alert: Alert) -> bool:
    """Beside the crop: for the supplying side's reviewers always (it is their image); for the
    operator's reviewers only where the agreement lets them (``operator_reviewers_see_image``)."""
    if not can_review_alert(actor, alert):
        return False
    if is_supply_side(actor, alert):
        return True
    return bool(alert.agreement.operator_reviewers_see_image)


def can_disclose_alert(actor: Any, alert: Alert) -> bool:
    return (
        role_allows(actor, "deployments.disclose_alerts_deployment")
        and actor.organisation_id == alert.deployment.operator_id
        and alert.status == AlertStatus.CONFIRMED
    )


def can_answer_subject_request_on_alert(actor: Any, alert: Alert) -> bool:
    """A subject's request (access, erasure) about an alert is answered by a data protection officer of the
    operator or of the side that supplied the matched image: they see its crop to confirm a candidate and
    to compile the response, and act on the request. Regulators and reviewers do not."""
    if not role_allows(actor, "deployments.disclose_alerts_deployment"):
        return False
    return actor.organisation_id == alert.deployment.operator_id or is_supply_side(actor, alert)


def disclosure_recipients(alert: Alert) -> list:
    """Who a confirmed alert may be disclosed to: the organisation that supplied the image, and its force."""
    supplier = alert.supplying_organisation
    return [supplier] + ([supplier.parent] if supplier.parent_id else [])


_ALERT_REFUSALS = {
    "review": (can_review_alert, "Your role cannot review this alert."),
    "crop": (can_review_alert, "Your role cannot see alert images."),
    "thumbnail": (
        can_see_watchlist_thumbnail,
        "The agreement does not let the operator's reviewers see watchlist images.",
    ),
    "subject_access": (
        can_answer_subject_request_on_alert,
        "Only a data protection officer of the operator or of the supplying side answers a subject's request "
        "about this alert.",
    ),
    "disclose": (
        lambda actor, alert: (
            role_allows(actor, "deployments.disclose_alerts_deployment")
            and actor.organisation_id == alert.deployment.operator_id
        ),
        "Only the operator's data protection officer discloses alerts.",
    ),
}


def alert_check(actor: Any, alert: Alert, *, to: str) -> Alert:
    if not alerts_visible_to(actor).filter(pk=alert.pk).exists():
        raise NotFound("No such alert.")
    if to != "view":
        allowed, message = _ALERT_REFUSALS[to]
        if not allowed(actor, alert):
            code = "watchlist_image_not_shared_for_review" if to == "thumbnail" else "permission_refused"
            raise PermissionRefused(message, code=code)
    return alert


def alert_for(actor: Any, pk: Any, *, to: str = "view") -> Alert:
    try:
        alert = alerts_visible_to(actor).get(pk=pk)
    except (Alert.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound("No such alert.") from None
    return alert_check(actor, alert, to=to)


def alerts_reviewable_by(actor: Any) -> QuerySet[Alert]:
    """The review queue's alerts: the operator's reviewers see their deployments' alerts; police
    reviewers those on images their supply chain supplied."""
    if not role_allows(actor, "deployments.review_alerts_deployment"):
        return Alert.objects.none()
    organisation = actor.organisation
    if organisation.is_police:
        if not is_police_reviewer(actor):
            return Alert.objects.none()
        return Alert.objects.filter(supplying_organisation_id__in=supply_chain_ids(organisation))
    return Alert.objects.filter(deployment__operator_id=organisation.pk)


# --- disclosures -----------------------------------------------------------------------------------


def disclosures_visible_to(actor: Any) -> QuerySet[Disclosure]:
    """Disclosures of alerts the actor may see: the operator's, the supplying side's (addressed to
    the supplying unit or its force, both see them), every one for regulators."""
    if not role_allows(actor, "deployments.view_disclosure"):
        return Disclosure.objects.none()
    return (
        Disclosure.objects.filter(
            parties_filter(
                actor,
                supplier="alert__supplying_organisation_id",
                operator="alert__deployment__operator_id",
            )
        )
        .select_related("alert", "alert__deployment", "alert__camera", "recipient_organisation")
        .order_by("-disclosed_at")
    )


def disclosures_received_by(actor: Any) -> QuerySet[Disclosure]:
    """For the police API: the disclosures of alerts on images the caller's supply chain supplied."""
    organisation = getattr(actor, "organisation", None)
    if organisation is None or not organisation.is_police:
        return Disclosure.objects.none()
    return disclosures_visible_to(actor)


def can_report_outcome(actor: Any, disclosure: Disclosure) -> bool:
    return role_allows(actor, "deployments.report_outcome_disclosure") and is_supply_side(actor, disclosure.alert)


def disclosure_for(actor: Any, pk: Any, *, to: str = "view") -> Disclosure:
    try:
        disclosure = disclosures_visible_to(actor).select_related("alert__supplying_organisation").get(pk=pk)
    except (Disclosure.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound("No such disclosure.") from None
    if to == "report_outcome" and not can_report_outcome(actor, disclosure):
        raise PermissionRefused(
            "Only the force or unit that supplied the image reports the outcome.", code="not_the_supplier"
        )
    return disclosure


# --- cameras and their gateway keys ------------------------------------------------------------------


def cameras_administered_by(actor: Any) -> QuerySet[Camera]:
    """Cameras whose gateway keys the actor looks after: an administrator's, of the deployments their
    organisation operates (governance.administration's scope); an operator's DPO's, of its own."""
    from governance.administration.access import administered_organisation_ids

    operators = set(administered_organisation_ids(actor))
    organisation = getattr(actor, "organisation", None)
    if organisation is not None and role_allows(actor, "deployments.operate_deployment"):
        operators.add(organisation.pk)
    return Camera.objects.filter(deployment__operator_id__in=operators).select_related("deployment")


def can_manage_camera_keys(actor: Any) -> bool:
    """The gate of the camera pages: administrators, and operators' DPOs (who run the deployments)."""
    from governance.administration.access import can_administer

    return can_administer(actor) or role_allows(actor, "deployments.operate_deployment")


def camera_for(actor: Any, pk: Any) -> Camera:
    """A camera whose key the actor manages; another organisation's is "not found", like a missing one."""
    if not can_manage_camera_keys(actor):
        raise PermissionRefused("Only an administrator or the operator's data protection officer manages cameras.")
    try:
        return cameras_administered_by(actor).get(pk=pk)
    except (Camera.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound("No such camera.") from None


def camera_check(actor: Any, camera: Camera) -> Camera:
    return camera_for(actor, camera.pk)


page_predicate_register("read_deployments", can_read_deployments)
page_predicate_register("review_alerts", can_review_alerts)
page_predicate_register("read_disclosures", can_read_disclosures)
