"""The DPIA as a document a DPO signs and a regulator reads (WeasyPrint through ``governance.pdf``):
cover, contents, the Art. 35(7) sections, the data and lifecycle of what it covers, the risk
matrix, equality and accuracy evidence, versions and sign-offs, page numbers."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils import timezone

from governance.dpia import selectors
from governance.dpia.models import DPIA
from governance.pdf import render_pdf


def dpia_document_context(*, dpia: DPIA, versions=None) -> dict:
    return {
        "dpia": dpia,
        "risks": list(dpia.risks.all()),
        "matrix": selectors.risk_matrix(dpia),
        "agreements": list(dpia.agreements.select_related("supplying_organisation", "receiving_organisation")),
        "deployments": selectors.deployment_facts(dpia),
        "versions": list(
            versions if versions is not None else DPIA.objects.filter(reference=dpia.reference).order_by("version")
        ),
        "generated_at": timezone.now(),
    }


def dpia_render_pdf(*, dpia: DPIA, versions=None) -> bytes:
    return render_pdf(render_to_string("dpia/dpia_pdf.html", dpia_document_context(dpia=dpia, versions=versions)))
