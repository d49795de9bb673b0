"""The DPIAs of the King's Cross scenario (``fixtures/kings_cross_dpia.json``), written through the
services so their audit trail is real. Called by ``load_scenario``."""

from __future__ import annotations

import json
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from governance.dpia import services as dpias
from governance.dpia.models import DPIA

SCENARIO_FILE = settings.BASE_DIR / "fixtures" / "kings_cross_dpia.json"
_SECTION_KEYS = (
    "title",
    "nature",
    "scope",
    "context",
    "purposes",
    "necessity",
    "proportionality",
    "safeguards",
    "dpo_advice",
    "dpo_advice_by_name",
    "dpo_advice_followed",
    "dpo_advice_response",
    "subject_views",
)


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


def scenario_dpia_for_agreement(*, actor, agreement) -> DPIA:
    """The approved DPIA the Met agreement needs before the force can approve it."""
    dpia = _draft(actor=actor, item=_content()["met"], agreement=agreement)
    dpias.dpia_submit(actor=actor, dpia=dpia)
    return dpias.dpia_approve(actor=actor, dpia=dpia, capacity="Data Protection Officer, for the controller")


def scenario_dpia_cover_deployment(*, actor, dpia: DPIA, deployment_id: int) -> DPIA:
    """Version 2: the same DPIA revised to cover the Granary Square deployment, with its evidence."""
    item = _content()["met"]
    v2 = dpias.dpia_revise(actor=actor, dpia=dpia, change_summary=item["deployment_change_summary"])
    dpias.dpia_cover_deployment(actor=actor, dpia=v2, deployment_id=deployment_id, **item["deployment_evidence"])
    dpias.dpia_submit(actor=actor, dpia=v2)
    return dpias.dpia_approve(actor=actor, dpia=v2, capacity="Data Protection Officer, for the controller")


def scenario_dpia_awaiting_consultation(*, actor, agreement) -> DPIA:
    """The BTP draft: residual risk stays high, so it waits for prior consultation (s.65)."""
    return _draft(actor=actor, item=_content()["btp"], agreement=agreement)
