"""Setting, reading and deleting a tenant's rate limits; the strategies plugins provide."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, func, select, text
from sqlalchemy.dialects.postgresql import insert

from app.core import pagination
from app.core.errors import Invalid, NotFound
from app.db.database import Database
from app.domain.alerts.configs import errors as schema_errors
from app.domain.audit import services as audit
from app.domain.auth.principal import Principal
from app.domain.rate_limits import schemas
from app.domain.rate_limits.models import RateLimit, RateLimitSettings
from app.engine.flow.rate_limits import DEFAULT_STRATEGY, Strategies, stored_state
from app.engine.flow.spec import WINDOWS
from app.hooks.types import RateLimitStrategy

_WINDOW_NAMES = {seconds: name for name, seconds in WINDOWS.items()}


async def _strategy(strategies: Strategies, name: str) -> RateLimitStrategy:
    known = await strategies.all()
    if name not in known:
        raise Invalid(f"unknown rate-limit strategy {name!r}; available: "
                      f"{', '.join(sorted(known)) or 'none'}")
    return known[name]


def _check_config(strategy: RateLimitStrategy, config: Mapping[str, Any]) -> None:
    problems = schema_errors(strategy.config_schema, dict(config))
    if problems:
        raise Invalid(f"config for strategy {strategy.name!r} is invalid: "
                      + "; ".join(problems))


async def _default_strategy(session: Any) -> str:
    value = await session.scalar(select(RateLimitSettings.default_strategy))
    return str(value) if value else DEFAULT_STRATEGY


def _usage(
    row: RateLimit, strategy: RateLimitStrategy | None, now: float
) -> schemas.Usage | None:
    if strategy is None or row.limit is None or row.window_seconds is None:
        return None
    try:
        decision, _ = strategy.decide(
            {**row.config, "limit": row.limit, "window_seconds": row.window_seconds},
            stored_state(row.state, strategy.name), now, 0)
    except Exception:  # a plugin's strategy may fail: show no usage rather than an error
        return None
    remaining = row.limit if decision.remaining is None else max(0, decision.remaining)
    return schemas.Usage(used=max(0, row.limit - remaining), remaining=remaining)


def _out(
    row: RateLimit, effective: str, known: Mapping[str, RateLimitStrategy], now: float
) -> schemas.RateLimitOut:
    return schemas.RateLimitOut(
        key=row.key, source=row.source, limit=row.limit,
        window=_WINDOW_NAMES.get(row.window_seconds) if row.window_seconds else None,
        window_seconds=row.window_seconds, strategy=effective, config=dict(row.config or {}),
        usage=_usage(row, known.get(effective), now), updated_at=row.updated_at,
    )


async def _wake(session: Any, principal: Principal) -> None:
    """Parked polls of the tenant claim again at commit: a task may pass the changed limit."""
    await session.execute(text("SELECT pg_notify('kiln_queue', :tenant)"),
                          {"tenant": str(principal.tenant_id)})


async def _db_now(session: Any) -> float:
    """The database's clock (strategies decide on it), as Unix seconds."""
    return float(await session.scalar(select(func.extract("epoch", func.now()))) or 0.0)


async def put(
    db: Database, principal: Principal, strategies: Strategies, key: str,
    body: schemas.RateLimitPut, ip: str | None,
) -> schemas.RateLimitOut:
    """Set a static limit (the state is kept: a changed strategy starts afresh by itself)."""
    name = body.strategy
    strategy = await _strategy(strategies, name) if name is not None else None
    window = WINDOWS[body.window]
    async with db.transaction(principal.tenancy()) as s:
        effective = name or await _default_strategy(s)
        strategy = strategy or await _strategy(strategies, effective)
        _check_config(strategy, {**body.config, "limit": body.limit, "window_seconds": window})
        await s.execute(insert(RateLimit).values(
            tenant_id=principal.tenant_id, key=key, source="api", limit=body.limit,
            window_seconds=window, strategy=name, config=body.config,
        ).on_conflict_do_update(index_elements=["tenant_id", "key"], set_={
            "source": "api", "limit": body.limit, "window_seconds": window, "strategy": name,
            "config": body.config, "updated_at": func.now(),
        }))
        await _wake(s, principal)
        audit.record(s, tenant_id=principal.tenant_id, action="rate_limit.set", actor=principal,
                     target_type="rate_limit", target_id=key, ip=ip,
                     details={"limit": body.limit, "window": body.window, "strategy": effective})
        row = await s.get(RateLimit, (principal.tenant_id, key), populate_existing=True)
        now = await _db_now(s)
    assert row is not None
    return _out(row, effective, await strategies.all(), now)


