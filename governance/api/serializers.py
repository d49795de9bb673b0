from rest_framework import serializers

from governance.agreements.models import Agreement
from governance.agreements.rules import agreement_rule_breaches


class RuleBreachSerializer(serializers.Serializer):
    code = serializers.CharField()
    title = serializers.CharField()
    explanation = serializers.CharField()
    severity = serializers.CharField()


class AgreementSerializer(serializers.ModelSerializer):
    supplying_organisation = serializers.SlugRelatedField(slug_field="short_name", read_only=True)
    receiving_organisation = serializers.SlugRelatedField(slug_field="short_name", read_only=True)
    approving_organisation = serializers.SlugRelatedField(slug_field="short_name", read_only=True)
    regulator = serializers.SlugRelatedField(slug_field="short_name", read_only=True)
    rule_breaches = serializers.SerializerMethodField()

    class Meta:
        model = Agreement
        fields = [
            "id",
            "reference",
            "version",
            "title",
            "status",
            "supplying_organisation",
            "receiving_organisation",
            "purpose",
            "data_items",
            "lawful_basis",
            "schedule8_condition",
            "special_category_data",
            "permitted_custody_categories",
            "max_images",
            "starts_on",
            "ends_on",
            "review_on",
            "match_retention_days",
            "watchlist_erasure_hours",
            "retention_extension_match_days",
            "retention_extension_watchlist_hours",
            "retention_extension_reason",
            "retention_extension_approved_by_name",
            "retention_extension_approved_at",
            "operator_article6_basis",
            "operator_article9_condition",
            "operator_schedule1_condition",
            "police_reviewer_required",
            "operator_reviewers_see_image",
            "regulator_notified_on",
            "regulator_notification_reference",
            "regulator",
            "approved_at",
            "approving_organisation",
            "countersigned_at",
            "recorded_retrospectively",
            "rule_breaches",
        ]
        read_only_fields = fields

    def get_rule_breaches(self, agreement: Agreement) -> list[dict]:
        return RuleBreachSerializer(agreement_rule_breaches(agreement), many=True).data
