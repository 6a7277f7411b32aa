"""Schemathesis against the live server's OpenAPI document, as two tenants.

Every operation gets ``KILN_FUZZ_EXAMPLES`` positive and half as many negative cases (schema-
valid and schema-breaking inputs; derandomized, so a run is repeatable). Each case is sent
twice: first with tenant B's token, then with tenant A's. Path parameters are aimed at A's seeded
resources (run, worker, key, invite, member, webhook, channel, cron, schedule, event, rate limit,
workflow) most of the time. Checks:

* no 5xx, and A's responses conform to the schema (status code, content type, headers, body);
* cross-tenant: when a path names a resource of A, B's answer is exactly **404** — never 2xx,
  never 401/403 or 409 (which would tell B the resource exists) — unless A gets the same 400/422
  for the same malformed input (input validation answers before any lookup), or A gets 404 too
  (the resource is gone: an earlier case deleted it). Worker-protocol calls that fence on the
  lease instead of looking the worker up (results, logs, refresh-timeout, durable steps) may
  answer B exactly as they answer B for a worker id that exists nowhere;
* no leak: B's response never contains an identifier of A (ids, names, e-mail) that was not in
  the request itself.

``GET /metrics`` is the operator's Prometheus endpoint: its labels name every tenant by design
(``KILN_METRICS_TOKEN`` guards it on shared deployments), so it is not held to the leak rule.

Not fuzzed: ``GET /api/v1/stream`` (a server-sent event stream that never ends) and ``POST
/api/v1/auth/logout`` (it would end A's session mid-run); ``PUT /api/v1/rate-limits/{key}`` is an
upsert by name: B does not replay it with A's key (it would create B's own limit of that name).
"""

from __future__ import annotations

import collections
import functools
import json
import logging
import os
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import checks as st_checks
from schemathesis.core.failures import Failure, FailureGroup

from app.asgi import create_app
from app.settings import Settings
from tests.fuzz import tally
from tests.fuzz.conftest import FuzzTenant, Tenants
from tests.support.live import LiveServer

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]
log = logging.getLogger("kiln.fuzz")

EXAMPLES = int(os.environ.get("KILN_FUZZ_EXAMPLES", "8"))
EXCLUDED = {"streamChanges", "logout"}
# Upserts by name: B writing A's key would create B's own limit under that name (and make it
# B's from then on), so B does not replay them with a name of A.
UPSERTS_BY_NAME = {"putRateLimit"}
# Worker-protocol calls on the hot path need not look the worker up: they fence every write on
# (tenant, task, lease, worker), so another tenant's worker id changes nothing. For calls with a
# worker id, B's answer may also equal its answer for a worker id that exists nowhere (then
# there is nothing to learn from it).
OPERATOR_ONLY = {"getMetrics"}
# Conformance of every answer to the generated document: its status is one the operation
# declares, and its content type, headers and body match what is declared for that status
# (errors included: app/core/error_docs.py).
CHECKS = [st_checks.not_a_server_error, st_checks.status_code_conformance,
          st_checks.content_type_conformance, st_checks.response_headers_conformance,
          st_checks.response_schema_conformance]
COUNTS: collections.Counter[str] = collections.Counter()


@functools.cache
def openapi_document() -> dict[str, Any]:
    """The document ``GET /schema/openapi.json`` serves, built without a database (as ``kiln
    openapi`` does), so operations are known when tests are collected."""
    app = create_app(Settings(database_url="postgresql://unused@localhost/unused",
                              secret_key="fuzz-openapi", frontend_dist=Path("/nonexistent")))
    document: dict[str, Any] = app.openapi_schema.to_schema()
    return document


@functools.cache
def api_schema() -> Any:
    return schemathesis.openapi.from_dict(openapi_document())


def labels() -> list[str]:
    found = []
    for path, operations in openapi_document()["paths"].items():
        for method, operation in operations.items():
            if operation.get("operationId") not in EXCLUDED:
                found.append(f"{method.upper()} {path}")
    return sorted(found)


