"""Organisations and the people who act for them.

Police forces, their units (a borough command unit under the Met), private operators and
regulators. Every user belongs to one organisation; what they may do is the intersection of their
**role** (a Django group carrying model permissions) and their **organisation's** relationship to
the object (guardian object permissions granted to the organisation's group).
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser, Group
from django.db import models


class OrganisationKind(models.TextChoices):
    POLICE_FORCE = "police_force", "Police force"
    POLICE_UNIT = "police_unit", "Police unit"
    OPERATOR = "operator", "Private operator"
    REGULATOR = "regulator", "Regulator / oversight body"


class Organisation(models.Model):
    name = models.CharField(max_length=200, unique=True)
    short_name = models.CharField(max_length=40, unique=True)
    kind = models.CharField(max_length=20, choices=OrganisationKind.choices)
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="units",
        help_text="The force a police unit belongs to.",
    )
    # Object permissions are granted to this group; every member of the organisation is in it.
    access_group = models.OneToOneField(Group, on_delete=models.PROTECT, related_name="organisation")
    contact_email = models.EmailField(blank=True)
    # Subject requests: whether responses name members of staff or give their role only (the
    # organisation's DPO decides; ``governance.subject_access.services.organisation_staff_policy_set``).
    staff_names_as_roles = models.BooleanField(
        default=False, help_text="In subject access responses, replace staff names by their roles."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                name="organisation_unit_has_parent_force",
                condition=(models.Q(kind="police_unit", parent__isnull=False) | ~models.Q(kind="police_unit")),
                violation_error_message="A police unit must belong to a police force.",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_police(self) -> bool:
        return self.kind in {OrganisationKind.POLICE_FORCE, OrganisationKind.POLICE_UNIT}

    @property
    def is_force_level(self) -> bool:
        """Force level, not local: only a force may approve a data-sharing agreement (Met policy
        after King's Cross forbids borough-level agreements)."""
        return self.kind == OrganisationKind.POLICE_FORCE

    def concerned_organisation_ids(self) -> set[int]:
        return {self.pk} | ({self.parent_id} if self.parent_id else set())

    @property
    def force(self) -> Organisation | None:
        if self.kind == OrganisationKind.POLICE_FORCE:
            return self
        if self.kind == OrganisationKind.POLICE_UNIT:
            return self.parent
        return None


class PoliceRank(models.TextChoices):
    """Police ranks of England and Wales, lowest first (the Met's and City's titles beside the
    county forces' where they differ)."""

    CONSTABLE = "constable", "Constable"
    SERGEANT = "sergeant", "Sergeant"
    INSPECTOR = "inspector", "Inspector"
    CHIEF_INSPECTOR = "chief_inspector", "Chief Inspector"
    SUPERINTENDENT = "superintendent", "Superintendent"
    CHIEF_SUPERINTENDENT = "chief_superintendent", "Chief Superintendent"
    COMMANDER = "commander", "Commander / Assistant Chief Constable"
    DEPUTY_ASSISTANT_COMMISSIONER = "deputy_assistant_commissioner", "Deputy Assistant Commissioner"
    ASSISTANT_COMMISSIONER = "assistant_commissioner", "Assistant Commissioner / Deputy Chief Constable"
    CHIEF_CONSTABLE = "chief_constable", "Chief Constable / Deputy Commissioner / Commissioner"


_RANK_ORDER = list(PoliceRank.values)


def rank_below_superintendent(rank: str) -> bool:
    """College of Policing APP on live facial recognition: the Authorising Officer is "an officer of
    the rank of superintendent or above". Oversight records the rank and warns below it (it does not
    refuse: a force may have reasons, e.g. an acting rank, that it answers for). No rank recorded
    counts as below."""
    if rank not in _RANK_ORDER:
        return True
    return _RANK_ORDER.index(rank) < _RANK_ORDER.index(PoliceRank.SUPERINTENDENT)


class User(AbstractUser):
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="members"
    )
    job_title = models.CharField(max_length=120, blank=True)
    # A police officer's rank (the Authorising Officer's is shown with every authorisation).
    rank = models.CharField(max_length=40, choices=PoliceRank.choices, blank=True)

    class Meta:
        ordering = ["username"]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    def concerned_organisation_ids(self) -> set[int]:
        return {self.organisation_id} if self.organisation_id else set()

    @property
    def role_names(self) -> list[str]:
        from governance.organisations.roles import Role

        names = set(self.groups.values_list("name", flat=True))
        return [role.label for role in Role if role.group_name in names]

    @property
    def rank_below_superintendent(self) -> bool:
        return rank_below_superintendent(self.rank)

    def has_role(self, role) -> bool:
        return self.groups.filter(name=role.group_name).exists()
