"""REST API: camera gateways post frames; police forces read disclosures and report outcomes; a deployment's
parties read it and its review service level, which the operator's DPO sets (as on the web).

Views stay thin: authenticate → selector → one service → serialize. Errors come out in the one
shape of ``governance.api.errors`` (``ApplicationError`` subclasses carry their status).
"""

from __future__ import annotations

from django.conf import settings
from django.core.files.uploadhandler import MemoryFileUploadHandler, StopUpload
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, inline_serializer
from rest_framework import authentication, exceptions, serializers, status
from rest_framework.generics import ListAPIView, RetrieveAPIView
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.api.filters import PURPOSE_PARAMETER, query_choice, query_id
from governance.audit.consultation import personal_data
from governance.errors import NotFound, PermissionRefused
from recognition.deployments import access, api_examples, consultation
from recognition.deployments.errors import FrameRefused, FramesShed, FrameTooLarge, MatchingUnavailable
from recognition.deployments.ingest import frame_submit
from recognition.deployments.models import Deployment, Disclosure, EthnicGroup, Outcome
from recognition.deployments.review_desk import (
    SERVICE_LEVEL_MAX,
    SERVICE_LEVEL_MIN,
    deployment_review_service_level_set,
)
from recognition.deployments.services.cameras import camera_for_ingest_key
from recognition.deployments.services.outcomes import disclosure_record_outcome

# --- camera gateways -----------------------------------------------------------------------------


class CameraPrincipal:
    """The authenticated party of a frame upload: a camera gateway holding that camera's key."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    pk = None

    def __init__(self, camera) -> None:
        self.camera = camera

    def __str__(self) -> str:
        return f"camera gateway {self.camera.ingest_key_prefix}"


class CameraKeyAuthentication(authentication.BaseAuthentication):
    """``Authorization: Camera <key>``: the per-camera key (only its SHA-256 is stored)."""

    keyword = "Camera"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].decode(errors="replace") != self.keyword:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Invalid camera key header.")
        camera = camera_for_ingest_key(header[1].decode(errors="replace"))
        if camera is None:
            raise exceptions.AuthenticationFailed("Invalid camera key.")
        return CameraPrincipal(camera), camera

    def authenticate_header(self, request) -> str:
        return self.keyword


class CameraKeyScheme(OpenApiAuthenticationExtension):
    """The OpenAPI security scheme of camera keys, so the docs' "Authorize" sends them."""

    target_class = CameraKeyAuthentication
    name = "cameraKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": 'A camera gateway\'s key: "Authorization: Camera cam_<43 URL-safe characters>", shown '
            "once when the deployment's operator issues or rotates it (only its SHA-256 is stored). "
            'In "Authorize", enter the whole value, "Camera cam_…".',
        }


class _BoundedMemoryUploadHandler(MemoryFileUploadHandler):
    """Frames stay in memory, always (Django would spool a large upload to a temporary file), and an
    upload over the limit is cut off while it streams in."""

    exceeded = False

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        self.activated = True
        self._received = 0

    def receive_data_chunk(self, raw_data, start):
        self._received += len(raw_data)
        if self._received > settings.OVERSIGHT_FRAME_MAX_BYTES:
            self.exceeded = True
            raise StopUpload(connection_reset=False)
        return super().receive_data_chunk(raw_data, start)


def _declared_length(request) -> int:
    """The request's Content-Length as a byte count; anything else (a word, a sign, a fraction) is a
    malformed request the gateway must fix, refused before the body is read."""
    raw = str(request.META.get("CONTENT_LENGTH") or "0").strip()
    if not (raw.isascii() and raw.isdigit()):
        raise FrameRefused(
            "The Content-Length header must be a whole number of bytes.",
            code="invalid_content_length",
            details={"content_length": raw[:40]},
        )
    return int(raw)


