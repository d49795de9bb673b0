"""No input is a 500 (issue 26): a fuzz test generated from the URL resolver.

Every route of ``tests/test_route_matrix.py`` (whose ``test_every_route_has_an_expectation`` ties
``ROUTES`` to the resolver) is requested in the matrix's world, by one actor of every role, with a
fixed, deterministic set of hostile values in every query parameter and form field the route reads:

* the fields a route reads are *found*, not listed: a recording middleware (test-only) notes every
  key the view reads from ``request.GET`` / ``request.POST`` while it answers the matrix's own
  request and an empty POST (a bound form reads all its fields), and the view's source names the
  values its ``action`` field dispatches on (each branch is fuzzed);
* the acting actor (the first whose matrix expectation is "ok") gets every hostile value in all
  fields at once, per action, and "²" in each field alone (so one field's refusal cannot hide
  another field's crash); one actor of every other role gets one request, "²" in every field;
* API routes also get hostile ``Authorization``, ``X-Justification``, ``X-Reason`` and
  ``Idempotency-Key`` headers, and their JSON bodies hostile values per key;
* the admin site: its index and every model's change list with hostile list parameters.

A 500 (or an exception) anywhere fails the route's test with every case that produced one. About
2,300 requests (fixed values, one actor per role, the acting one in depth): a few minutes on
PostgreSQL on an idle machine.
"""

from __future__ import annotations

import inspect
import logging
import re

import pytest
from django.conf import settings as django_settings
from django.contrib import admin
from django.db import transaction
from django.http import QueryDict
from django.test import Client, override_settings
from django.urls import resolve, reverse

from tests.test_route_matrix import ANON, CAMERAS, ROUTES, TOKENS, Route, world  # noqa: F401 (the fixture)

# A fixed set: NUL alone and inside text, another control character, digits that are not ASCII
# ("²".isdigit() is true; int() refuses it), an id no database holds, a sign, an impossible date,
# markup, and a long value.
HOSTILE = ["alert:\x00", "\x1b[2J\x07", "²", "1" * 30, "-1", "2026-02-31", "<script>{{7*7}}</script>" + "x" * 2000]
HEADER_VALUES = ["Token \xff\xfeabc", "Token abc\x00def", "Camera \xff\xfe", "Token " + "a" * 3000, "Bearer x y z"]
TEXT_HEADERS = ["HTTP_X_JUSTIFICATION", "HTTP_X_REASON", "HTTP_IDEMPOTENCY_KEY"]
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")

# --- reading what a view reads --------------------------------------------------------------------

SEEN: set[tuple[str, str]] = set()


class _Recording(QueryDict):
    """A QueryDict that notes every key read from it (copies record too)."""

    where = "GET"

    def __getitem__(self, key):
        SEEN.add((self.where, key))
        return super().__getitem__(key)

    def get(self, key, default=None):
        SEEN.add((self.where, key))
        return super().get(key, default)

    def getlist(self, key, default=None):
        SEEN.add((self.where, key))
        return super().getlist(key, default)

    def __contains__(self, key):
        SEEN.add((self.where, key))
        return super().__contains__(key)


class _RecordingPost(_Recording):
    where = "POST"


def _recording(source, cls):
    copy = cls(mutable=True)
    for key, values in source.lists():
        copy.setlist(key, values)
    copy._mutable = False
    return copy


