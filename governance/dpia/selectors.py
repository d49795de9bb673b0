"""Reads for DPIA pages, the PDF and the dashboard. Every list starts from ``dpias_visible_to``."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import timedelta
from html import escape
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from governance.dpia import registry
from governance.dpia.access import dpias_visible_to
from governance.dpia.models import DPIA, DPIAStatus, Likelihood, Severity, risk_level
from governance.dpia.rules import REVIEW_WARNING_DAYS, dpia_review_warning

SECTIONS: tuple[tuple[str, str], ...] = (
    ("title", "Title"),
    ("nature", "Nature of the processing"),
    ("scope", "Scope of the processing"),
    ("context", "Context of the processing"),
    ("purposes", "Purposes"),
    ("necessity", "Necessity"),
    ("proportionality", "Proportionality"),
    ("safeguards", "Safeguards and security measures"),
    ("dpo_advice", "DPO's advice"),
    ("dpo_advice_followed", "DPO's advice followed"),
    ("dpo_advice_response", "Response to the DPO's advice"),
    ("subject_views", "Views of data subjects or their representatives"),
    ("review_on", "Review date"),
)


def dpia_list(*, user, status: str = "") -> QuerySet[DPIA]:
    queryset = dpias_visible_to(user).prefetch_related("agreements")
    if status:
        queryset = queryset.filter(status=status)
    return queryset.order_by("reference", "-version")


def dpia_versions(*, user, dpia: DPIA) -> QuerySet[DPIA]:
    return dpias_visible_to(user).filter(reference=dpia.reference).order_by("version")


def _text(dpia: DPIA, key: str) -> str:
    value = getattr(dpia, key)
    if key == "dpo_advice_followed":
        return {True: "Yes", False: "No", None: "Not recorded"}[value]
    if key == "review_on":
        return f"{value:%d %B %Y}"
    return str(value or "")


def _risks_text(dpia: DPIA) -> str:
    return "\n".join(
        f"{r.title}: {r.description} Likelihood {r.get_likelihood_display()}, severity {r.get_severity_display()}. "
        f"Measures: {r.measures} Residual risk {r.get_residual_risk_display()}."
        for r in dpia.risks.all()
    )


def _coverage_text(dpia: DPIA) -> str:
    lines = [f"Agreement {a.reference} v{a.version}: {a.title}" for a in dpia.agreements.all()]
    lines += [
        f"Deployment {d.deployment_reference}: {d.deployment_name}, threshold {d.threshold:.2f}, weights "
        f"{d.weights_sha256[:12]}…; evidence: {d.demographic_evidence} Monitoring: {d.monitoring_plan}"
        for d in dpia.deployments.all()
    ]
    return "\n".join(lines)


def _consultation_text(dpia: DPIA) -> str:
    if not dpia.consultation_recorded:
        return ""
    return f"{dpia.consultation_on:%d %B %Y}, {dpia.consultation_reference}: {dpia.consultation_outcome}"


def dpia_snapshot(dpia: DPIA) -> list[tuple[str, str, str]]:
    """The version as (key, label, text) rows: what two versions are compared on."""
    rows = [(key, label, _text(dpia, key)) for key, label in SECTIONS]
    rows.append(("coverage", "What it covers", _coverage_text(dpia)))
    rows.append(("risks", "Risks", _risks_text(dpia)))
    rows.append(("consultation", "Prior consultation (s.65)", _consultation_text(dpia)))
    return rows


@dataclass(frozen=True)
class CompareRow:
    key: str
    label: str
    left: str  # HTML, removed words in <del>
    right: str  # HTML, added words in <ins>
    changed: bool


def _marked(a: str, b: str) -> tuple[str, str]:
    left_words, right_words = a.split(" "), b.split(" ")
    left, right = [], []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=left_words, b=right_words, autojunk=False).get_opcodes():
        old, new = escape(" ".join(left_words[i1:i2])), escape(" ".join(right_words[j1:j2]))
        if op == "equal":
            left.append(old)
            right.append(new)
        else:
            if old:
                left.append(f"<del>{old}</del>")
            if new:
                right.append(f"<ins>{new}</ins>")
    return " ".join(left).replace("\n", "<br>"), " ".join(right).replace("\n", "<br>")


def dpia_compare(left: DPIA, right: DPIA) -> list[CompareRow]:
    """Two versions side by side, section by section, with removed and added words marked."""
    rows = []
    for (key, label, a), (_, _, b) in zip(dpia_snapshot(left), dpia_snapshot(right), strict=True):
        marked_left, marked_right = (
            _marked(a, b) if a != b else (escape(a).replace("\n", "<br>"), escape(b).replace("\n", "<br>"))
        )
        rows.append(CompareRow(key, label, marked_left, marked_right, a != b))
    return rows


def risk_matrix(dpia: DPIA) -> list[dict[str, Any]]:
    """Rows of the likelihood × severity grid, most likely first, each cell with its level and risks."""
    risks = list(dpia.risks.all())
    rows = []
    for likelihood in sorted(Likelihood, reverse=True):
        cells = [
            {
                "severity": severity,
                "level": risk_level(likelihood, severity).value,
                "risks": [
                    (i + 1, r) for i, r in enumerate(risks) if r.likelihood == likelihood and r.severity == severity
                ],
            }
            for severity in Severity
        ]
        rows.append({"likelihood": likelihood, "cells": cells})
    return rows


def deployment_facts(dpia: DPIA) -> list[tuple[Any, Any]]:
    """Each covered deployment with what recognition says about it now (the data and its lifecycle)."""
    source = registry.deployment_source()
    return [(row, source.describe(row.deployment_id) if source else None) for row in dpia.deployments.all()]


def running_weights() -> tuple[str, str]:
    source = registry.deployment_source()
    return source.running_weights() if source else ("", "")


def evidence_curve() -> list[registry.AccuracyEvidence]:
    source = registry.deployment_source()
    return source.evidence_curve() if source else []


def deployment_candidates(*, user) -> list[registry.DeploymentFacts]:
    source = registry.deployment_source()
    if source is None or getattr(user, "organisation_id", None) is None:
        return []
    return source.operated_by(user.organisation_id)


def dpia_warnings_visible_to(user) -> list[tuple[DPIA, str]]:
    """The dashboard's warnings: approved DPIAs due for review within a month, overdue or flagged."""
    horizon = timezone.localdate() + timedelta(days=REVIEW_WARNING_DAYS)
    candidates = dpias_visible_to(user).filter(status=DPIAStatus.APPROVED)
    candidates = candidates.filter(review_on__lte=horizon) | candidates.filter(flagged_for_review_at__isnull=False)
    return [(dpia, warning) for dpia in candidates.distinct() if (warning := dpia_review_warning(dpia))]


def dpia_warnings_for_agreement(agreement) -> list[tuple[DPIA, str]]:
    from governance.dpia.rules import dpias_covering_agreement

    return [(d, w) for d in dpias_covering_agreement(agreement) if (w := dpia_review_warning(d))]


def dpia_warnings_for_deployment(deployment_id: int) -> list[tuple[DPIA, str]]:
    from governance.dpia.rules import dpias_covering_deployment

    return [(d, w) for d in dpias_covering_deployment(deployment_id) if (w := dpia_review_warning(d))]