def aim(case: Any, tenant: FuzzTenant, data: st.DataObject) -> None:
    """Point path parameters at the tenant's own resources, three times in four. (Generated
    credentials are dropped: each tenant's token is set when the case is sent.)"""
    for header in [h for h in (case.headers or {}) if h.lower() == "authorization"]:
        del case.headers[header]
    for name in list(case.path_parameters or {}):
        pool = tenant.resources.get(name)
        if pool and data.draw(st.integers(0, 3), label=f"aim {name}"):
            case.path_parameters[name] = data.draw(st.sampled_from(pool), label=name)


def sent(case: Any) -> str:
    """Everything the request itself carries (what an answer may echo without leaking)."""
    return json.dumps([case.path_parameters, case.query, case.body, case.headers], default=str)


def harvest(tenant: FuzzTenant, body: Any) -> None:
    """Remember ids that appear in the tenant's own answers (objects it created while fuzzed)."""
    if isinstance(body, dict):
        for key, value in body.items():
            if key == "id" and isinstance(value, str) and len(value) >= 32:
                tenant.resources.setdefault("_seen", []).append(value)
            else:
                harvest(tenant, value)
    elif isinstance(body, list):
        for item in body:
            harvest(tenant, item)


def conformance(case: Any, response: schemathesis.Response, who: str) -> list[str]:
    where = f"{who}: {case.operation.label} -> {response.status_code}"
    if response.status_code >= 500:
        return [f"{where}: server error: {response.text[:200]} for {sent(case)[:400]}"]
    if response.status_code >= 400:
        try:
            error = response.json()["error"]
            assert isinstance(error["code"], str)
            assert isinstance(error["message"], str)
        except (ValueError, KeyError, TypeError, AssertionError):
            return [f"{where}: error body is not {{'error': {{code, message}}}}: "
                    f"{response.text[:200]}"]
    checks = CHECKS
    try:
        case.validate_response(response, checks=checks)
    except (FailureGroup, Failure) as exc:
        failures = exc.exceptions if isinstance(exc, FailureGroup) else [exc]
        return [f"{who}: {case.operation.label} -> {response.status_code}: "
                f"{getattr(f, 'title', type(f).__name__)}: {str(getattr(f, 'message', f))[:300]}"
                for f in failures]
    return []


def cross_tenant(case: Any, a: FuzzTenant, b: FuzzTenant, as_b: schemathesis.Response,
                 as_a: schemathesis.Response, control: schemathesis.Response | None,
                 ) -> list[str]:
    label, problems = case.operation.label, []
    operation_id = case.operation.definition.raw.get("operationId")
    targets = {name: value for name, value in (case.path_parameters or {}).items()
               if a.owns(name, value)}
    # A 401 for A too: the case was generated without credentials (a negative case).
    if targets and as_a.status_code != 401:
        allowed = as_b.status_code == 404 or as_a.status_code == 404 or (
            as_b.status_code in (400, 422) and as_b.status_code == as_a.status_code) or (
            control is not None and (as_b.status_code, as_b.text) == (
                control.status_code, control.text))
        if not allowed:
            problems.append(f"{label} with A's {targets}: B got {as_b.status_code} "
                            f"(A got {as_a.status_code}): {as_b.text[:200]}")
    if operation_id in OPERATOR_ONLY:
        return problems
    request = sent(case)
    leaked = sorted(i for i in a.identifiers() if len(i) >= 12 and i in as_b.text
                    and i not in request)
    if leaked:
        problems.append(f"{label}: B's answer ({as_b.status_code}) contains A's {leaked[:3]}")
    return problems