class RecordingMiddleware:
    """Test-only, last in the chain: swaps the request's GET (and a web form's POST) for recording ones."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.GET = _recording(request.GET, _Recording)
        content_type = request.META.get("CONTENT_TYPE", "")
        if (
            request.method == "POST"
            and not request.path_info.startswith("/api/")
            and content_type.startswith(FORM_TYPES)
        ):
            request.POST = _recording(request.POST, _RecordingPost)
        return self.get_response(request)


ACTION_LITERAL = re.compile(r"""action\s*(?:==|!=)\s*["'](\w+)["']""")
ACTION_TUPLE = re.compile(r"""action\s+(?:not\s+)?in\s*[(\[{]([^)\]}]*)[)\]}]""")


def _actions(view) -> list[str]:
    """The values the view's source compares its ``action`` field with."""
    try:
        source = inspect.getsource(inspect.unwrap(view))
    except (OSError, TypeError):
        return []
    found = set(ACTION_LITERAL.findall(source))
    for group in ACTION_TUPLE.findall(source):
        found.update(re.findall(r"""["'](\w+)["']""", group))
    return sorted(found)


# --- actors by role -------------------------------------------------------------------------------


def _role(actor: str) -> str:
    if actor in (ANON, "regulator") or actor in TOKENS or actor in CAMERAS:
        return {ANON: "anonymous", "regulator": "regulator"}.get(actor, "token" if actor in TOKENS else "camera")
    org, kind = actor.split(".")
    if kind == "reviewer" and org in ("camden", "btp"):
        return "police reviewer"
    return kind


def _actors_by_role(route: Route) -> list[tuple[str, bool]]:
    """One actor per role (preferring one the route lets act); whether that actor acts."""
    chosen: dict[str, tuple[str, bool]] = {}
    for actor in sorted(route.actors):
        acts = route.expected(actor) == "ok"
        role = _role(actor)
        if role not in chosen or (acts and not chosen[role][1]):
            chosen[role] = (actor, acts)
    return sorted(chosen.values())


# --- requests -------------------------------------------------------------------------------------


class Fuzzer:
    def __init__(self, world, route: Route):
        self.world, self.route = world, route
        self.url = reverse(route.name, kwargs=world.kwargs(route))
        self.failures: list[str] = []
        self.requests = 0

    def request(self, actor: str, method: str, data=None, *, json=None, headers=None, what=""):
        client: Client = self.world.fuzz_client
        client.cookies.clear()
        extra = dict(headers or {})
        if actor in self.world.users:
            client.cookies[django_settings.SESSION_COOKIE_NAME] = self.world.sessions[actor]
        elif actor in TOKENS and "HTTP_AUTHORIZATION" not in extra:
            extra["HTTP_AUTHORIZATION"] = f"Token {self.world.tokens[actor]}"
        elif actor in CAMERAS and "HTTP_AUTHORIZATION" not in extra:
            extra["HTTP_AUTHORIZATION"] = f"Camera {self.world.camera_keys[actor]}"
        url = self.url
        self.requests += 1
        with transaction.atomic():
            if method == "post" and json is not None:
                response = client.post(url, json, content_type="application/json", **extra)
            elif method == "post":
                response = client.post(url, data or {}, **extra)
            else:
                response = client.get(url, data or {}, **extra)
            transaction.set_rollback(True)
        if response.status_code >= 500:
            error = response.exc_info[1] if getattr(response, "exc_info", None) else None
            self.failures.append(
                f"{method.upper()} {url[:120]} as {actor} ({what}): {response.status_code} {error.__class__.__name__ if error else ''} {str(error)[:160] if error else ''}"
            )
        return response

    def discover(self, actor: str, actions: list[str]) -> tuple[set[str], dict, bool]:
        """The GET keys the route reads; the POST keys it reads for each action (``None``: the
        matrix's own body and an empty form); whether it takes a web form POST."""
        route, world = self.route, self.world
        SEEN.clear()
        if route.method == "post" and not route.api:
            body, _ = world.body(route)
            self.request(actor, "post", world.query(route) if route.query else body, what="discovery")
        elif route.api and route.method == "post":
            body, content_type = world.body(route)
            if content_type:
                self.request(actor, "post", json=body, what="discovery")
            else:
                self.request(actor, "post", body, what="discovery")
        else:
            self.request(actor, "get", world.query(route), what="discovery")
        takes_form = False
        posts: dict[str | None, set[str]] = {}
        if not route.api:
            response = self.request(actor, "post", {}, what="discovery, empty form")
            takes_form = response.status_code != 405
            posts[None] = {key for where, key in SEEN if where == "POST"}
            for action in actions if takes_form else ():
                SEEN.difference_update({k for k in SEEN if k[0] == "POST"})
                self.request(actor, "post", {"action": action}, what=f"discovery, action={action}")
                posts[action] = {key for where, key in SEEN if where == "POST"} | posts[None]
        gets = {key for where, key in SEEN if where == "GET"}
        return gets, posts, takes_form


def _fuzz_route(world, route: Route) -> Fuzzer:
    """The acting actor: every hostile value in all the fields at once, per action, then "²" in each
    field alone; every other role: one request, "²" in every field the matrix sends."""
    fuzz = Fuzzer(world, route)
    actions = _actions(resolve(fuzz.url).func)
    base_body, content_type = world.body(route)
    json_body = content_type == "application/json"
    form_body = {} if json_body else dict(base_body)
    first = True
    for actor, acts in _actors_by_role(route):
        full = acts and first
        first = first and not full
        if full:
            gets, posts, takes_form = fuzz.discover(actor, actions)
            gets |= set(world.query(route))
        else:  # refused before any field is read, or a second actor in the same part: the matrix's fields
            gets = set(world.query(route)) | {"q"}
            posts = {form_body.get("action"): set(form_body)}
            takes_form = not route.api and route.method == "post"
        posts = {action: fields - {"csrfmiddlewaretoken"} for action, fields in posts.items()}
        posts.setdefault(form_body.get("action"), set()).update(form_body)
        for value in HOSTILE if full else ["²"]:
            if route.method == "get":
                fuzz.request(actor, "get", dict.fromkeys(gets or {"q"}, value), what=f"query={value[:12]!r}")
            if json_body:
                fuzz.request(actor, "post", json=_hostile_json(base_body, value), what=f"json={value[:12]!r}")
            elif takes_form or (route.method == "post" and not route.api):
                for action, fields in posts.items():
                    form = {**form_body, **dict.fromkeys(fields - {"action"}, value)}
                    if action:
                        form["action"] = action
                    fuzz.request(actor, "post", form, what=f"form action={action} all={value[:12]!r}")
        if full and not json_body and (takes_form or route.method == "post"):
            for action, fields in posts.items():
                for field in sorted(fields - {"action"}):
                    form = {**form_body, field: "²"}
                    if action:
                        form["action"] = action
                    fuzz.request(actor, "post", form, what=f"form action={action} {field}='²'")
        if full and route.method == "get":
            for field in sorted(gets):
                fuzz.request(actor, "get", {field: "²"}, what=f"query {field}='²'")
        if route.api and actor == ANON:
            for header in HEADER_VALUES:
                fuzz.request(
                    actor, route.method, {}, headers={"HTTP_AUTHORIZATION": header}, what=f"auth {header[:16]!r}"
                )
        if route.api and full:
            for value in ["\x00", "\x1b"]:
                headers = dict.fromkeys(TEXT_HEADERS, value)
                if json_body:
                    fuzz.request(actor, "post", json=base_body, headers=headers, what=f"headers {value!r}")
                else:
                    fuzz.request(actor, route.method, {}, headers=headers, what=f"headers {value!r}")
    return fuzz


def _hostile_json(body, value):
    if isinstance(body, dict):
        return {
            key: _hostile_json(item, value) if isinstance(item, (dict, list)) else value for key, item in body.items()
        }
    if isinstance(body, list):
        return [_hostile_json(item, value) for item in body]
    return value


@pytest.fixture(scope="module")
def fuzz_world(world):
    middleware = [*django_settings.MIDDLEWARE, "tests.hostile.test_route_fuzz.RecordingMiddleware"]
    request_log = logging.getLogger("django.request")
    level = request_log.level
    request_log.setLevel(logging.CRITICAL)  # thousands of refusals (and any 500's traceback: in the failure)
    try:
        with override_settings(MIDDLEWARE=middleware):
            world.fuzz_client = Client(raise_request_exception=False)
            yield world
    finally:
        request_log.setLevel(level)


def _route_cases():
    seen = set()
    for route in ROUTES:
        if route.name == "admin" or (route.name, route.obj) in seen:
            continue
        seen.add((route.name, route.obj))
        yield pytest.param(route, id=f"{route.name}[{route.obj or route.query or '-'}]")


@pytest.mark.parametrize("route", list(_route_cases()))
def test_no_input_is_a_server_error(route, fuzz_world, db, settings):
    settings.MEDIA_ROOT = fuzz_world.media
    fuzz = _fuzz_route(fuzz_world, route)
    assert fuzz.requests > 0
    print(f"{route.name}: {fuzz.requests} requests")
    assert fuzz.failures == [], f"{len(fuzz.failures)} of {fuzz.requests} requests were 500s:\n" + "\n".join(
        fuzz.failures
    )


def _staff(world) -> None:
    """The estate's administrator made staff, as an installation with OVERSIGHT_ADMINISTRATORS_ARE_STAFF
    would (inside the test's transaction)."""
    from governance.organisations.models import User

    User.objects.filter(pk=world.users["estate.admin"].pk).update(is_staff=True)


ADMIN_LIST_PARAMETERS = ["q", "o", "p", "e", "all", "_changelist_filters"]


def test_the_admin_site_answers_hostile_list_parameters_without_a_500(fuzz_world, db, settings):
    settings.MEDIA_ROOT = fuzz_world.media
    _staff(fuzz_world)
    route = next(r for r in ROUTES if r.name == "admin")
    fuzz = Fuzzer.__new__(Fuzzer)
    fuzz.world, fuzz.route, fuzz.failures, fuzz.requests = fuzz_world, route, [], 0
    urls = [reverse("admin:index")] + [
        reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist") for model in admin.site._registry
    ]
    fuzz.url = reverse("admin:index")
    assert fuzz.request("estate.admin", "get", {}, what="index").status_code == 200  # staff: the site answers
    for url in urls:
        fuzz.url = url
        for value in HOSTILE:
            fuzz.request(
                "estate.admin", "get", dict.fromkeys(ADMIN_LIST_PARAMETERS, value), what=f"list {value[:12]!r}"
            )
        fuzz.url = url + "1" * 30 + "/change/" if url != reverse("admin:index") else url
        fuzz.request("estate.admin", "get", {}, what="30-digit id")
    assert fuzz.failures == [], "\n".join(fuzz.failures)


def test_the_second_factor_device_admin_pages_are_gone(fuzz_world, db):
    """The TOTP device admin's ``config`` page was 403 for an existing id and 500 for a missing one."""
    from django.urls import NoReverseMatch

    _staff(fuzz_world)
    with pytest.raises(NoReverseMatch):
        reverse("admin:otp_totp_totpdevice_config", args=[1])
    client = fuzz_world.fuzz_client
    client.cookies.clear()
    client.cookies[django_settings.SESSION_COOKIE_NAME] = fuzz_world.sessions["estate.admin"]
    for pk in (1, 999, 10**30):
        assert client.get(f"/admin/otp_totp/totpdevice/{pk}/config/").status_code == 404
