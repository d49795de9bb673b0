"""Which error codes each API operation can return, read from the code itself (so the list cannot drift).

Every refusal the API sends is ``{"error": {"code", "message", "details"}}``. The codes come from
three places, and this module reads each of them rather than keeping a hand-written list:

* ``ApplicationError`` subclasses raised (or built and returned) by the view and everything it
  calls in this project. Starting from the view's own methods, its authenticators and its
  parsers, the source of each function is parsed and every call is resolved through the
  function's globals (``services.disclosure_record_outcome`` → that function), so the walk follows
  the same calls the request does. Each ``SomeError("message", code="…")`` found on the way is a
  code the operation can return, with its status (the class's ``status_code``) and its meaning (the
  message, with interpolated values shown as ``…``); without ``code=`` it is the class's
  ``default_code``.
* DRF's own exceptions met on the walk (``exceptions.AuthenticationFailed(...)``), and the ones DRF
  raises for a view's configuration: authentication required (401 ``not_authenticated``), the CSRF
  check of a signed-in session (403 ``permission_denied``), the throttle (429 ``throttled``),
  unparseable or unsupported bodies (400 ``parse_error``, 415 ``unsupported_media_type``), serializer
  validation (400 ``validation_failed``, as ``governance.api.errors`` renames it), and the bodies
  Django refuses to parse (``governance.api.errors.REFUSED_BODIES``).
* The API edge (``governance.api.middleware``): the codes its ``api_error(...)`` calls name, which
  any ``/api/`` request can meet before a view runs.

The walk is static, so it over-approximates a little (a branch the request cannot take still
counts) and cannot see a code held in a variable; the whole-API fuzz test checks every code it
observes against the operation's documented list, so a miss fails CI instead of going unseen.
"""

from __future__ import annotations

import ast
import builtins
import inspect
import textwrap
from dataclasses import dataclass
from functools import cache

from rest_framework import exceptions as drf_exceptions
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import AllowAny

from governance.errors import ApplicationError

# The project's own packages, by name: the walk follows a view's calls into any of them (the calls
# are resolved at run time from objects the view already holds, so nothing here imports an app).
PROJECT_PACKAGES = ("governance", "recognition", "config")
HANDLERS = ("get", "post", "put", "patch", "delete")
CONSTRUCTION_HOOKS = ("__init__", "validate", "to_internal_value", "run_validation")


@dataclass(frozen=True, order=True)
class ErrorCode:
    status: int
    code: str
    meaning: str


def _drf_code(exc_class: type[drf_exceptions.APIException]) -> ErrorCode:
    if issubclass(exc_class, drf_exceptions.ValidationError):  # renamed by the exception handler
        return ErrorCode(400, "validation_failed", "A field of the request is missing or not valid (see details).")
    detail = str(exc_class.default_detail)
    return ErrorCode(exc_class.status_code, str(exc_class.default_code), detail)


def _edge_codes() -> set[ErrorCode]:
    """Codes the API edge answers before (or instead of) a view: read from its ``api_error`` calls."""
    from governance.api import middleware

    found = set()
    for cls in (middleware.ApiEdgeMiddleware, middleware.ContentLengthMiddleware):
        for member in vars(cls).values():
            if inspect.isfunction(member):
                found |= _codes_in(member, owner=cls)
    return {code for code in found if code.status < 500 or code.code == "unavailable"}


def _is_project(obj) -> bool:
    module = getattr(obj, "__module__", "") or ""
    return module.split(".")[0] in PROJECT_PACKAGES


def _text(node: ast.AST | None, assigned: dict | None = None, instance=None) -> str:
    """A message argument as readers see it: interpolations become ``…``; a local name set once to a
    literal reads as that literal; ``self.x`` of a walked instance reads as its value."""
    if isinstance(node, ast.Name) and assigned and node.id in assigned:
        return _text(assigned[node.id])
    if _is_self_attribute(node) and instance is not None:
        value = getattr(instance, node.attr, None)
        return value if isinstance(value, str) else ""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(
            part.value if isinstance(part, ast.Constant) else "…" for part in node.values if part is not None
        )
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _text(node.left) + _text(node.right)
    return ""


