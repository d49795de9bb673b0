"""What an agreement's page links to: its images, its report and its deployments (registered by
recognition), each only where the viewer may open it."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from governance.access import images_visible_to
from governance.reports.access import can_read_reports
from governance.reports.registry import related_links


def agreement_links(actor: Any, agreement) -> list[tuple[str, str]]:
    links: list[tuple[str, str]] = []
    images = images_visible_to(actor).filter(agreement_id=agreement.pk).count()
    if images:
        links.append(
            (
                f"Watchlist images supplied under it ({images})",
                f"{reverse('watchlist-ledger')}?agreement={agreement.pk}",
            )
        )
    if can_read_reports(actor):
        links.append(("Its report (page, PDF, CSV)", reverse("report-subject", args=["agreement", agreement.pk])))
    return links + related_links("agreement", actor, agreement)
