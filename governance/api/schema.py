"""The OpenAPI document: every operation's error responses, read from the code, and a request example.

``OversightAutoSchema`` (``REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"]``) is drf-spectacular's AutoSchema
plus, for each operation under ``/api/``:

* one response per HTTP status the operation can refuse with, each listing every code of that
  status (``governance.api.error_catalogue`` finds them by walking the view's calls) with an example
  body per code; the response schema's ``code`` is an enum of exactly those codes, so a response
  carrying an undocumented code fails schema conformance (the whole-API fuzz test checks every
  response against the document);
* ``x-codeSamples``: a ``curl`` request with the operation's credentials in their real format, its
  headers and its body example (Redoc shows them; Swagger UI's "Try it out" builds its own).

``describe_api`` (a ``POSTPROCESSING_HOOKS`` entry) writes the document's description: the two
credential formats and the catalogue of every error code with its meaning.
"""

from __future__ import annotations

import json
import shlex

from drf_spectacular.openapi import AutoSchema

from governance.api.error_catalogue import ErrorCode, catalogue_markdown, operation_error_codes

STATUS_TITLES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Forbidden for your role or organisation",
    404: "Not found (or not yours: the two look the same)",
    409: "Conflicts with the object's state",
    410: "Gone (erased)",
    413: "Too large",
    415: "Unsupported media type",
    422: "Understood but not acceptable",
    429: "Too many requests (see Retry-After)",
    503: "A dependency is unavailable (see Retry-After)",
}
URL_NOT_FOUND = ErrorCode(404, "not_found", "No such resource (the id does not match this route).")
# How each security scheme's credential is sent, for the request examples.
CREDENTIAL_EXAMPLES = {
    "apiToken": "Authorization: Token 9f3c1e7a…(64 hex characters)",
    "cameraKey": "Authorization: Camera cam_…(the key shown once when it was issued)",
    "cookieAuth": "Cookie: sessionid=…",
}


def _error_example(code: ErrorCode) -> dict:
    return {
        "summary": f"{code.code}: {code.meaning}"[:200],
        "value": {"error": {"code": code.code, "message": code.meaning.split(" / ")[0], "details": None}},
    }


def error_response(status: int, codes: list[ErrorCode]) -> dict:
    listed = "\n".join(f"- `{c.code}`: {c.meaning}" for c in codes)
    return {
        "description": f"{STATUS_TITLES.get(status, 'Refused')}. Codes:\n\n{listed}",
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {
                            "type": "object",
                            "required": ["code", "message", "details"],
                            "properties": {
                                "code": {"type": "string", "enum": [c.code for c in codes]},
                                "message": {"type": "string", "description": "A sentence a person can act on."},
                                "details": {"description": "Structured facts about the refusal, or null."},
                            },
                        }
                    },
                },
                "examples": {c.code: _error_example(c) for c in codes},
            }
        },
    }


class OversightAutoSchema(AutoSchema):
    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None or not path.startswith("/api/"):
            return operation
        codes = set(operation_error_codes(type(self.view), method))
        if "{" in path:
            codes.add(URL_NOT_FOUND)
        by_status: dict[int, dict[str, ErrorCode]] = {}
        for code in sorted(codes):
            bucket = by_status.setdefault(code.status, {})
            if code.code in bucket:  # a code at one status once, its meanings joined
                code = ErrorCode(code.status, code.code, f"{bucket[code.code].meaning} / {code.meaning}")
            bucket[code.code] = code
        responses = {k: v for k, v in operation["responses"].items() if not 400 <= int(k) < 600}
        for status in sorted(by_status):
            responses[str(status)] = error_response(status, sorted(by_status[status].values()))
        operation["responses"] = responses
        operation["x-codeSamples"] = [{"lang": "Shell", "label": "curl", "source": self._curl(path, operation)}]
        return operation

    def _curl(self, path: str, operation: dict) -> str:
        url = "https://oversight.example" + path.replace("{id}", "1")
        schemes = [name for requirement in operation.get("security", []) for name in requirement]
        headers = [CREDENTIAL_EXAMPLES[schemes[0]]] if schemes and schemes[0] in CREDENTIAL_EXAMPLES else []
        query = []
        for parameter in operation.get("parameters", []):
            example = parameter.get("example")
            if example is None and parameter.get("examples"):
                example = next(iter(parameter["examples"].values())).get("value")
            if example is None:
                continue
            if parameter["in"] == "header":
                headers.append(f"{parameter['name']}: {example}")
            elif parameter["in"] == "query":
                query.append(f"{parameter['name']}={example}")
        if query:
            url += "?" + "&".join(query)
        parts = ["curl", "-X", self.method, shlex.quote(url)]
        for header in headers:
            parts += ["-H", shlex.quote(header)]
        content = (operation.get("requestBody") or {}).get("content", {})
        for media_type, body in content.items():
            value = body.get("example")
            if value is None and body.get("examples"):
                value = next(iter(body["examples"].values())).get("value")
            if value is None:
                continue
            if media_type == "multipart/form-data":
                for name, field in value.items():  # a file field's example is "@path"
                    parts += ["-F", shlex.quote(f"{name}={field}")]
            else:
                parts += ["-H", shlex.quote(f"Content-Type: {media_type}"), "--data", shlex.quote(json.dumps(value))]
            break
        return " ".join(parts)


DESCRIPTION_INTRO = """\
Police forces' interface to Oversight: agreements, watchlist images, disclosures and outcomes; and the
camera gateways' frame intake.

## Credentials

- **Force and unit API tokens** (scheme `apiToken`): `Authorization: Token <secret>`, where the secret is
  64 hexadecimal characters, shown once when an administrator issues it (`manage.py issue_api_token`).
  Tokens expire (at most 366 days) and can be revoked; each acts as the force's or unit's service account.
  In "Authorize", enter the whole value: `Token 9f3c…`.
- **Camera keys** (scheme `cameraKey`, the frame endpoint only): `Authorization: Camera cam_<43 characters>`,
  shown once when the deployment's operator issues or rotates it. In "Authorize", enter `Camera cam_…`.
- Signed-in sessions (scheme `cookieAuth`) work too, with the CSRF token on writes.

Every endpoint but the frame endpoint is rate-limited per token (429 with `Retry-After`); the frame endpoint
sheds load per camera instead. Justifications and reasons go in the `X-Justification` / `X-Reason` header
or the body, never in the query string (refused with 400 `reason_in_query_string`).

## Why you are reading (DPA 2018 s.62)

Every read of personal data is recorded with who, when, what and why. Send the purpose in the
`X-Oversight-Purpose` header (at most 300 characters): a force reading its own images or the disclosures it
received has a purpose that follows from its task, which the header may make more precise; anyone else
reading a force's images (an operator's DPO, the regulator) must send one, or gets 400 `purpose_required`.
A list answer is recorded once, naming the records it returned.

## Errors

Every refusal has one shape: `{"error": {"code": "...", "message": "...", "details": ...}}`, with a 4xx
status (503 when a dependency is down; 500 only for a defect of ours). Each operation lists the codes it
can return; this is every code, generated from the code that raises them:

"""


def describe_api(result, generator, request, public):
    result["info"]["description"] = DESCRIPTION_INTRO + catalogue_markdown()
    return result
