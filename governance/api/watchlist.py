"""The police watchlist API (v1): upload with provenance, list, read, read bytes, withdraw, bulk.

Uploads are answered at once (issue 26): ``202 Accepted`` with the image (``stage`` ``checking``) and its URL in
``Location``; the worker decodes and cleans it, then enrols it (``received`` → ``enrolled`` | ``rejected``, a refused
decode with its code). A bulk upload is answered ``202`` with its results URL, each file's result listed there.

Views stay thin: parse → selector → one service → serialize. Authentication: knox tokens (one per
force or unit, see ``governance.api.tokens``) or a signed-in session; per-token rate limits; an
``Idempotency-Key`` makes retried uploads safe.
"""

from __future__ import annotations

import mimetypes

from django.conf import settings
from django.http import HttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.api import examples
from governance.api.filters import PURPOSE_PARAMETER, query_choice, query_id, query_text
from governance.api.idempotency import idempotent
from governance.api.pagination import BoundedLimitOffsetPagination
from governance.api.parsers import BoundedJSONParser, BulkJSONParser
from governance.api.tokens import RegisteredTokenAuthentication, TokenRateThrottle, request_token_key
from governance.api.watchlist_serializers import (
    AcceptedImageSerializer,
    BulkItemSerializer,
    BulkStatusSerializer,
    BulkUploadSerializer,
    PaginatedWatchlistImageSerializer,
    WatchlistImageDetailSerializer,
    WatchlistImageSerializer,
    WatchlistImageUploadSerializer,
    WithdrawalSerializer,
)
from governance.audit.consultation import personal_data, records_its_own_consultation
from governance.errors import ApplicationError, ValidationFailed
from governance.watchlist import consultation
from governance.watchlist.errors import ImageTooLarge, ProvenanceInvalid
from governance.watchlist.models import ImageStatus
from governance.watchlist.selectors import bulk_upload_get, bulk_upload_items, image_get, image_list
from governance.watchlist.services import (
    BulkFile,
    watchlist_bulk_upload,
    watchlist_image_read_bytes,
    watchlist_image_upload,
    watchlist_image_withdraw,
)
from governance.watchlist.validation import max_bytes

IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="Makes a retried upload safe: the same key with the same request replays the first response.",
    examples=[OpenApiExample("A key per upload", value="upload-2026-12-01-0042")],
)


def _provenance_refusal(errors: dict) -> ProvenanceInvalid:
    codes = {
        getattr(e, "code", "")
        for field_errors in errors.values()
        for e in (field_errors if isinstance(field_errors, list) else [field_errors])
    }
    if "image" in errors and errors.keys() == {"image"}:
        return ProvenanceInvalid("Attach the image file as 'image'.", code="missing_image", details=errors)
    if codes & {"required", "blank", "null"}:
        missing = sorted(
            field
            for field, field_errors in errors.items()
            if {getattr(e, "code", "") for e in (field_errors if isinstance(field_errors, list) else [field_errors])}
            & {"required", "blank", "null"}
        )
        return ProvenanceInvalid(
            f"Provenance is incomplete: {', '.join(missing)}.", code="missing_provenance", details=errors
        )
    return ProvenanceInvalid("Provenance is not valid.", code="invalid_provenance", details=errors)


class WatchlistApi(APIView):
    authentication_classes = [RegisteredTokenAuthentication, SessionAuthentication]
    throttle_classes = [TokenRateThrottle]


class WatchlistImagePagination(BoundedLimitOffsetPagination):
    default_limit = 50
    max_limit = 500


def _upload_one(request, serializer) -> Response:
    upload = serializer.validated_data["image"]
    if upload.size > max_bytes():
        raise ImageTooLarge(
            f"The image is {upload.size:,} bytes; the limit is {max_bytes():,} bytes.",
            code="file_too_large",
        )
    image = watchlist_image_upload(
        actor=request.user,
        agreement_id=serializer.validated_data["agreement"],
        image_bytes=upload.read(),
        provenance=serializer.provenance(),
        token_key=request_token_key(request),
    )
    url = reverse("api-watchlist-image-detail", args=[image.pk])
    return Response(
        {**WatchlistImageSerializer(image).data, "url": url}, status=status.HTTP_202_ACCEPTED, headers={"Location": url}
    )


