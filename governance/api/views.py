"""The police-facing REST API (v1). Views stay thin: selector → serializer."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import generics

from governance.access import agreement_for
from governance.agreements.models import AgreementStatus
from governance.agreements.selectors import agreement_list
from governance.api import examples
from governance.api.filters import query_choice, query_text
from governance.api.serializers import AgreementSerializer


@extend_schema(tags=["agreements"])
class AgreementListApi(generics.ListAPIView):
    """Agreements your organisation is party to (regulators: all)."""

    serializer_class = AgreementSerializer

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "status",
                OpenApiTypes.STR,
                enum=AgreementStatus.values,
                examples=[OpenApiExample("Active only", value="active")],
            ),
            OpenApiParameter(
                "search", OpenApiTypes.STR, description="Reference, title or purpose (up to 100 characters)"
            ),
        ],
        examples=examples.agreement_list,
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        params = self.request.query_params
        return agreement_list(
            user=self.request.user,
            status=query_choice(params, "status", AgreementStatus.values),
            search=query_text(params, "search"),
        )


@extend_schema(tags=["agreements"])
class AgreementDetailApi(generics.RetrieveAPIView):
    serializer_class = AgreementSerializer

    @extend_schema(examples=examples.agreement_detail)
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_object(self):
        return agreement_for(self.request.user, self.kwargs["pk"])
