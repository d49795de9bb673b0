"""Roles: Django groups that carry model permissions.

What a role may do in general lives here; *to which objects* it may do it is decided by guardian
object permissions granted to the user's organisation (see ``governance.agreements.services``).
"""

from __future__ import annotations

from django.db import models


class Role(models.TextChoices):
    DPO = "dpo", "Data protection officer"
    FORCE_SUBMITTER = "force_submitter", "Force submitter"
    REVIEWER = "reviewer", "Reviewer"
    POLICE_REVIEWER = "police_reviewer", "Police reviewer"
    # College of Policing APP on LFR: a senior officer of the supplying force authorises each deployment.
    AUTHORISING_OFFICER = "authorising_officer", "Authorising Officer (police)"
    REGULATOR = "regulator", "Regulator (read-only)"
    ADMIN = "admin", "Administrator"

    @property
    def group_name(self) -> str:
        return f"role:{self.value}"


# Model permissions each role carries (app_label.codename).
ROLE_PERMISSIONS: dict[Role, set[str]] = {
    Role.DPO: {
        "governance.view_agreement",
        "governance.add_agreement",
        "governance.change_agreement",
        "governance.submit_agreement",
        "governance.approve_agreement",
        "governance.countersign_agreement",
        "governance.terminate_agreement",
        "governance.notify_regulator_agreement",
        "governance.view_auditevent",
        "governance.export_auditevent",
        "retention.view_retentionrun",
        "retention.view_legalhold",
        "retention.add_legalhold",
        "retention.change_legalhold",
        # Watchlist ledger (object permissions decide which images: bytes and withdrawal only on the supplying side).
        "governance.view_watchlistimage",
        "governance.view_watchlistimage_bytes",
        "governance.withdraw_watchlistimage",
        "governance.view_deletioncertificate",
        "governance.view_reports",
        "governance.publish_reports",
        "governance.view_breach",
        "governance.add_breach",
        "governance.change_breach",
    },
    Role.FORCE_SUBMITTER: {
        "governance.view_agreement",
        "governance.view_watchlistimage",
        "governance.add_watchlistimage",
        "governance.view_watchlistimage_bytes",
        "governance.withdraw_watchlistimage",
    },
    Role.REVIEWER: {"governance.view_agreement"},
    Role.POLICE_REVIEWER: {"governance.view_agreement"},
    Role.AUTHORISING_OFFICER: {"governance.view_agreement"},
    Role.REGULATOR: {
        "governance.view_agreement",
        "governance.view_auditevent",
        "retention.view_retentionrun",
        "retention.view_legalhold",
        "governance.view_watchlistimage",
        "governance.view_deletioncertificate",
        "governance.view_reports",
        "governance.view_breach",
    },
    # Administration (governance.administration): accounts, roles, API tokens and cameras of the
    # administrator's organisation (a force's: its units too).
    Role.ADMIN: {"governance.view_agreement", "governance.view_auditevent", "governance.administer_organisation"},
}

# Deployments, alerts and disclosures (recognition.deployments): object permissions on each
# deployment decide *which* (the operator's, the supplying forces'; regulators read all).
_DEPLOYMENT_ROLE_PERMISSIONS: dict[Role, set[str]] = {
    Role.DPO: {
        "deployments.view_deployment",
        "deployments.add_deployment",
        "deployments.change_deployment",
        "deployments.operate_deployment",
        "deployments.disclose_alerts_deployment",
        "deployments.view_disclosure",
        "deployments.report_outcome_disclosure",
    },
    Role.REVIEWER: {"deployments.view_deployment", "deployments.review_alerts_deployment"},
    Role.POLICE_REVIEWER: {"deployments.view_deployment", "deployments.review_alerts_deployment"},
    Role.FORCE_SUBMITTER: {"deployments.view_disclosure", "deployments.report_outcome_disclosure"},
    # Which deployments: those its force supplies (``recognition.deployments.access.can_authorise_deployment``).
    Role.AUTHORISING_OFFICER: {"deployments.view_deployment", "deployments.authorise_deployment"},
    Role.REGULATOR: {"deployments.view_deployment", "deployments.view_disclosure"},
}
for _role, _perms in _DEPLOYMENT_ROLE_PERMISSIONS.items():
    ROLE_PERMISSIONS[_role] = ROLE_PERMISSIONS[_role] | _perms

