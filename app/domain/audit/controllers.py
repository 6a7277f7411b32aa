"""``/api/v1/audit``."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.params import QueryParameter

from app.core import pagination
from app.core.deps import DB, Caller
from app.domain.audit import schemas, services
from app.domain.auth.guards import requires
from app.domain.auth.principal import Permission

ActionFilter = Annotated[
    str | None,
    QueryParameter(min_length=1, max_length=100,
                   description="Only entries with this action, e.g. `api_key.created`."),
]


class AuditController(Controller):
    path = "/api/v1/audit"
    tags = ["audit"]
    guards = [requires(Permission.MANAGE)]

    @get("/", operation_id="listAuditEntries", summary="The tenant's audit log, newest first")
    async def list_entries(
        self, db: DB, principal: Caller,
        action: ActionFilter = None,
        limit: pagination.Limit = None,
        cursor: pagination.Cursor = None,
    ) -> pagination.Page[schemas.AuditEntry]:
        return await services.list_entries(db, principal, action, limit, cursor)