class WatchlistImageListApi(WatchlistApi):
    parser_classes = [MultiPartParser, FormParser]
    pagination_class = WatchlistImagePagination

    @extend_schema(
        tags=["watchlist"],
        operation_id="watchlist_images_list",
        summary="Your organisation's watchlist images, with status and rejection reasons",
        parameters=[
            OpenApiParameter(
                "agreement",
                OpenApiTypes.INT,
                description="Only images under this agreement",
                examples=[OpenApiExample("An agreement", value=7)],
            ),
            OpenApiParameter(
                "status",
                OpenApiTypes.STR,
                enum=ImageStatus.values,
                examples=[OpenApiExample("Rejected only", value="rejected")],
            ),
            OpenApiParameter("search", OpenApiTypes.STR, description="Subject or custody reference, or SHA-256"),
            OpenApiParameter("limit", OpenApiTypes.INT, description="Images per page (at most 500)"),
            OpenApiParameter("offset", OpenApiTypes.INT, description="Where the page starts"),
            PURPOSE_PARAMETER,
        ],
        responses={200: PaginatedWatchlistImageSerializer},
        examples=examples.watchlist_list,
    )
    @personal_data(consultation.ledger_purpose_kind)
    def get(self, request):
        params = request.query_params
        images = image_list(
            user=request.user,
            agreement_id=query_id(params, "agreement"),
            status=query_choice(params, "status", ImageStatus.values),
            search=query_text(params, "search"),
        )
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(images, request, view=self)
        consultation.images_listed(request, page, event="watchlist_images.listed")
        return paginator.get_paginated_response(WatchlistImageSerializer(page, many=True).data)

    @extend_schema(
        tags=["watchlist"],
        operation_id="watchlist_images_upload",
        summary="Upload one watchlist image with its provenance",
        description="Checked at once against the agreement (active, party, category, cap, duplicate bytes) and the "
        "bytes' cheap checks (size, type, header: pixels and the format's decode budget, JPEG scans). Answered "
        "202 Accepted with the image (stage 'checking') and its URL (also in Location). The worker then decodes "
        "it and re-encodes it without metadata (EXIF, GPS are erased), and enrols it: poll the image's status "
        "(received → enrolled | rejected). A file whose full decode fails (truncated or corrupt data: "
        "corrupt_image; or the same pixels as an image already held: duplicate_image) ends 'rejected' with "
        "that code in rejection_reason.",
        parameters=[IDEMPOTENCY_HEADER],
        request={"multipart/form-data": WatchlistImageUploadSerializer},
        responses={202: AcceptedImageSerializer},
        examples=examples.watchlist_upload,
    )
    def post(self, request):
        serializer = WatchlistImageUploadSerializer(data=request.data)
        if not serializer.is_valid():
            raise _provenance_refusal(serializer.errors)
        return idempotent(request, lambda: _upload_one(request, serializer))


class WatchlistImageDetailApi(WatchlistApi):
    parser_classes = [BoundedJSONParser, FormParser, MultiPartParser]

    @extend_schema(
        tags=["watchlist"],
        operation_id="watchlist_images_retrieve",
        parameters=[PURPOSE_PARAMETER],
        responses={200: WatchlistImageDetailSerializer},
        examples=examples.watchlist_detail,
    )
    @personal_data(consultation.image_purpose_kind)
    def get(self, request, pk: int):
        image = image_get(user=request.user, pk=pk)
        consultation.image_consulted(request, image)
        return Response(WatchlistImageDetailSerializer(image).data)

    @extend_schema(
        tags=["watchlist"],
        operation_id="watchlist_images_withdraw",
        summary="Withdraw an image: it stops matching at once; bytes and template are erased",
        parameters=[
            OpenApiParameter(
                "X-Reason",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                description="Why (kept on the deletion certificate); or 'reason' in the body. "
                "Never in the query string (refused: URLs land in access logs)",
                examples=[OpenApiExample("A reason", value="Warrant executed; no longer wanted.")],
            )
        ],
        request=WithdrawalSerializer,
        responses={200: WatchlistImageDetailSerializer},
        examples=examples.watchlist_withdraw,
    )
    def delete(self, request, pk: int):
        image = image_get(user=request.user, pk=pk)
        reason = request.headers.get("X-Reason") or (request.data.get("reason") if hasattr(request.data, "get") else "")
        image = watchlist_image_withdraw(
            actor=request.user, image=image, reason=str(reason or ""), token_key=request_token_key(request)
        )
        return Response(WatchlistImageDetailSerializer(image).data)


class WatchlistImageBytesApi(WatchlistApi):
    @extend_schema(
        tags=["watchlist"],
        operation_id="watchlist_images_image",
        summary="The image bytes (supplying force or unit only); every read is logged with its justification",
        parameters=[
            OpenApiParameter(
                "X-Justification",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                required=True,
                description="Why you need the image (recorded). Never in the query string (refused)",
                examples=[
                    OpenApiExample("A justification", value="Checking the image before the Granary Square briefing.")
                ],
            ),
        ],
        responses={
            (200, "image/*"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The stored, metadata-free image bytes (JPEG, PNG or WebP)."
            )
        },
    )
    @records_its_own_consultation
    def get(self, request, pk: int):
        image = image_get(user=request.user, pk=pk)
        justification = request.headers.get("X-Justification", "")
        data, content_type = watchlist_image_read_bytes(
            actor=request.user, image=image, justification=justification, token_key=request_token_key(request)
        )
        response = HttpResponse(data, content_type=content_type)
        response["Cache-Control"] = "no-store"
        # The name's extension matches the type sent (a .jpg is image/jpeg, a .png image/png).
        kind = content_type.split(";")[0].strip()
        extension = _EXTENSIONS.get(kind) or mimetypes.guess_extension(kind) or ".bin"
        response["Content-Disposition"] = f'inline; filename="watchlist-image-{image.pk}{extension}"'
        return response


