"""``/api/v1/concurrency``: concurrency keys in use and the runs or tasks holding their slots."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.params import QueryParameter

from app.core import pagination
from app.core.deps import DB, Caller
from app.domain.auth.guards import requires
from app.domain.auth.principal import Permission
from app.domain.flow import schemas, services


class ConcurrencyController(Controller):
    path = "/api/v1/concurrency"
    tags = ["flow control"]

    @get("/", operation_id="listConcurrencyKeys", guards=[requires(Permission.READ)],
         summary="Concurrency keys with live holders (who occupies each slot)")
    async def list_keys(
        self, db: DB, principal: Caller,
        prefix: Annotated[str | None, QueryParameter(
            description="Only keys starting with this, e.g. `etl#0=`")] = None,
        limit: pagination.Limit = None,
    ) -> schemas.ConcurrencyKeys:
        return schemas.ConcurrencyKeys(await services.list_keys(db, principal, prefix, limit))
