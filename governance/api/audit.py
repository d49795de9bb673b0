"""The audit log on the API: an event's inclusion proof (RFC 6962) for a party that may read it."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.access import audit_event_for
from governance.audit.sequencer import audit_event_inclusion_proof
from governance.inputs import parse_int

PROOF_EXAMPLE = {
    "type": "inclusion",
    "leaf_index": 5,
    "leaf_hash": "3f" * 32,
    "path": ["a1" * 32, "b2" * 32, "c3" * 32],
    "head": {
        "format": "oversight-audit-tree-head/1",
        "tree_size": 8,
        "root_hash": "9e" * 32,
        "issued_at": "2026-12-07T16:00:02.123456+00:00",
        "key_id": "4c1d0e5a9b7f3e21",
        "legacy_chain_size": 0,
        "legacy_chain_hash": "",
        "signature": "base64 of the Ed25519 signature",
    },
    "entry": {
        "sequence": 1207,
        "content_digest": "5d" * 32,
        "field_digests": {"event": "e4" * 32},
        "legacy_chain_hash": "",
    },
}


@extend_schema(tags=["audit"])
class AuditEventProofApi(APIView):
    """The inclusion proof of audit event #{id} (its number) in a signed tree head (the latest by default).

    Check it offline with ``governance/audit/tlog.py --proof``. Another organisation's event is
    "not found"; an event that still waits for the sequencer (a few seconds) is a 409
    ``audit_event_not_sequenced``."""

    @extend_schema(
        parameters=[OpenApiParameter("tree_size", OpenApiTypes.INT, description="A signed head's size")],
        responses={200: OpenApiTypes.OBJECT},
        examples=[OpenApiExample("An inclusion proof", value=PROOF_EXAMPLE, response_only=True, status_codes=["200"])],
    )
    def get(self, request, pk: int):
        event = audit_event_for(request.user, pk)  # pk: the event's number (its #sequence)
        raw = request.query_params.get("tree_size", "")
        tree_size = parse_int(raw, "tree_size", minimum=0) if raw else None
        return Response(audit_event_inclusion_proof(event, tree_size=tree_size))
