"""The DPIAs of the King's Cross scenario (``fixtures/kings_cross_dpia.json``), written through the
services so their audit trail is real. Called by ``load_scenario``."""

from __future__ import annotations

import json
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from governance.dpia import policy_services
from governance.dpia import services as dpias
from governance.dpia.models import DPIA, PolicyDocument

SCENARIO_FILE = settings.BASE_DIR / "fixtures" / "kings_cross_dpia.json"
# The scenario file gives every section a DPO writes but the review date, which it sets relative to today.
_SECTION_KEYS = tuple(name for name in dpias.EDITABLE_FIELDS if name != "review_on")


def _content() -> dict:
    return json.loads(SCENARIO_FILE.read_text())


def _draft(*, actor, item: dict, agreement) -> DPIA:
    fields = {key: item[key] for key in _SECTION_KEYS}
    fields["review_on"] = timezone.localdate() + timedelta(days=item["review_offset_days"])
    dpia = dpias.dpia_draft(actor=actor, fields=fields)
    dpias.dpia_set_agreements(actor=actor, dpia=dpia, agreement_ids=[agreement.pk])
    for risk in item["risks"]:
        dpias.dpia_risk_add(actor=actor, dpia=dpia, fields=risk)
    return dpia


def _sign_off_by(actor):
    """Another DPO of the writer's organisation (``dpo2.estate`` in the scenario; not the system
    administrator, who also holds the DPO role): the writer and the DPO who advised cannot sign off
    (UK GDPR Art. 35(2))."""
    from governance.organisations.models import User
    from governance.organisations.roles import Role

    return next(
        user
        for user in User.objects.filter(organisation=actor.organisation).exclude(pk=actor.pk).order_by("username")
        if user.has_role(Role.DPO) and not user.has_role(Role.ADMIN)
    )


SIGN_OFF_CAPACITY = "Head of Estate Security, for the controller (after the DPO's advice)"


def scenario_dpia_for_agreement(*, actor, agreement) -> DPIA:
    """The approved DPIA the Met agreement needs before the force can approve it: written (with the
    advice) by the estate's DPO, signed off by another person of the controller."""
    dpia = _draft(actor=actor, item=_content()["met"], agreement=agreement)
    dpias.dpia_submit(actor=actor, dpia=dpia)
    return dpias.dpia_approve(actor=_sign_off_by(actor), dpia=dpia, capacity=SIGN_OFF_CAPACITY)


def scenario_dpia_cover_deployment(*, actor, dpia: DPIA, deployment_id: int) -> DPIA:
    """Version 2: the same DPIA revised to cover the Granary Square deployment, with its evidence."""
    item = _content()["met"]
    v2 = dpias.dpia_revise(actor=actor, dpia=dpia, change_summary=item["deployment_change_summary"])
    dpias.dpia_cover_deployment(actor=actor, dpia=v2, deployment_id=deployment_id, **item["deployment_evidence"])
    dpias.dpia_submit(actor=actor, dpia=v2)
    return dpias.dpia_approve(actor=_sign_off_by(actor), dpia=v2, capacity=SIGN_OFF_CAPACITY)


def scenario_dpia_awaiting_consultation(*, actor, agreement) -> DPIA:
    """The BTP draft: residual risk stays high, so it waits for prior consultation (s.65)."""
    return _draft(actor=actor, item=_content()["btp"], agreement=agreement)


def scenario_policy_documents(*, scenario: dict, users: dict, agreements) -> list[PolicyDocument]:
    """The appropriate policy documents of ``fixtures/kings_cross.json``: the Met's (DPA 2018 s.42,
    which force-level approval of the agreement needs) and the estate's own (Sch. 1 Part 4, which
    go-live needs), each written by one DPO and approved by another of the same controller."""
    made = []
    for item in scenario.get("policy_documents", []):
        fields = {
            key: item[key]
            for key in ("title", "schedule8_conditions", "compliance_procedures", "retention_policy")
            if key in item
        }
        fields["processing_description"] = item["processing_description"]
        fields["review_on"] = timezone.localdate() + timedelta(days=365)
        writer = users[item["drafted_by"]]
        policy = policy_services.policy_draft(
            actor=writer,
            fields=fields,
            agreement_ids=[a.pk for a in agreements] if item.get("covers_current") else [],
        )
        made.append(policy_services.policy_approve(actor=users[item["approved_by"]], policy=policy))
    return made
