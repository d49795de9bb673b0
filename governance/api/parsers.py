"""JSON bodies read with limits: a size checked while the body streams in (never buffered past it)
and a nesting depth no real request reaches.

DRF's ``JSONParser`` reads the whole stream (Django's ``DATA_UPLOAD_MAX_MEMORY_SIZE`` guards only
``request.body``, which DRF bypasses) and lets ``json``'s ``RecursionError`` escape as a 500.
"""

from __future__ import annotations

import codecs

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser
from rest_framework.utils import json

from governance.errors import ApplicationError, ValidationFailed
from governance.inputs import refuse_control_characters

CHUNK_BYTES = 64 * 1024


class RequestBodyTooLarge(ApplicationError):
    status_code = 413
    default_code = "body_too_large"


class RequestBodyTooDeep(ValidationFailed):
    default_code = "json_too_deep"


def _depth_exceeds(value, limit: int) -> bool:
    """Whether ``value`` nests lists/objects deeper than ``limit`` (iterative: no recursion to exhaust)."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def _refuse_control_characters(value) -> None:
    """The web's rule (``governance.inputs``) for JSON bodies: no key or string holds a NUL or
    another control character (iterative; the depth is already bounded)."""
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key, child in node.items():
                refuse_control_characters(key, "A key")
                stack.append(child)
        elif isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, str):
            refuse_control_characters(node, "A value")


class BoundedJSONParser(JSONParser):
    """``limit_setting`` names the setting with the largest body accepted, in bytes; ``max_depth`` the
    deepest nesting of arrays and objects."""

    limit_setting = "DATA_UPLOAD_MAX_MEMORY_SIZE"
    max_depth = 32

    def _refuse_size(self, limit: int) -> RequestBodyTooLarge:
        return RequestBodyTooLarge(
            f"The request body may be at most {limit:,} bytes; send fewer items per request.",
            details={"limit_bytes": limit},
        )

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        limit = getattr(settings, self.limit_setting)
        request = parser_context.get("request")
        declared = str(request.META.get("CONTENT_LENGTH") or "") if request is not None else ""
        if declared.isascii() and declared.isdigit() and int(declared) > limit:
            raise self._refuse_size(limit)  # before reading a byte
        chunks, received = [], 0
        while chunk := stream.read(CHUNK_BYTES):
            received += len(chunk)
            if received > limit:
                raise self._refuse_size(limit)
            chunks.append(chunk)
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = codecs.decode(b"".join(chunks), encoding)
            data = json.loads(text, parse_constant=json.strict_constant if self.strict else None)
        except RecursionError:
            raise self._refuse_depth() from None
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        if _depth_exceeds(data, self.max_depth):
            raise self._refuse_depth()
        try:
            _refuse_control_characters(data)
        except ValidationFailed as refused:  # the API's code for a body it cannot read: parse_error
            raise ParseError(refused.message) from None
        return data

    def _refuse_depth(self) -> RequestBodyTooDeep:
        return RequestBodyTooDeep(
            f"The JSON body nests deeper than {self.max_depth} levels.", details={"max_depth": self.max_depth}
        )


class BulkJSONParser(BoundedJSONParser):
    limit_setting = "OVERSIGHT_WATCHLIST_BULK_MAX_BYTES"
