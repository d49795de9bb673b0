"""The police-facing REST API (v1). Views stay thin: selector → serializer."""

from drf_spectacular.utils import extend_schema
from rest_framework import generics

from governance.access import agreement_for
from governance.agreements.selectors import agreement_list
from governance.api.serializers import AgreementSerializer


@extend_schema(tags=["agreements"])
class AgreementListApi(generics.ListAPIView):
    """Agreements your organisation is party to (regulators: all)."""

    serializer_class = AgreementSerializer

    def get_queryset(self):
        params = self.request.query_params
        return agreement_list(user=self.request.user, status=params.get("status", ""), search=params.get("search", ""))


@extend_schema(tags=["agreements"])
class AgreementDetailApi(generics.RetrieveAPIView):
    serializer_class = AgreementSerializer

    def get_object(self):
        return agreement_for(self.request.user, self.kwargs["pk"])
