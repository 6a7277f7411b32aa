"""``/api/v1/stats``: figures the dashboard's overview charts, computed by the database."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.params import QueryParameter

from app.core import pagination
from app.core.deps import DB, Caller
from app.domain.auth.guards import requires
from app.domain.auth.principal import Permission
from app.domain.stats import concurrency, schemas, services


class StatsController(Controller):
    path = "/api/v1/stats"
    tags = ["stats"]

    @get("/overview", operation_id="getOverviewStats", guards=[requires(Permission.READ)],
         summary="Runs per status over time, failure rate, p50/p95 queue latency and duration, "
                 "per workflow, over a recent window")
    async def overview(
        self, db: DB, principal: Caller,
        window: Annotated[str, QueryParameter(
            description=f"How far back: one of {', '.join(services.WINDOWS)}")] = "1h",
    ) -> schemas.Overview:
        return await services.overview(db, principal, window)

    @get("/concurrency", operation_id="listConcurrencyUsage", guards=[requires(Permission.READ)],
         summary="Concurrency keys with how many slots are held and how much waits, busiest first")
    async def concurrency(
        self, db: DB, principal: Caller, limit: pagination.Limit = None
    ) -> schemas.ConcurrencyUsageList:
        return schemas.ConcurrencyUsageList(await concurrency.usage(db, principal, limit))