# The formats uploads are kept in (governance.watchlist.validation), named without the host's mime table.
_EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp"}


def _refusal_of(item: BulkItemSerializer) -> ApplicationError | None:
    return None if item.is_valid() else _provenance_refusal(item.errors)


def _bulk(request, items: list) -> Response:
    files = []
    for index, raw in enumerate(items):
        item = BulkItemSerializer(data=raw)
        refusal = _refusal_of(item)
        files.append(
            BulkFile(name=f"item {index}", refusal=refusal)
            if refusal
            else BulkFile(
                name=f"item {index}",
                agreement_id=item.validated_data["agreement"],
                image_bytes=item.validated_data["image_base64"],
                provenance=item.provenance(),
            )
        )
    bulk = watchlist_bulk_upload(actor=request.user, files=files, token_key=request_token_key(request))
    url = reverse("api-watchlist-bulk-upload-detail", args=[bulk.pk])
    return Response(
        _bulk_body(bulk, bulk_upload_items(user=request.user, bulk=bulk), url), status=202, headers={"Location": url}
    )


def _bulk_body(bulk, items: list, url: str) -> dict:
    """A bulk's results: per file the accepted image (its stage read live) or the refusal with its code."""
    results = []
    for item in items:
        image = item.visible_image
        if item.image_id and image is not None:
            results.append(
                {"index": item.index, "ok": True, "image": WatchlistImageSerializer(image).data, "error": None}
            )
        elif item.image_id:  # accepted, since erased beyond the reader's sight: the id only
            results.append({"index": item.index, "ok": True, "image": None, "error": None})
        else:
            error = {"code": item.code, "message": item.message, "details": item.details, "status": item.status_code}
            results.append({"index": item.index, "ok": False, "image": None, "error": error})
    accepted = sum(1 for r in results if r["ok"])
    stages = [r["image"]["stage"] for r in results if r["image"]]
    return {
        "id": bulk.pk,
        "url": url,
        "created_at": serializers.DateTimeField().to_representation(bulk.created_at),
        "accepted": accepted,
        "refused": len(results) - accepted,
        "checking": stages.count("checking"),
        "complete": "checking" not in stages,
        "results": results,
    }


class WatchlistImageBulkApi(WatchlistApi):
    parser_classes = [BulkJSONParser]

    @extend_schema(
        tags=["watchlist"],
        operation_id="watchlist_images_bulk",
        summary="Upload several images; each succeeds or fails on its own",
        description='Body: {"items": [{...upload fields..., "image_base64": "..."}]}. Each item gets only the '
        "cheap checks of a single upload in the request; answered 202 Accepted with the bulk's results and its "
        "URL (also in Location): per item the accepted image (stage 'checking' until the worker has decoded it) "
        "or the refusal with its code. Poll the URL: 'complete' is true once no accepted image is still "
        "checking; a file whose decode fails ends with its image 'rejected' and the code in rejection_reason. "
        "At most OVERSIGHT_WATCHLIST_BULK_MAX_ITEMS items and OVERSIGHT_WATCHLIST_BULK_MAX_BYTES bytes of body "
        "(a larger body is refused with 413 before it is parsed).",
        parameters=[IDEMPOTENCY_HEADER],
        request=BulkUploadSerializer,
        responses={202: BulkStatusSerializer},
        examples=examples.watchlist_bulk,
    )
    def post(self, request):
        serializer = BulkUploadSerializer(data=request.data)
        if not serializer.is_valid():
            raise ValidationFailed(
                'Send {"items": [...]} with at least one item.', code="invalid_bulk", details=serializer.errors
            )
        items = serializer.validated_data["items"]
        limit = settings.OVERSIGHT_WATCHLIST_BULK_MAX_ITEMS
        if len(items) > limit:
            raise ValidationFailed(f"At most {limit} items per bulk request.", code="too_many_items")
        from governance.access import can_upload_watchlist_image
        from governance.errors import PermissionRefused

        if not can_upload_watchlist_image(request.user):
            raise PermissionRefused("Your role cannot upload watchlist images.", code="role_cannot_upload")
        return idempotent(request, lambda: _bulk(request, items))


class WatchlistBulkUploadDetailApi(WatchlistApi):
    @extend_schema(
        tags=["watchlist"],
        operation_id="watchlist_bulk_uploads_retrieve",
        summary="A bulk upload's results, each file's read live (your organisation's bulk uploads only)",
        parameters=[PURPOSE_PARAMETER],
        responses={200: BulkStatusSerializer},
        examples=examples.watchlist_bulk_status,
    )
    @personal_data(consultation.bulk_purpose_kind)
    def get(self, request, pk: int):
        bulk = bulk_upload_get(user=request.user, pk=pk)
        items = bulk_upload_items(user=request.user, bulk=bulk)
        consultation.images_listed(
            request, [i.visible_image for i in items if i.visible_image], event="watchlist_bulk_upload.viewed"
        )
        url = reverse("api-watchlist-bulk-upload-detail", args=[bulk.pk])
        return Response(_bulk_body(bulk, items, url))
