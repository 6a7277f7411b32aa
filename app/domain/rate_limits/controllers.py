"""``/api/v1/rate-limits``: a tenant's rate limits with their current usage, the strategies the
plugins provide, and the tenant's default strategy."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, delete, get, put
from litestar.params import FromPath, JSONBody, PathParameter
from litestar.status_codes import HTTP_204_NO_CONTENT

from app.core import pagination
from app.core.deps import DB, Caller, ClientIP, EngineDep
from app.domain.auth.guards import requires
from app.domain.auth.principal import Permission
from app.domain.rate_limits import schemas, services

READ, MANAGE = [requires(Permission.READ)], [requires(Permission.MANAGE)]
Key = Annotated[str, PathParameter(min_length=1, max_length=255,
                                   description="The limit's key, as tasks name it")]


class RateLimitController(Controller):
    path = "/api/v1/rate-limits"
    tags = ["rate limits"]

    @get("/", operation_id="listRateLimits", guards=READ,
         summary="Rate limits (set through the API or created by dynamic keys) with usage")
    async def list_limits(
        self, db: DB, engine: EngineDep, principal: Caller,
        limit: pagination.Limit = None, cursor: pagination.Cursor = None,
    ) -> pagination.Page[schemas.RateLimitOut]:
        return await services.list_limits(db, principal, engine.rate_strategies, limit, cursor)

    @get("/{key:str}", operation_id="getRateLimit", guards=READ,
         summary="One rate limit with its current usage")
    async def get_limit(
        self, db: DB, engine: EngineDep, principal: Caller, key: FromPath[Key]
    ) -> schemas.RateLimitOut:
        return await services.get_one(db, principal, engine.rate_strategies, key)

    @put("/{key:str}", operation_id="putRateLimit", guards=MANAGE,
         summary="Set a static rate limit: limit units per window, with a strategy")
    async def put_limit(
        self, db: DB, engine: EngineDep, principal: Caller, key: FromPath[Key],
        data: JSONBody[schemas.RateLimitPut], client_ip: ClientIP,
    ) -> schemas.RateLimitOut:
        return await services.put(db, principal, engine.rate_strategies, key, data, client_ip)

    @delete("/{key:str}", operation_id="deleteRateLimit", guards=MANAGE,
            status_code=HTTP_204_NO_CONTENT, summary="Remove a rate limit (tasks using it wait)")
    async def delete_limit(
        self, db: DB, principal: Caller, key: FromPath[Key], client_ip: ClientIP
    ) -> None:
        await services.delete_one(db, principal, key, client_ip)


class RateLimitStrategyController(Controller):
    path = "/api/v1/rate-limit-strategies"
    tags = ["rate limits"]

    @get("/", operation_id="listRateLimitStrategies", guards=READ,
         summary="Rate-limit strategies from the loaded plugins, and the tenant's default")
    async def list_strategies(
        self, db: DB, engine: EngineDep, principal: Caller
    ) -> schemas.StrategyList:
        return await services.list_strategies(db, principal, engine.rate_strategies)


class RateLimitSettingsController(Controller):
    path = "/api/v1/rate-limit-settings"
    tags = ["rate limits"]

    @get("/", operation_id="getRateLimitSettings", guards=READ,
         summary="The tenant's default rate-limit strategy")
    async def get_settings(self, db: DB, principal: Caller) -> schemas.Settings:
        return await services.get_settings(db, principal)

    @put("/", operation_id="putRateLimitSettings", guards=MANAGE,
         summary="Choose the tenant's default rate-limit strategy")
    async def put_settings(
        self, db: DB, engine: EngineDep, principal: Caller,
        data: JSONBody[schemas.SettingsPut], client_ip: ClientIP,
    ) -> schemas.Settings:
        return await services.put_settings(db, principal, engine.rate_strategies, data,
                                           client_ip)