class FrameUploadApi(APIView):
    authentication_classes = [CameraKeyAuthentication]
    permission_classes = [IsAuthenticated]
    parser_classes = [MultiPartParser]
    throttle_classes: list = []  # overload is handled by load shedding, per camera

    def initialize_request(self, request, *args, **kwargs):
        self._upload_handler = _BoundedMemoryUploadHandler(request)
        request.upload_handlers = [self._upload_handler]
        return super().initialize_request(request, *args, **kwargs)

    @extend_schema(
        operation_id="camera_frame_upload",
        summary="A camera gateway posts one frame (JPEG or PNG) for live matching",
        description="Only the header is read here; the frame is matched by a worker and never stored. "
        "429 frames_shed means the camera already has as many frames waiting as allowed: drop this one "
        "(a newer frame is coming) and retry after Retry-After.",
        tags=["cameras"],
        examples=api_examples.frame_upload,
        request={"multipart/form-data": inline_serializer("FrameUpload", {"frame": serializers.FileField()})},
        responses={
            202: inline_serializer(
                "FrameAccepted",
                {
                    "camera": serializers.IntegerField(),
                    "received_at": serializers.DateTimeField(),
                    "in_flight": serializers.IntegerField(),
                },
            ),
        },
    )
    def post(self, request, pk: int):
        camera = request.auth
        if camera is None or camera.pk != pk:
            raise NotFound("No such camera.")
        length = _declared_length(request)
        if length > settings.OVERSIGHT_FRAME_MAX_BYTES + 64 * 1024:
            raise FrameTooLarge(f"A frame may be at most {settings.OVERSIGHT_FRAME_MAX_BYTES // 1024} KiB.")
        upload = request.FILES.get("frame")
        if self._upload_handler.exceeded:
            raise FrameTooLarge(f"A frame may be at most {settings.OVERSIGHT_FRAME_MAX_BYTES // 1024} KiB.")
        if upload is None:
            raise FrameRefused("Send the frame as the multipart field 'frame'.", code="frame_missing")
        if upload.size > settings.OVERSIGHT_FRAME_MAX_BYTES:
            raise FrameTooLarge(f"A frame may be at most {settings.OVERSIGHT_FRAME_MAX_BYTES // 1024} KiB.")
        data = upload.read()
        upload.close()
        try:
            receipt = frame_submit(camera=camera, data=data)
        except (FramesShed, MatchingUnavailable) as refusal:
            from governance.api.errors import application_exception_handler

            response = application_exception_handler(refusal, {})
            response["Retry-After"] = str(refusal.retry_after_seconds)
            return response
        finally:
            del data
        return Response(
            {"camera": camera.pk, "received_at": receipt.received_at, "in_flight": receipt.in_flight},
            status=status.HTTP_202_ACCEPTED,
        )


# --- disclosures for police forces ------------------------------------------------------------------


class DisclosureSerializer(serializers.ModelSerializer):
    alert = serializers.IntegerField(source="alert_id")
    deployment = serializers.CharField(source="alert.deployment.reference")
    site = serializers.CharField(source="alert.deployment.site")
    camera = serializers.CharField(source="alert.camera.name")
    camera_location = serializers.CharField(source="alert.camera.location")
    subject_reference = serializers.CharField(source="alert.subject_reference")
    watchlist_image = serializers.IntegerField(source="alert.watchlist_image_id", allow_null=True)
    score = serializers.FloatField(source="alert.score")
    first_seen_at = serializers.DateTimeField(source="alert.first_seen_at")
    last_seen_at = serializers.DateTimeField(source="alert.last_seen_at")
    sightings = serializers.IntegerField(source="alert.sightings")
    recipient_organisation = serializers.CharField(source="recipient_organisation.short_name")
    # Blank until the force reports it (a read-only model field would be documented without "").
    outcome = serializers.ChoiceField(choices=Outcome.choices, allow_blank=True, read_only=True)
    outcome_ethnic_group = serializers.ChoiceField(choices=EthnicGroup.choices, allow_blank=True, read_only=True)

    class Meta:
        model = Disclosure
        fields = [
            "id",
            "alert",
            "deployment",
            "site",
            "camera",
            "camera_location",
            "subject_reference",
            "watchlist_image",
            "score",
            "first_seen_at",
            "last_seen_at",
            "sightings",
            "recipient_organisation",
            "recipient",
            "channel",
            "justification",
            "disclosed_at",
            "disclosed_by_name",
            "outcome",
            "outcome_notes",
            "outcome_reported_at",
            "outcome_reported_by_name",
            "outcome_ethnic_group",
        ]
        read_only_fields = fields


class OutcomeSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=Outcome.choices)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=4000, default="")
    # Optional: the person's ethnic group as the officer recorded it, in the ONS high-level groups only
    # (counted in the reports' false alerts by group; "" = not recorded).
    ethnic_group = serializers.ChoiceField(choices=EthnicGroup.choices, required=False, allow_blank=True, default="")


def _require_view_disclosures(user) -> None:
    if not access.can_read_disclosures(user):
        raise PermissionRefused("Your role cannot read disclosures.")