def _is_self_attribute(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self"


def _resolve(node: ast.AST, namespace: dict, owner: type | None, instance=None):
    if isinstance(node, ast.Name):
        if node.id == "self" and instance is not None:
            return instance
        if node.id in ("self", "cls"):
            return owner
        if node.id in namespace:
            return namespace[node.id]
        return getattr(builtins, node.id, None)
    if isinstance(node, ast.Attribute):
        base = _resolve(node.value, namespace, owner, instance)
        if base is None:
            return None
        try:
            return inspect.getattr_static(base, node.attr)
        except AttributeError:
            return None
    return None


def _keyword(call: ast.Call, name: str) -> ast.AST | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _owner_of(function) -> type | None:
    parts = function.__qualname__.split(".")
    if len(parts) < 2 or "<locals>" in parts:
        return None
    obj = inspect.getmodule(function)
    for part in parts[:-1]:
        obj = getattr(obj, part, None)
    return obj if isinstance(obj, type) else None


def _callees_and_codes(function, owner: type | None, instance=None) -> tuple[list, set[ErrorCode]]:
    """The codes ``function`` raises itself, and the project functions it calls: ``(function, instance)`` pairs,
    the instance given where the call goes through one (a bound method such as ``agreement_for =
    _AGREEMENTS.by_id``, or ``self.x`` inside one), so ``code=self.missing_code`` reads as that instance's code."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    except (OSError, TypeError, SyntaxError):
        return [], set()
    namespace = function.__globals__
    assigned = {
        node.targets[0].id: node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
    }
    callees, codes = [], set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        target = _resolve(node.func, namespace, owner, instance)
        if isinstance(target, (staticmethod, classmethod)):
            target = target.__func__
        if inspect.ismethod(target) and _is_project(type(target.__self__)):
            callees.append((target.__func__, target.__self__))
            continue
        if isinstance(target, type):
            if issubclass(target, ApplicationError):
                code_node = _keyword(node, "code")
                if code_node is None:
                    code = target.default_code
                elif isinstance(code_node, ast.Constant) and isinstance(code_node.value, str):
                    code = code_node.value
                elif _is_self_attribute(code_node) and isinstance(getattr(instance, code_node.attr, None), str):
                    code = getattr(instance, code_node.attr)
                else:
                    continue  # a code held in a variable: the fuzz test's observed codes cover it
                message = _text(node.args[0] if node.args else _keyword(node, "message"), assigned, instance)
                codes.add(ErrorCode(target.status_code, code, message or (target.__doc__ or "").strip()))
            elif issubclass(target, drf_exceptions.APIException):
                codes.add(_drf_code(target))
            elif _is_project(target):
                # Building a project object runs its constructor and (serializers, fields) its validation hooks.
                callees.extend(
                    (member, None)
                    for name, member in vars(target).items()
                    if inspect.isfunction(member) and (name in CONSTRUCTION_HOOKS or name.startswith("validate_"))
                )
            continue
        if getattr(target, "__name__", "") == "api_error" and _is_project(target) and node.args:
            from governance.api.middleware import _MESSAGES

            status = node.args[0].value if isinstance(node.args[0], ast.Constant) else None
            if isinstance(status, int):
                code = node.args[1].value if len(node.args) > 1 and isinstance(node.args[1], ast.Constant) else None
                default_code, default_message = _MESSAGES.get(status, ("error", "The request failed."))
                message = _text(node.args[2], assigned) if len(node.args) > 2 else ""
                codes.add(ErrorCode(status, code or default_code, message or default_message))
            continue
        if inspect.isfunction(target) and _is_project(target):
            callees.append((target, instance if _is_self_attribute(node.func) else None))
    return callees, codes


def _codes_in(*roots, owner: type | None = None) -> set[ErrorCode]:
    seen, found = set(), set()
    stack = [(root, owner, None) for root in roots]
    while stack:
        function, function_owner, instance = stack.pop()
        function = inspect.unwrap(function)
        key = (function, id(instance))
        if key in seen or not inspect.isfunction(function) or not _is_project(function):
            continue
        seen.add(key)
        callees, codes = _callees_and_codes(function, function_owner or _owner_of(function), instance)
        found |= codes
        stack.extend((callee, None, callee_instance) for callee, callee_instance in callees)
    return found


def _project_methods(cls: type, method: str) -> list:
    """The view's own methods for this HTTP method: the handler plus its hooks (get_object...),
    not the handlers of its other methods."""
    chosen = []
    for klass in cls.__mro__:
        if not _is_project(klass):
            continue
        for name, member in vars(klass).items():
            if not inspect.isfunction(member):
                continue
            if name in HANDLERS and name != method:
                continue
            chosen.append(member)
    return chosen


@cache
def operation_error_codes(view_class: type, method: str) -> frozenset[ErrorCode]:
    """Every error an operation (a view class and an HTTP method) can answer with."""
    method = method.lower()
    view = view_class()
    view.request = None
    view.args, view.kwargs, view.format_kwarg = (), {}, None
    methods = _project_methods(view_class, method)
    codes = set(_codes_in(*methods, owner=view_class))
    # Refusals a decorator makes before the handler runs (``governance.audit.consultation.personal_data``).
    codes |= {ErrorCode(*refusal) for member in methods for refusal in getattr(member, "refusals", ())}

    authenticators = view.get_authenticators()
    for authenticator in authenticators:
        codes |= _codes_in(
            *(m for m in vars(type(authenticator)).values() if inspect.isfunction(m)), owner=type(authenticator)
        )
    open_to_all = any(isinstance(p, AllowAny) for p in view.get_permissions())
    if not open_to_all:
        codes.add(_drf_code(drf_exceptions.NotAuthenticated))
        if authenticators:
            codes.add(_drf_code(drf_exceptions.AuthenticationFailed))
    if method not in ("get", "head", "options") and any(isinstance(a, SessionAuthentication) for a in authenticators):
        codes.add(ErrorCode(403, "permission_denied", "CSRF check failed (a signed-in session posting without it)."))
    if view.get_throttles():
        codes.add(_drf_code(drf_exceptions.Throttled))
    paginator = getattr(view_class, "pagination_class", None)
    if method == "get" and paginator is not None and _is_project(paginator):
        # limit/offset are read by the paginator (governance.api.pagination), not by the view's own code.
        for cls in (c for c in paginator.__mro__ if _is_project(c)):
            codes |= _codes_in(*(m for m in vars(cls).values() if inspect.isfunction(m)), owner=cls)
    if method in ("post", "put", "patch", "delete"):
        from governance.api.errors import REFUSED_BODIES

        codes |= {ErrorCode(status, code, message) for _kind, status, code, message in REFUSED_BODIES}
        codes.add(_drf_code(drf_exceptions.ParseError))
        codes.add(_drf_code(drf_exceptions.UnsupportedMediaType))
        for parser in view.get_parsers():
            if _is_project(type(parser)):
                codes |= _codes_in(*(m for m in vars(type(parser)).values() if inspect.isfunction(m)))
    codes |= _edge_codes()
    return frozenset(_merge(codes))


def _merge(codes: set[ErrorCode]) -> set[ErrorCode]:
    """One entry per (status, code), its meanings joined (a code raised in two places keeps both)."""
    meanings: dict[tuple[int, str], list[str]] = {}
    for item in sorted(codes):
        bucket = meanings.setdefault((item.status, item.code), [])
        if item.meaning and item.meaning not in bucket:
            bucket.append(item.meaning)
    return {ErrorCode(status, code, " / ".join(text[:3])) for (status, code), text in meanings.items()}


def api_operations():
    """(path, method, view class) of every API operation the URL resolver routes."""
    from django.urls import URLPattern, URLResolver, get_resolver
    from rest_framework.views import APIView

    found = []

    def walk(patterns, prefix=""):
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern) and route.startswith("api/"):
                cls = getattr(pattern.callback, "cls", None)
                if cls is None or not issubclass(cls, APIView):
                    continue
                for method in HANDLERS:
                    if hasattr(cls, method) and _is_project(cls):
                        found.append((route, method, cls))

    walk(get_resolver().url_patterns)
    return found


def catalogue() -> list[ErrorCode]:
    """Every code any API operation can return, once per (status, code)."""
    codes: set[ErrorCode] = set()
    for _route, method, cls in api_operations():
        codes |= operation_error_codes(cls, method)
    codes.add(_drf_code(drf_exceptions.MethodNotAllowed))
    codes.add(ErrorCode(404, "not_found", "No such resource (an unknown URL, or an object that is not yours)."))
    codes.add(ErrorCode(500, "server_error", "A defect on our side (logged); never the answer to bad input."))
    return sorted(_merge(codes))


def catalogue_markdown() -> str:
    rows = ["| HTTP | Code | Meaning |", "| --- | --- | --- |"]
    for item in catalogue():
        meaning = item.meaning.replace("|", "\\|").replace("\n", " ")
        rows.append(f"| {item.status} | `{item.code}` | {meaning} |")
    return "\n".join(rows)
