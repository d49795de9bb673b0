"""Refusals specific to deployments and live matching (all ``ApplicationError``s: one JSON shape)."""

from __future__ import annotations

from dataclasses import dataclass

from governance.errors import ApplicationError, StateConflict, ValidationFailed


@dataclass(frozen=True)
class FieldProblem:
    """A rule's answer about one field of a deployment's form (planning's times, the public notice's date): the page
    shows ``message`` beside ``field``, and the service refuses with ``code`` (``ValidationFailed`` details)."""

    field: str
    code: str
    message: str


class DeploymentNotLive(StateConflict):
    """Frames for a camera whose deployment is not live (or outside its window) are refused."""

    default_code = "deployment_not_live"


class FrameRefused(ValidationFailed):
    default_code = "frame_refused"


class FrameTooLarge(FrameRefused):
    status_code = 413
    default_code = "frame_too_large"


class FrameUnsupported(FrameRefused):
    status_code = 415
    default_code = "unsupported_frame_type"


class FramesShed(ApplicationError):
    """Load shedding: the camera already has as many frames in flight as allowed. The gateway should
    drop this frame (live video has a newer one coming) rather than queue it; ``Retry-After`` says when."""

    status_code = 429
    default_code = "frames_shed"
    retry_after_seconds = 1


class MatchingUnavailable(ApplicationError):
    """The broker could not take the frame (it was discarded, and counted as shed)."""

    status_code = 503
    default_code = "matching_unavailable"
    retry_after_seconds = 5