@pytest.mark.parametrize("label", labels())
def test_operation(label: str, fuzz_server: LiveServer, fuzz_tenants: Tenants) -> None:
    operation = api_schema().find_operation_by_label(label)
    a, b = fuzz_tenants.a, fuzz_tenants.b
    problems: list[str] = []
    session = requests.Session()

    def exercise(case: Any, data: st.DataObject) -> None:
        aim(case, a, data)
        # B first: a request of B that changed A's resource must not be hidden by A's own
        # request deleting it.
        operation_id = case.operation.definition.raw.get("operationId")
        skip_b = operation_id in UPSERTS_BY_NAME and any(
            a.owns(name, value) for name, value in (case.path_parameters or {}).items())
        as_b = None if skip_b else case.call(base_url=fuzz_server.url, session=session,
                                             headers=b.headers, timeout=30)
        as_a = case.call(base_url=fuzz_server.url, session=session, headers=a.headers,
                         timeout=30)
        control = None
        if "worker_id" in (case.path_parameters or {}) and a.owns(
                "worker_id", case.path_parameters["worker_id"]):
            original = case.path_parameters["worker_id"]
            case.path_parameters["worker_id"] = str(uuid.uuid4())
            control = case.call(base_url=fuzz_server.url, session=session, headers=b.headers,
                                timeout=30)
            case.path_parameters["worker_id"] = original
        COUNTS[case.meta.generation.mode.value if case.meta else "?"] += 1
        tally.TALLY["schemathesis cases (each sent as both tenants)"] += 1
        problems.extend(conformance(case, as_a, "A"))
        if as_b is not None:
            problems.extend(conformance(case, as_b, "B"))
            problems.extend(cross_tenant(case, a, b, as_b, as_a, control))
        content_type = (as_a.headers.get("content-type") or [""])[0]
        if 200 <= as_a.status_code < 300 and content_type.startswith("application/json"):
            harvest(a, as_a.json())

    for mode, examples in ((schemathesis.GenerationMode.POSITIVE, EXAMPLES),
                           (schemathesis.GenerationMode.NEGATIVE, max(1, EXAMPLES // 2))):
        @settings(max_examples=examples, derandomize=True, database=None, deadline=None,
                  phases=[Phase.explicit, Phase.generate],
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(generation_mode=mode), data=st.data())
        def run(case: Any, data: st.DataObject) -> None:
            exercise(case, data)

        try:
            run()
        except Unsatisfiable:
            # Nothing schema-breaking can be sent for this operation (e.g. no parameters).
            assert mode is schemathesis.GenerationMode.NEGATIVE, label
    unique = sorted(set(problems))
    log.info("%s: %s cases so far in this module (by mode %s)", label,
             sum(COUNTS.values()), dict(COUNTS))
    assert not unique, f"{len(unique)} problem(s):\n  " + "\n  ".join(unique[:25])


def test_the_document_describes_the_answers() -> None:
    """Every operation declares its error answers with the one error shape (a named component,
    so generated clients can type them); Litestar's own ``{status_code, detail}`` is gone."""
    document = openapi_document()
    assert set(document["components"]["schemas"]["ErrorResponse"]["required"]) == {"error"}
    assert "status_code" not in json.dumps(document["paths"])
    receiver = document["paths"]["/hooks/{webhook_id}"]["post"]["responses"]
    assert {"202", "401"} <= set(receiver)
    missing = []
    metrics = document["paths"]["/metrics"]["get"]["responses"]["200"]
    if "text/plain" not in json.dumps(metrics):
        missing.append("GET /metrics 200 text/plain")
    for label in labels():
        method, path = label.split(" ", 1)
        operation = openapi_document()["paths"][path][method.lower()]
        responses = operation.get("responses", {})
        for status in ("400", "401", "404", "422") if "{" in path else ("400", "401", "422"):
            body = (responses.get(status, {}).get("content", {}).get("application/json", {})
                    .get("schema", {}))
            if "$ref" in body:
                body = openapi_document()["components"]["schemas"][body["$ref"].split("/")[-1]]
            text = json.dumps(body)
            if status not in responses or "error" not in text:
                missing.append(f"{label} {status}")
    assert not missing, f"{len(missing)} undocumented error responses, e.g. {missing[:5]}"
