"""Role groups (``governance.organisations.roles.role_groups_sync``): every role's group carries
exactly the permissions ``ROLE_PERMISSIONS`` lists, whatever state the groups were left in."""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from governance.organisations.roles import REGULATORS_GROUP_NAME, ROLE_PERMISSIONS, Role, role_groups_sync


def _dotted(group: Group) -> set[str]:
    return {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}


def test_each_role_group_carries_exactly_its_listed_permissions(db):
    role_groups_sync()
    for role, perms in ROLE_PERMISSIONS.items():
        assert _dotted(Group.objects.get(name=role.group_name)) == perms, role
    assert Group.objects.filter(name=REGULATORS_GROUP_NAME).exists()


def test_a_missing_group_a_stray_permission_and_a_removed_one_are_all_put_right(db):
    Group.objects.filter(name__in=[Role.REVIEWER.group_name, REGULATORS_GROUP_NAME]).delete()
    dpo = Group.objects.get(name=Role.DPO.group_name)
    dpo.permissions.remove(Permission.objects.get(content_type__app_label="governance", codename="view_agreement"))
    regulator = Group.objects.get(name=Role.REGULATOR.group_name)
    regulator.permissions.add(Permission.objects.get(content_type__app_label="governance", codename="change_agreement"))

    role_groups_sync()

    assert _dotted(Group.objects.get(name=Role.REVIEWER.group_name)) == ROLE_PERMISSIONS[Role.REVIEWER]
    assert _dotted(dpo) == ROLE_PERMISSIONS[Role.DPO]
    assert _dotted(regulator) == ROLE_PERMISSIONS[Role.REGULATOR]
    assert Group.objects.filter(name=REGULATORS_GROUP_NAME).exists()


def test_groups_already_in_order_are_checked_in_a_few_queries_and_left_unchanged(db):
    role_groups_sync()
    before = {group.name: _dotted(group) for group in Group.objects.all()}
    with CaptureQueriesContext(connection) as queries:
        role_groups_sync()  # runs on every user_create: not one query per permission
    assert len(queries) <= 5, [q["sql"] for q in queries]
    assert {group.name: _dotted(group) for group in Group.objects.all()} == before