# DPIAs (governance.dpia): the controller's DPO writes and signs off; regulators read.
_DPIA_ROLE_PERMISSIONS: dict[Role, set[str]] = {
    Role.DPO: {
        "governance.view_dpia",
        "governance.add_dpia",
        "governance.change_dpia",
        "governance.submit_dpia",
        "governance.approve_dpia",
        # Appropriate policy documents (s.42), kept beside the DPIAs.
        "governance.view_policydocument",
        "governance.add_policydocument",
        "governance.change_policydocument",
        "governance.approve_policydocument",
    },
    Role.REGULATOR: {"governance.view_dpia", "governance.view_policydocument"},
}
for _role, _perms in _DPIA_ROLE_PERMISSIONS.items():
    ROLE_PERMISSIONS[_role] = ROLE_PERMISSIONS[_role] | _perms

# Subject requests (governance.subject_access): the receiving organisation's DPO acts; regulators
# read the register's metadata (never the contents: ``subject_access.access``).
_SUBJECT_REQUEST_ROLE_PERMISSIONS: dict[Role, set[str]] = {
    Role.DPO: {
        "governance.view_subjectrequest",
        "governance.add_subjectrequest",
        "governance.change_subjectrequest",
        "governance.search_subjectrequest",
    },
    Role.REGULATOR: {"governance.view_subjectrequest"},
}
for _role, _perms in _SUBJECT_REQUEST_ROLE_PERMISSIONS.items():
    ROLE_PERMISSIONS[_role] = ROLE_PERMISSIONS[_role] | _perms

# Every regulator user is in this group; every agreement grants it read access, so regulators read
# the whole register (metadata only) including agreements made after they joined.
REGULATORS_GROUP_NAME = "oversight:regulators"


def role_groups_sync(*, using: str = "default") -> None:
    """Create the role groups and set their permissions exactly as ``ROLE_PERMISSIONS`` says.

    Runs on every ``user_create``: a handful of queries (all permissions in one, each group's
    current set compared and written only where it differs), not one per permission."""
    from django.contrib.auth.models import Group, Permission

    codenames = {dotted.split(".")[1] for perms in ROLE_PERMISSIONS.values() for dotted in perms}
    permission_ids: dict[str, set[int]] = {}
    for pk, app_label, codename in (
        Permission.objects.using(using)
        .filter(codename__in=codenames)
        .values_list("pk", "content_type__app_label", "codename")
    ):
        permission_ids.setdefault(f"{app_label}.{codename}", set()).add(pk)
    names = [role.group_name for role in ROLE_PERMISSIONS] + [REGULATORS_GROUP_NAME]
    groups = {group.name: group for group in Group.objects.using(using).filter(name__in=names)}
    for name in names:
        if name not in groups:
            groups[name], _ = Group.objects.using(using).get_or_create(name=name)
    through = Group.permissions.through
    current: dict[int, set[int]] = {}
    for group_id, permission_id in (
        through.objects.using(using)
        .filter(group_id__in=[groups[role.group_name].pk for role in ROLE_PERMISSIONS])
        .values_list("group_id", "permission_id")
    ):
        current.setdefault(group_id, set()).add(permission_id)
    for role, perms in ROLE_PERMISSIONS.items():
        group = groups[role.group_name]
        wanted = set().union(*(permission_ids.get(dotted, set()) for dotted in perms))
        if current.get(group.pk, set()) != wanted:
            group.permissions.set(wanted)


def role_groups_sync_after_migrate(sender, using: str = "default", **kwargs) -> None:
    role_groups_sync(using=using)