def _disclosure_received(user, pk):
    """A disclosure of an alert on an image the caller's supply chain supplied; otherwise not found."""
    _require_view_disclosures(user)
    try:
        return access.disclosures_received_by(user).get(pk=pk)
    except (Disclosure.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound("No such disclosure.") from None


@extend_schema(tags=["disclosures"])
class DisclosureListApi(ListAPIView):
    """Disclosures of alerts on images the caller's unit or force supplied (addressed to the unit or
    its force: both see them; a force also sees its units')."""

    serializer_class = DisclosureSerializer

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "outcome",
                OpenApiTypes.STR,
                enum=["missing"],
                description="'missing': only disclosures still awaiting your outcome",
                examples=[OpenApiExample("Awaiting an outcome", value="missing")],
            ),
            OpenApiParameter(
                "deployment",
                OpenApiTypes.INT,
                description="Only disclosures of alerts on this deployment (its id)",
                examples=[OpenApiExample("A deployment", value=3)],
            ),
            PURPOSE_PARAMETER,
        ],
        examples=api_examples.disclosure_list,
    )
    @personal_data(consultation.ACTING_ON_DISCLOSURES)
    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        consultation.disclosures_listed(request, self._shown, event="disclosures.listed")
        return response

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        self._shown = list(page if page is not None else queryset)
        return page

    def get_queryset(self):
        _require_view_disclosures(self.request.user)
        params = self.request.query_params
        # A filter value that is not one of its choices is refused, never ignored (issue 25).
        outcome = query_choice(params, "outcome", ["missing"])
        deployment = query_id(params, "deployment")
        queryset = access.disclosures_received_by(self.request.user).select_related("alert")
        if outcome == "missing":
            queryset = queryset.filter(outcome="")
        if deployment is not None:
            queryset = queryset.filter(alert__deployment_id=deployment)
        return queryset


@extend_schema(tags=["disclosures"])
class DisclosureDetailApi(RetrieveAPIView):
    serializer_class = DisclosureSerializer

    @extend_schema(examples=api_examples.disclosure_detail, parameters=[PURPOSE_PARAMETER])
    @personal_data(consultation.ACTING_ON_DISCLOSURES)
    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        consultation.disclosure_consulted(request, self._shown)
        return response

    def get_object(self):
        self._shown = _disclosure_received(self.request.user, self.kwargs["pk"])
        return self._shown


class DisclosureOutcomeApi(APIView):
    @extend_schema(
        tags=["disclosures"],
        operation_id="disclosures_outcome",
        summary="Report what happened after a disclosure (once; notes required for 'other')",
        request=OutcomeSerializer,
        responses={200: DisclosureSerializer},
        examples=api_examples.disclosure_outcome,
    )
    def post(self, request, pk: int):
        disclosure = _disclosure_received(request.user, pk)
        serializer = OutcomeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        disclosure = disclosure_record_outcome(
            actor=request.user,
            disclosure=disclosure,
            outcome=serializer.validated_data["outcome"],
            notes=serializer.validated_data.get("notes", ""),
            ethnic_group=serializer.validated_data.get("ethnic_group", ""),
        )
        return Response(DisclosureSerializer(disclosure).data)


# --- deployments: the review service level ------------------------------------------------------------


class DeploymentSerializer(serializers.ModelSerializer):
    """What a deployment's parties read of it through the API: no personal data."""

    operator = serializers.CharField(source="operator.name", read_only=True)

    class Meta:
        model = Deployment
        fields = ["id", "reference", "name", "operator", "site", "status", "review_service_level_minutes"]
        read_only_fields = fields


class ServiceLevelSerializer(serializers.Serializer):
    # The range is the service's (``review_desk``), which checks it again.
    review_service_level_minutes = serializers.IntegerField(
        min_value=SERVICE_LEVEL_MIN,
        max_value=SERVICE_LEVEL_MAX,
        help_text=f"Whole minutes an alert may wait for review ({SERVICE_LEVEL_MIN}-{SERVICE_LEVEL_MAX}).",
    )


@extend_schema(tags=["deployments"])
class DeploymentDetailApi(RetrieveAPIView):
    """A deployment the caller's organisation is party to (its operator or a supplier of its agreements), with
    how long an alert may wait for review there; any other id is not found."""

    serializer_class = DeploymentSerializer

    @extend_schema(examples=api_examples.deployment_detail)
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_object(self):
        return access.deployment_for(self.request.user, self.kwargs["pk"])


class DeploymentServiceLevelApi(APIView):
    @extend_schema(
        tags=["deployments"],
        operation_id="deployments_review_service_level",
        summary="Set how long an alert may wait for review at this deployment (the operator's DPO only)",
        request=ServiceLevelSerializer,
        responses={200: DeploymentSerializer},
        examples=api_examples.deployment_service_level,
    )
    def post(self, request, pk: int):
        deployment = access.deployment_for(request.user, pk)
        serializer = ServiceLevelSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        deployment = deployment_review_service_level_set(
            actor=request.user,
            deployment=deployment,
            minutes=serializer.validated_data["review_service_level_minutes"],
        )
        return Response(DeploymentSerializer(deployment).data)