async def get_one(
    db: Database, principal: Principal, strategies: Strategies, key: str
) -> schemas.RateLimitOut:
    async with db.transaction(principal.tenancy()) as s:
        row = await s.get(RateLimit, (principal.tenant_id, key))
        if row is None:
            raise NotFound(f"rate limit {key!r} not found")
        default = await _default_strategy(s)
        now = await _db_now(s)
    return _out(row, row.strategy or default, await strategies.all(), now)


def _encode_key(key: str) -> str:
    return base64.urlsafe_b64encode(key.encode()).decode().rstrip("=")


def _decode_key(cursor: str | None) -> str | None:
    if not cursor:
        return None
    try:
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, ValueError) as exc:  # non-ASCII input raises a bare ValueError
        raise Invalid("cursor is not valid; pass the next_cursor of a previous page") from exc


async def list_limits(
    db: Database, principal: Principal, strategies: Strategies, limit: int | None,
    cursor: str | None,
) -> pagination.Page[schemas.RateLimitOut]:
    size = pagination.check_limit(limit)
    after = _decode_key(cursor)
    query = select(RateLimit).order_by(RateLimit.key).limit(size + 1)
    if after is not None:
        query = query.where(RateLimit.key > after)
    async with db.transaction(principal.tenancy()) as s:
        rows = (await s.execute(query)).scalars().all()
        default = await _default_strategy(s)
        now = await _db_now(s)
    known = await strategies.all()
    items = [_out(row, row.strategy or default, known, now) for row in rows[:size]]
    return pagination.Page(items=items,
                           next_cursor=_encode_key(rows[size - 1].key) if len(rows) > size
                           else None)


async def delete_one(db: Database, principal: Principal, key: str, ip: str | None) -> None:
    async with db.transaction(principal.tenancy()) as s:
        result = await s.execute(delete(RateLimit).where(RateLimit.key == key)
                                 .returning(RateLimit.key))
        if result.first() is None:
            raise NotFound(f"rate limit {key!r} not found")
        audit.record(s, tenant_id=principal.tenant_id, action="rate_limit.deleted",
                     actor=principal, target_type="rate_limit", target_id=key, ip=ip)


async def list_strategies(
    db: Database, principal: Principal, strategies: Strategies
) -> schemas.StrategyList:
    async with db.transaction(principal.tenancy()) as s:
        default = await _default_strategy(s)
    return schemas.StrategyList(
        items=[schemas.Strategy(name=x.name, title=x.title, config_schema=dict(x.config_schema))
               for _, x in sorted((await strategies.all()).items())],
        default_strategy=default,
    )


async def get_settings(db: Database, principal: Principal) -> schemas.Settings:
    async with db.transaction(principal.tenancy()) as s:
        return schemas.Settings(default_strategy=await _default_strategy(s))


async def put_settings(
    db: Database, principal: Principal, strategies: Strategies, body: schemas.SettingsPut,
    ip: str | None,
) -> schemas.Settings:
    """Choose the tenant's default strategy (for keys whose limit names none)."""
    await _strategy(strategies, body.default_strategy)
    async with db.transaction(principal.tenancy()) as s:
        await s.execute(insert(RateLimitSettings).values(
            tenant_id=principal.tenant_id, default_strategy=body.default_strategy,
        ).on_conflict_do_update(index_elements=["tenant_id"], set_={
            "default_strategy": body.default_strategy, "updated_at": func.now()}))
        await _wake(s, principal)
        audit.record(s, tenant_id=principal.tenant_id, action="rate_limit.default_strategy_set",
                     actor=principal, target_type="tenant", target_id=principal.tenant_id,
                     details={"default_strategy": body.default_strategy}, ip=ip)
    return schemas.Settings(default_strategy=body.default_strategy)

