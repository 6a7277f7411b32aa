"""``/api/v1/api-keys``."""

from __future__ import annotations

import uuid

from litestar import Controller, delete, get, post
from litestar.datastructures import State
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from app.core import pagination
from app.core.deps import DB, Caller, ClientIP
from app.domain.api_keys import schemas, services
from app.domain.auth.guards import requires
from app.domain.auth.principal import Permission


class ApiKeyController(Controller):
    path = "/api/v1/api-keys"
    tags = ["api-keys"]
    guards = [requires(Permission.MANAGE)]

    @post("/", operation_id="createApiKey", status_code=HTTP_201_CREATED,
          summary="Issue an API key (the secret is in this response only)")
    async def create(
        self, db: DB, principal: Caller, data: JSONBody[schemas.ApiKeyCreate],
        client_ip: ClientIP,
    ) -> schemas.ApiKeyCreated:
        return await services.create(db, principal, data, client_ip)

    @get("/", operation_id="listApiKeys", summary="API keys of the tenant, without secrets")
    async def list_keys(
        self, db: DB, principal: Caller,
        limit: pagination.Limit = None,
        cursor: pagination.Cursor = None,
    ) -> pagination.Page[schemas.ApiKey]:
        return await services.list_keys(db, principal, limit, cursor)

    @delete("/{key_id:uuid}", operation_id="revokeApiKey", status_code=HTTP_204_NO_CONTENT,
            summary="Revoke an API key, effective immediately")
    async def revoke(
        self, db: DB, principal: Caller, key_id: FromPath[uuid.UUID], client_ip: ClientIP,
        state: State,
    ) -> None:
        await services.revoke(db, principal, key_id, client_ip)
        # Other replicas clear theirs on the trigger's NOTIFY; this one before it answers.
        state.api_key_cache.clear()
