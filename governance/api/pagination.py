"""The API's page: ``?limit=`` and ``?offset=`` read by the shared input rules (``governance.inputs``).

DRF's LimitOffsetPagination passes any integer on to the database: a 30-digit offset overflows
SQLite's 64-bit integers (a 500). Here both are ASCII digits within bounds, or a coded 400."""

from __future__ import annotations

from rest_framework.pagination import LimitOffsetPagination

from governance.inputs import parse_int

MAX_OFFSET = 2**31 - 1


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    max_limit = 500

    def get_limit(self, request):
        raw = request.query_params.get(self.limit_query_param, "")
        if raw == "":
            return self.default_limit
        return parse_int(raw, self.limit_query_param, minimum=1, maximum=self.max_limit)

    def get_offset(self, request):
        raw = request.query_params.get(self.offset_query_param, "")
        if raw == "":
            return 0
        return parse_int(raw, self.offset_query_param, minimum=0, maximum=MAX_OFFSET)
