"""Who reads and publishes accountability reports (the shape of ``governance.access``).

Reports are computed from what the reader may see (``governance.reports.registry.ReportScope``), so
the only decisions here are whose role reads them at all and who speaks for an organisation: its
own data protection officer publishes its transparency report and writes its commentary on the
self-assessment; a regulator reads and never writes.
"""

from __future__ import annotations

from typing import Any

from governance.access import is_regulator, page_predicate_register, role_allows

REPORT_PERMISSION = "governance.view_reports"
PUBLISH_PERMISSION = "governance.publish_reports"


def can_read_reports(actor: Any) -> bool:
    """Reports, the regulator pack and the records of processing: DPOs and regulators."""
    return role_allows(actor, REPORT_PERMISSION)


def can_publish_transparency_report(actor: Any, operator: Any) -> bool:
    """The operator's own data protection officer publishes its transparency report."""
    return role_allows(actor, PUBLISH_PERMISSION) and actor.organisation_id == operator.pk


def can_comment_on_self_assessment(actor: Any) -> bool:
    """An organisation's data protection officer writes its commentary on the self-assessment; a
    regulator reads it."""
    return role_allows(actor, PUBLISH_PERMISSION) and not is_regulator(actor)


page_predicate_register("read_reports", can_read_reports)
