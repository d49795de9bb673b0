"""The API document is complete: every operation says how to authenticate (with schemes that exist,
so the docs' "Authorize" works), has request and response examples that match its schema, and lists
the error codes it can return — the codes read from the code, so the list cannot drift."""

from __future__ import annotations

import copy
import json
import re

import jsonschema
import pytest
from django.test import Client
from schemathesis.specs.openapi.converter import to_json_schema_recursive

from governance.api.error_catalogue import api_operations, catalogue, operation_error_codes

pytestmark = pytest.mark.django_db
REASON_LIKE = re.compile(r"justification|reason|notes", re.IGNORECASE)


@pytest.fixture(scope="module")
def document(django_db_blocker):
    with django_db_blocker.unblock():
        response = Client().get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return json.loads(response.content)


def operations(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def resolved(document, node):
    """The schema with every local $ref replaced by its target (the API's schemas are not recursive)."""
    if isinstance(node, dict):
        if "$ref" in node:
            target = document
            for part in node["$ref"].lstrip("#/").split("/"):
                target = target[part]
            return resolved(document, target)
        return {key: resolved(document, value) for key, value in node.items()}
    if isinstance(node, list):
        return [resolved(document, value) for value in node]
    return node


def check_example(document, schema, value, *, response: bool, where: str) -> None:
    json_schema = to_json_schema_recursive(
        copy.deepcopy(resolved(document, schema)), nullable_name="nullable", is_response_schema=response
    )
    errors = sorted(jsonschema.Draft4Validator(json_schema).iter_errors(value), key=str)
    assert not errors, f"{where}: {errors[0].message} at {list(errors[0].absolute_path)}"


def test_every_operation_under_the_resolver_is_in_the_document(document):
    documented = {(path, method) for path, method, _ in operations(document)}
    for route, method, _cls in api_operations():
        path = "/" + re.sub(r"<int:pk>", "{id}", route)
        assert (path, method) in documented, (route, method)
    assert len(documented) >= 12


def test_every_operation_has_a_security_requirement_of_a_defined_scheme(document):
    schemes = document["components"]["securitySchemes"]
    for path, method, operation in operations(document):
        requirements = operation.get("security")
        assert requirements, f"{method} {path} has no security requirement"
        assert {} not in requirements, f"{method} {path} is open to anonymous callers"
        for requirement in requirements:
            for name in requirement:
                assert name in schemes, f"{method} {path} names undefined scheme {name} ('Authorize' cannot fill it)"
    frames = document["paths"]["/api/v1/cameras/{id}/frames/"]["post"]
    assert frames["security"] == [{"cameraKey": []}]
    assert schemes["cameraKey"] == {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": schemes["cameraKey"]["description"],
    }
    assert "Camera cam_" in schemes["cameraKey"]["description"]
    assert schemes["apiToken"]["in"] == "header" and schemes["apiToken"]["name"] == "Authorization"
    assert "Token <secret>" in schemes["apiToken"]["description"] and "64" in schemes["apiToken"]["description"]
    others = [op for path, _m, op in operations(document) if "/cameras/" not in path]
    assert all({"apiToken": []} in op["security"] for op in others)


def test_every_operation_has_request_and_response_examples_matching_its_schema(document):
    for path, method, operation in operations(document):
        where = f"{method.upper()} {path}"
        samples = operation.get("x-codeSamples") or []
        assert samples and samples[0]["source"].startswith(f"curl -X {method.upper()} "), where
        assert "Authorization: " in samples[0]["source"], where
        body = operation.get("requestBody")
        if body:
            # One serializer behind every media type a body may use: an example in one of them shows it.
            assert any(content.get("examples") for content in body["content"].values()), f"{where}: no request example"
            for media_type, content in body["content"].items():
                if media_type == "application/json":
                    for example in content.get("examples", {}).values():
                        check_example(document, content["schema"], example["value"], response=False, where=where)
        for status, response in operation["responses"].items():
            for media_type, content in response.get("content", {}).items():
                if not media_type.endswith("json"):
                    assert response.get("description"), f"{where} {status}: binary response undescribed"
                    continue
                examples = content.get("examples")
                assert examples, f"{where} {status}: no example"
                for name, example in examples.items():
                    check_example(
                        document, content["schema"], example["value"], response=True, where=f"{where} {status} {name}"
                    )
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "header" or parameter.get("required"):
                assert parameter.get("examples") or parameter["in"] == "path", f"{where}: {parameter['name']}"


def test_every_operation_documents_its_error_responses_with_each_code(document):
    for path, method, operation in operations(document):
        where = f"{method.upper()} {path}"
        errors = {int(s): r for s, r in operation["responses"].items() if int(s) >= 400}
        assert 401 in errors and 503 in errors, where
        if "{id}" in path:
            assert 404 in errors, where
        if "/cameras/" not in path:
            assert 429 in errors, where
        for status, response in errors.items():
            content = response["content"]["application/json"]
            codes = content["schema"]["properties"]["error"]["properties"]["code"]["enum"]
            assert codes and set(content["examples"]) == set(codes), f"{where} {status}"
            for code in codes:
                assert f"`{code}`" in response["description"], f"{where} {status} {code}"


def test_the_error_codes_come_from_the_raising_code(document):
    """Spot checks that the walk reaches the services a view calls (not only the view's own body)."""
    from governance.api.watchlist import WatchlistImageBytesApi, WatchlistImageListApi
    from recognition.deployments.api import DisclosureOutcomeApi, FrameUploadApi

    def codes(cls, method):
        return {(c.status, c.code) for c in operation_error_codes(cls, method)}

    upload = codes(WatchlistImageListApi, "post")
    assert {
        (422, "too_many_pixels"),
        (409, "duplicate_image"),
        (403, "not_a_party"),
        (409, "image_cap_reached"),
    } <= upload
    assert (400, "invalid_filter") in codes(WatchlistImageListApi, "get")
    assert (400, "invalid_filter") not in upload  # the list's filters are not the upload's
    assert {(400, "justification_required"), (410, "image_erased")} <= codes(WatchlistImageBytesApi, "get")
    assert {(409, "outcome_already_reported"), (400, "json_too_deep")} <= codes(DisclosureOutcomeApi, "post")
    frames = codes(FrameUploadApi, "post")
    assert {(429, "frames_shed"), (409, "deployment_not_live"), (401, "authentication_failed")} <= frames
    assert (429, "throttled") not in frames  # the frame endpoint sheds per camera instead

    description = document["info"]["description"]
    assert "Authorization: Token <secret>" in description and "Authorization: Camera cam_" in description
    for item in catalogue():
        assert f"| {item.status} | `{item.code}` |" in description, item
    documented = {
        (int(s), code)
        for _p, _m, op in operations(document)
        for s, r in op["responses"].items()
        if int(s) >= 400
        for code in r["content"]["application/json"]["schema"]["properties"]["error"]["properties"]["code"]["enum"]
    }
    assert documented <= {(c.status, c.code) for c in catalogue()}


def test_no_justification_reason_or_notes_travels_in_a_query_string(document):
    """They land in access logs; the edge refuses them (test_api_edge) and no operation asks for one."""
    for path, method, operation in operations(document):
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "query":
                assert not REASON_LIKE.search(parameter["name"]), f"{method.upper()} {path}: {parameter['name']}"
    withdraw = document["paths"]["/api/v1/watchlist-images/{id}/"]["delete"]
    assert any(p["name"] == "X-Reason" and p["in"] == "header" for p in withdraw["parameters"])
    read = document["paths"]["/api/v1/watchlist-images/{id}/image/"]["get"]
    assert any(p["name"] == "X-Justification" and p["in"] == "header" for p in read["parameters"])


def test_the_schema_generates_and_validates_without_warnings(tmp_path):
    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))
    assert (tmp_path / "schema.yaml").stat().st_size > 10_000
