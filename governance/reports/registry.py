"""The report registry (the pattern of ``governance.retention.registry``).

A report is built from *sections*, each returned by a registered provider for one report kind:

- ``agreement``: one agreement (its images, erasures, and what recognition did with them);
- ``deployment``: one deployment (registered by recognition, which also owns its lookup);
- ``transparency``: an operator's period, published with no personal data.

A provider is ``compute(scope) -> list[Section]``. It must read only records visible to
``scope.actor`` through the access layer (``scope.actor is None`` only for the scheduled
publication job, which reads one operator's records: ``scope.operator_id``).

Kinds whose subject lives in another app register a ``ReportSubject`` saying how to look it up for
an actor (``<entity>_for`` — not found alike for missing and forbidden) and how to label it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from governance.registry import Registry


@dataclass(frozen=True)
class Figure:
    """One number (or fact) in a report. ``value is None`` means *never recorded*: the report says
    so plainly instead of showing 0."""

    code: str
    label: str
    value: Any
    note: str = ""

    @property
    def unrecorded(self) -> bool:
        return self.value is None


@dataclass(frozen=True)
class Table:
    """``page_rows``: how many rows the page and the PDF show (the rest are counted there and listed
    in full in the CSV); ``None`` shows every row."""

    code: str
    title: str
    columns: list[str]
    rows: list[list[Any]]
    page_rows: int | None = None


@dataclass(frozen=True)
class Chart:
    """A chart drawn server-side (``governance.reports.charts``) into the page and the PDF alike."""

    code: str
    title: str
    kind: str  # "bar" | "line"
    labels: list[str]
    series: dict[str, list[float]]
    y_label: str = ""


@dataclass(frozen=True)
class Section:
    code: str
    title: str
    figures: list[Figure] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ReportScope:
    """What a report is about and who reads it."""

    actor: Any
    subject: Any = None
    operator_id: int | None = None
    period_start: datetime | None = None
    period_end: datetime | None = None


@dataclass(frozen=True)
class FigureProvider:
    code: str
    kind: str
    compute: Callable[[ReportScope], list[Section]]
    order: int = 100


@dataclass(frozen=True)
class ReportSubject:
    kind: str
    title: str
    lookup: Callable[[Any, Any], Any]
    label: Callable[[Any], str] = field(default=str)


_PROVIDERS: Registry[FigureProvider] = Registry("figure provider")
_SUBJECTS: Registry[ReportSubject] = Registry("report subject")


def figure_provider_register(provider: FigureProvider) -> FigureProvider:
    return _PROVIDERS.register(provider.code, provider)


def figure_providers(kind: str) -> list[FigureProvider]:
    return sorted((p for p in _PROVIDERS.values() if p.kind == kind), key=lambda p: (p.order, p.code))


def report_subject_register(subject: ReportSubject) -> ReportSubject:
    return _SUBJECTS.register(subject.kind, subject)


def report_subject(kind: str) -> ReportSubject | None:
    return _SUBJECTS.get(kind)


def report_sections(kind: str, scope: ReportScope) -> list[Section]:
    sections: list[Section] = []
    for provider in figure_providers(kind):
        sections.extend(provider.compute(scope))
    return sections


# --- evidence for the Surveillance Camera Code self-assessment (the regulator pack) ----------------


@dataclass(frozen=True)
class EvidenceProvider:
    """``compute(scope) -> {principle number: [evidence sentences]}``, from records the reader may see."""

    code: str
    compute: Callable[[ReportScope], dict[int, list[str]]]


_EVIDENCE: Registry[EvidenceProvider] = Registry("principle evidence provider")


def principle_evidence_register(provider: EvidenceProvider) -> EvidenceProvider:
    return _EVIDENCE.register(provider.code, provider)


def principle_evidence(scope: ReportScope) -> dict[int, list[str]]:
    evidence: dict[int, list[str]] = {}
    for provider in sorted(_EVIDENCE.values(), key=lambda p: p.code):
        for number, lines in provider.compute(scope).items():
            evidence.setdefault(number, []).extend(lines)
    return evidence


# --- links from a record's page to what other apps hold about it (the agreement page's deployments) --


@dataclass(frozen=True)
class RelatedLinks:
    """``compute(actor, subject) -> [(label, url)]``: only records the actor may open."""

    code: str
    kind: str
    compute: Callable[[Any, Any], list[tuple[str, str]]]


_LINKS: Registry[RelatedLinks] = Registry("related links provider")


def related_links_register(provider: RelatedLinks) -> RelatedLinks:
    return _LINKS.register(provider.code, provider)


def related_links(kind: str, actor: Any, subject: Any) -> list[tuple[str, str]]:
    links: list[tuple[str, str]] = []
    for provider in sorted((p for p in _LINKS.values() if p.kind == kind), key=lambda p: p.code):
        links.extend(provider.compute(actor, subject))
    return links
