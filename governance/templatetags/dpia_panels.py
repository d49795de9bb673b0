"""DPIA warnings for pages that are not the DPIA's own: the dashboard, and everything a DPIA covers
(an agreement's page, a deployment's page — the latter passes the deployment, used only by id)."""

from django import template

from governance.dpia.selectors import (
    dpia_warnings_for_agreement,
    dpia_warnings_for_deployment,
    dpia_warnings_visible_to,
)

register = template.Library()


@register.inclusion_tag("dpia/_warnings.html", takes_context=True)
def dpia_review_panel(context):
    return {
        "warnings": dpia_warnings_visible_to(context["request"].user),
        "heading": "DPIAs due for review",
        "empty": "No DPIA you can see is due for review within a month.",
    }


@register.inclusion_tag("dpia/_warnings.html")
def dpia_agreement_warnings(agreement):
    return {"warnings": dpia_warnings_for_agreement(agreement), "heading": None}


@register.inclusion_tag("dpia/_warnings.html")
def dpia_deployment_warnings(deployment):
    from governance.dpia.rules import dpias_covering_deployment

    if not dpias_covering_deployment(deployment.pk).exists():
        return {
            "warnings": [(None, "No approved DPIA covers this deployment: it cannot go live until one does.")],
            "heading": None,
        }
    return {"warnings": dpia_warnings_for_deployment(deployment.pk), "heading": None}
