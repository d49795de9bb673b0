"""The retention rule for appropriate policy documents: DPA 2018 s.42(3) — kept while the
processing it covers goes on and for six months after it ends; then erased (texts blanked, the
record that it existed kept, a deletion certificate and an ``erasure`` event). The dates themselves
(``policy_kept_until``, ``policy_erasure_due_on``) are DPIA rules in ``governance.dpia.rules``."""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet
from django.utils import timezone

from governance.dpia.models import PolicyDocument
from governance.retention.registry import RetentionRule, retention_rule_register


def _policies_due(at: datetime) -> QuerySet:
    return PolicyDocument.objects.filter(kept_until__lt=timezone.localtime(at).date(), erased_at__isnull=True)


def _policy_erase(policy: PolicyDocument, run_id: str | None) -> int:
    from governance.dpia.policy_services import policy_erase

    return policy_erase(policy=policy, run_id=run_id)


def _policies_visible(actor, queryset: QuerySet) -> QuerySet:
    from governance.dpia.policy_access import policies_visible_to

    return queryset.filter(pk__in=policies_visible_to(actor).values("pk"))


retention_rule_register(
    RetentionRule(
        code="policy_document.processing_ended",
        title="Appropriate policy documents six months after their processing ends",
        description="DPA 2018 s.42(3): a controller keeps its appropriate policy document while it carries out the "
        "processing and for six months after; then its texts are erased and the record that it existed stays.",
        due=_policies_due,
        erase=_policy_erase,
        describe=str,
        order=("kept_until", "pk"),
        visible=_policies_visible,
    )
)
