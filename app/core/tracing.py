"""Optional OpenTelemetry traces from a trigger to its tasks' results.

Off unless ``KILN_OTEL_ENABLED`` is set *and* the ``kiln-server[otel]`` extra is installed;
then :func:`load` returns a :class:`Tracing` (else ``None``, and nothing here runs):

* :meth:`Tracing.middleware` — one server span per API request (the caller's ``traceparent``
  header continues its trace), named by the route template, with the request id;
* :meth:`Tracing.remember_runs` — in the trigger's transaction, each new run gets the trigger
  span's context as ``metadata.traceparent`` (W3C format). Workers see it in their assignment
  (``ctx.metadata``) and may continue the trace; a caller's own ``traceparent`` is kept;
* :meth:`Tracing.record_results` — for every accepted result, a span from the task's claim
  (``started_at``) to now, a child of the trigger span, linked to the request that delivered
  the result, with ``kiln.run_id``, ``kiln.task_id``, ``kiln.attempt`` and ``kiln.outcome``.

Spans go to whatever tracer provider is installed globally; if there is none, Kiln installs an
SDK provider exporting OTLP over HTTP, configured by the standard ``OTEL_*`` variables
(``OTEL_EXPORTER_OTLP_ENDPOINT``, ``OTEL_SERVICE_NAME`` — default ``kiln-server`` — …).
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import asyncpg
import structlog
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from app.db.database import Database
from app.db.tenancy import TenantContext

if TYPE_CHECKING:
    from opentelemetry.trace import Tracer

log = structlog.get_logger("kiln.tracing")

REMEMBER = """
UPDATE workflow_runs SET metadata = coalesce(metadata, '{}'::jsonb)
  || jsonb_build_object('traceparent', $3::text)
WHERE tenant_id = $1 AND id = ANY($2::uuid[])
  AND NOT coalesce(metadata, '{}'::jsonb) ? 'traceparent'
"""
TASKS = """
SELECT t.id, t.run_id, t.attempt, t.task_name, t.started_at, r.workflow_name,
  r.metadata->>'traceparent' AS traceparent
FROM task_runs t JOIN workflow_runs r ON r.tenant_id = t.tenant_id AND r.id = t.run_id
WHERE t.tenant_id = $1 AND t.id = ANY($2::uuid[])
"""


class Tracing:
    def __init__(self, tracer: Tracer, shutdown: Any = None) -> None:
        from opentelemetry import propagate, trace

        self.tracer = tracer
        self._trace = trace
        self._propagate = propagate
        self._shutdown = shutdown

    def close(self) -> None:
        """Flush and stop the provider Kiln installed (not one the host process installed)."""
        if self._shutdown is not None:
            self._shutdown()

    def traceparent(self) -> str | None:
        carrier: dict[str, str] = {}
        self._propagate.inject(carrier)
        return carrier.get("traceparent")

    def middleware(self, app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != ScopeType.HTTP:
                await app(scope, receive, send)
                return
            headers = {k.decode("latin-1"): v.decode("latin-1")
                       for k, v in scope.get("headers", []) if k in (b"traceparent", b"tracestate")}
            name = f"{scope.get('method')} {scope.get('path_template') or scope.get('path')}"
            with self.tracer.start_as_current_span(
                name, context=self._propagate.extract(headers),
                kind=self._trace.SpanKind.SERVER,
                attributes={"http.request.method": str(scope.get("method")),
                            "url.path": str(scope.get("path"))},
            ) as span:
                bound = structlog.contextvars.get_contextvars()
                if "request_id" in bound:
                    span.set_attribute("kiln.request_id", str(bound["request_id"]))

                async def send_status(message: Message) -> None:
                    if message["type"] == "http.response.start":
                        span.set_attribute("http.response.status_code", message["status"])
                    await send(message)

                await app(scope, receive, send_status)
                tenant = getattr(scope.get("user"), "tenant_id", None)
                if tenant is not None:
                    span.set_attribute("kiln.tenant_id", str(tenant))

        return middleware

    async def remember_runs(self, conn: asyncpg.Connection, tenant_id: uuid.UUID,
                            run_ids: Sequence[uuid.UUID]) -> None:
        traceparent = self.traceparent()
        if run_ids and traceparent:
            await conn.execute(REMEMBER, tenant_id, list(run_ids), traceparent)

    async def record_results(self, db: Database, tenant_id: uuid.UUID,
                             outcomes: Iterable[tuple[uuid.UUID, str]]) -> None:
        outcome = dict(outcomes)
        if not outcome:
            return
        async with db.raw(TenantContext(tenant_id)) as conn:
            rows = await conn.fetch(TASKS, tenant_id, list(outcome))
        delivered = self._trace.get_current_span().get_span_context()
        links = [self._trace.Link(delivered)] if delivered.is_valid else []
        for row in rows:
            parent = self._propagate.extract({"traceparent": row["traceparent"] or ""})
            started: dt.datetime | None = row["started_at"]
            span = self.tracer.start_span(
                f"kiln.task {row['workflow_name']}:{row['task_name']}", context=parent,
                kind=self._trace.SpanKind.CONSUMER, links=links,
                start_time=int(started.timestamp() * 1e9) if started else None,
                attributes={"kiln.tenant_id": str(tenant_id), "kiln.run_id": str(row["run_id"]),
                            "kiln.task_id": str(row["id"]), "kiln.task": row["task_name"],
                            "kiln.attempt": row["attempt"],
                            "kiln.outcome": outcome[row["id"]]})
            if outcome[row["id"]] == "failed":
                span.set_status(self._trace.StatusCode.ERROR)
            span.end()


def load(enabled: bool) -> Tracing | None:
    """The tracing of this process, or ``None`` when it is off or the extra is missing."""
    if not enabled:
        return None
    try:
        from opentelemetry import trace
    except ImportError:
        log.warning("KILN_OTEL_ENABLED is set but OpenTelemetry is not installed: "
                    "pip install 'kiln-server[otel]'; tracing stays off", action="tracing.missing")
        return None
    shutdown = None
    if not _provider_installed():
        shutdown = _install_sdk_provider()
        if shutdown is None:
            return None
    return Tracing(trace.get_tracer("kiln"), shutdown)


def _provider_installed() -> bool:
    from opentelemetry import trace

    return not isinstance(trace.get_tracer_provider(),
                          (trace.ProxyTracerProvider, trace.NoOpTracerProvider))


def _install_sdk_provider() -> Any:
    try:
        from opentelemetry import trace
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError:
        log.warning("OpenTelemetry's SDK or OTLP exporter is missing: pip install "
                    "'kiln-server[otel]'; tracing stays off", action="tracing.missing")
        return None
    attributes = {} if os.environ.get("OTEL_SERVICE_NAME") else {"service.name": "kiln-server"}
    provider = TracerProvider(resource=Resource.create(attributes))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    return provider.shutdown
