"""``/api/v1/stats``: figures the dashboard's overview charts, computed by the database."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.params import QueryParameter

from app.core.deps import DB, Caller
from app.domain.auth.guards import requires
from app.domain.auth.principal import Permission
from app.domain.stats import schemas, services


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
