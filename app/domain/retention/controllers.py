"""``/api/v1/retention``: how long the tenant's finished runs are kept."""

from __future__ import annotations

from litestar import Controller, get, put
from litestar.params import JSONBody

from app.core.deps import DB, Caller, ClientIP
from app.domain.auth.guards import requires
from app.domain.auth.principal import Permission
from app.domain.retention import schemas, services


class RetentionController(Controller):
    path = "/api/v1/retention"
    tags = ["retention"]

    @get("/", operation_id="getRetention", guards=[requires(Permission.READ)],
         summary="How long the tenant's finished runs are kept (days; default 30)")
    async def get_retention(self, db: DB, principal: Caller) -> schemas.Retention:
        return await services.get(db, principal)

    @put("/", operation_id="putRetention", guards=[requires(Permission.MANAGE)],
         summary="Set how long finished runs are kept; older ones are removed within minutes")
    async def put_retention(
        self, db: DB, principal: Caller, data: JSONBody[schemas.RetentionPut],
        client_ip: ClientIP,
    ) -> schemas.Retention:
        return await services.put(db, principal, data, client_ip)
