"""``GET /metrics`` (Prometheus, whole deployment) and ``GET /api/v1/metrics/queue`` (one
tenant's queue depth per workflow, e.g. for a KEDA metrics-api scaler on its workers)."""

from __future__ import annotations

import secrets
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get
from litestar.params import HeaderParameter

from app.core.deps import Caller, EngineDep
from app.core.errors import Unauthorized
from app.db.tenancy import ENGINE, TenantContext
from app.domain.auth.guards import requires
from app.domain.auth.principal import Permission
from app.domain.metrics.collector import Metrics
from app.engine import queries


class QueueDepth(msgspec.Struct):
    workflow: str
    depth: int
    oldest_seconds: float


class QueueDepths(msgspec.Struct):
    items: list[QueueDepth]
    total: int


async def _depths(engine: Any, context: TenantContext) -> list[Any]:
    async with engine.db.raw(context) as conn:
        return list(await conn.fetch(queries.get("queue_depth")))


class MetricsController(Controller):
    tags = ["system"]

    @get("/metrics", operation_id="getMetrics", include_in_schema=True,
         media_type="text/plain; version=0.0.4; charset=utf-8",
         summary="Prometheus metrics (needs KILN_METRICS_TOKEN as a Bearer token when set)")
    async def metrics(
        self, request: Request[Any, Any, Any], engine: EngineDep,
        authorization: Annotated[str | None, HeaderParameter(name="Authorization")] = None,
    ) -> Response[bytes]:
        token = request.app.state.settings.metrics_token
        if token and not secrets.compare_digest(authorization or "", f"Bearer {token}"):
            raise Unauthorized("metrics need 'Authorization: Bearer <KILN_METRICS_TOKEN>'")
        metrics: Metrics = request.app.state.metrics
        rows = await _depths(engine, ENGINE)
        metrics.snapshot = {
            "depth": [({"tenant": str(r["tenant_id"]), "workflow": r["workflow"]},
                       float(r["depth"])) for r in rows],
            "oldest": [({"tenant": str(r["tenant_id"]), "workflow": r["workflow"]},
                        float(r["oldest_seconds"] or 0)) for r in rows],
        }
        return Response(metrics.render(),
                        media_type="text/plain; version=0.0.4; charset=utf-8")

    @get("/api/v1/metrics/queue", operation_id="getQueueDepth",
         guards=[requires(Permission.READ)],
         summary="Ready tasks per workflow and the oldest one's age (autoscaling signal)")
    async def queue(self, engine: EngineDep, principal: Caller) -> QueueDepths:
        rows = await _depths(engine, TenantContext(tenant_id=principal.tenant_id))
        items = [QueueDepth(r["workflow"], int(r["depth"]), float(r["oldest_seconds"] or 0))
                 for r in rows if r["tenant_id"] == principal.tenant_id]
        return QueueDepths(items=items, total=sum(i.depth for i in items))
