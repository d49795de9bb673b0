"""Every decision about who may do what is a named predicate in its domain's access module (issue 24, item 3).

The scans read the source: a template that tests ``perms.`` (or a role), or product code that asks for a
permission or a role itself (``has_perm``, ``has_role``, ``role_allows``) outside an access module, fails here.
Templates ask the access modules by name (``{% if may.read_breaches %}``, ``governance.context_processors``); every
name they ask is registered, and every predicate is listed in ``docs/access.md``. The behavioural tests show the
same predicate deciding the page, the service and the template alike.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.template import Context, Template
from django.test import RequestFactory

from governance.access import agreement_for, can_draft_agreement, can_place_hold, page_predicate
from governance.errors import NotFound, PermissionRefused

ROOT = Path(settings.BASE_DIR)
PRODUCT = ("governance", "recognition", "config")
ACCESS_MODULES = {"access.py", "policy_access.py"}
# Calls that ask for the actor's permission or role: only access modules make them.
ASKING = {"has_perm", "has_role", "role_allows"}
# ``has_role`` outside an access module where it is not a decision about the actor, with the reason.
NOT_ACCESS_DECISIONS = {
    # ``User.has_role`` itself.
    "governance/organisations/models.py",
    # Which of the scenario's users signs off a DPIA (a fixture of the demo, nobody's permission).
    "governance/dpia/scenario.py",
    "governance/management/commands/load_scenario.py",
    # A token is issued to a force submitter's account: a check of the account named, not of the actor.
    "governance/api/tokens.py",
}
TEMPLATE_ROLE_LOGIC = re.compile(r"\bperms\.|has_perm|has_role|is_staff|is_superuser|\.role\b")


def permission_asks_in(path: Path, root: Path = ROOT) -> list[str]:
    """Each call of ``has_perm`` / ``has_role`` / ``role_allows`` in ``path``, as ``file:line``."""
    hits = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
        if name in ASKING:
            hits.append(node.lineno)
    return [f"{path.relative_to(root)}:{line}" for line in sorted(hits)]


def _product_modules():
    for folder in PRODUCT:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if "migrations" in path.parts or path.name in ACCESS_MODULES:
                continue
            if str(path.relative_to(ROOT)) in NOT_ACCESS_DECISIONS:
                continue
            yield path


def test_no_product_code_asks_for_a_permission_outside_an_access_module():
    offenders = [hit for path in _product_modules() for hit in permission_asks_in(path)]
    assert offenders == [], "ask a named can_* predicate of the domain's access module instead: " + ", ".join(offenders)


def test_the_scan_sees_a_permission_asked_for_when_there_is_one(tmp_path):
    module = tmp_path / "views.py"
    module.write_text(
        "def page(request):\n"
        "    if request.user.has_perm('governance.view_breach'):\n"
        "        return role_allows(request.user, 'governance.add_breach')\n"
        "    return request.user.has_role('dpo')\n"
    )
    assert permission_asks_in(module, tmp_path) == ["views.py:2", "views.py:3", "views.py:4"]


def _templates():
    return sorted((ROOT / "templates").rglob("*.html"))


def test_no_template_decides_by_permission_or_role():
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in _templates()
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if TEMPLATE_ROLE_LOGIC.search(line)
    ]
    assert offenders == [], "use may.<predicate> or a boolean from the view: " + ", ".join(offenders)


def test_every_predicate_a_template_asks_is_registered():
    asked = {name for path in _templates() for name in re.findall(r"\bmay\.(\w+)", path.read_text())}
    assert asked, "the navigation asks the access modules by name"
    assert sorted(name for name in asked if page_predicate(name) is None) == []


def test_every_predicate_is_listed_in_the_access_document():
    listed = (ROOT / "docs" / "access.md").read_text()
    defined = {
        node.name
        for folder in ("governance", "recognition")
        for path in (ROOT / folder).rglob("*.py")
        if path.name in ACCESS_MODULES
        for node in ast.parse(path.read_text()).body
        if isinstance(node, ast.FunctionDef) and node.name.startswith("can_")
    }
    assert sorted(name for name in defined if not re.search(rf"`{name}[`(]", listed)) == []


# --- behaviour: one predicate for the page, the service and the template ------------------------------


def _may(user, name: str) -> str:
    from governance.context_processors import oversight

    request = RequestFactory().get("/")
    request.user = user
    request.session = {}
    return Template("{% if may." + name + " %}yes{% else %}no{% endif %}").render(Context(oversight(request)))


@pytest.mark.django_db
def test_a_template_asks_the_same_predicate_as_the_view(cast):
    assert _may(cast.estate_dpo, "read_breaches") == "yes"
    assert _may(cast.regulator, "read_breaches") == "yes"
    assert _may(cast.estate_reviewer, "read_breaches") == "no"
    assert _may(cast.estate_reviewer, "review_alerts") == "yes"
    assert _may(cast.estate_dpo, "review_alerts") == "no"


@pytest.mark.django_db
def test_a_predicate_no_access_module_registered_is_an_error_not_a_silent_no(cast):
    with pytest.raises(LookupError, match="read_brecahes"):
        _may(cast.estate_dpo, "read_brecahes")


@pytest.mark.django_db
def test_placing_a_hold_is_decided_by_can_place_hold_in_the_service_too(cast):
    from governance.retention.services import legal_hold_place

    assert can_place_hold(cast.estate_dpo)
    assert not can_place_hold(cast.regulator)
    assert not can_place_hold(cast.estate_reviewer)
    with pytest.raises(PermissionRefused, match="legal hold"):
        legal_hold_place(actor=cast.estate_reviewer, target="agreement:1", reason="Litigation")


@pytest.mark.django_db
def test_drafting_an_agreement_is_decided_by_can_draft_agreement_in_the_service_too(cast):
    from governance.agreements.services import agreement_draft

    assert can_draft_agreement(cast.met_dpo)
    assert not can_draft_agreement(cast.met_ao)
    with pytest.raises(PermissionRefused, match="draft an agreement"):
        agreement_draft(actor=cast.met_ao, fields={})


@pytest.mark.django_db
def test_the_breach_panel_tag_shows_by_can_read_breaches(cast):
    from governance.templatetags.breach_panels import breach_clock_panel

    def shown(user):
        request = RequestFactory().get("/")
        request.user = user
        return breach_clock_panel({"request": request})["show"]

    assert shown(cast.estate_dpo) and shown(cast.regulator)
    assert not shown(cast.estate_reviewer)


@pytest.mark.django_db
def test_another_organisations_agreement_is_not_found_exactly_like_a_missing_one(cast, submitted_agreement):
    with pytest.raises(NotFound) as forbidden:
        agreement_for(cast.other_dpo, submitted_agreement.pk)
    with pytest.raises(NotFound) as missing:
        agreement_for(cast.other_dpo, submitted_agreement.pk + 1000)
    assert (forbidden.value.message, forbidden.value.code) == (missing.value.message, missing.value.code)
    assert agreement_for(cast.estate_dpo, submitted_agreement.pk) == submitted_agreement
