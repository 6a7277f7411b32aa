"""Rate limits at claim time: strategies from plugins, and decisions over locked state rows.

A task's rate limits are all-or-nothing: it consumes its units from every key or from none. The
strategy of a key is the one its row names (``PUT /api/v1/rate-limits/{key}``), else the tenant's
default (``PUT /api/v1/rate-limits/settings``), else ``fixed-window``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import msgspec
import pluggy
import structlog

from app.engine import queries
from app.hooks.types import RateLimitStrategy

log = structlog.get_logger("kiln.flow")
DEFAULT_STRATEGY = "fixed-window"
HOOK = "register_rate_limit_strategies"
_encode = msgspec.json.Encoder(order="sorted")


class Strategies:
    """The rate-limit strategies the plugins register, by name.

    Collected again whenever the set of implementations changes (a plugin registered or
    unregistered at run time), otherwise served from memory: the claim path never waits on a
    plugin call.
    """

    def __init__(self, pm: pluggy.PluginManager | None, hook_timeout: float = 5.0) -> None:
        self._pm = pm
        self._timeout = hook_timeout
        self._seen: tuple[int, ...] | None = None
        self._by_name: dict[str, RateLimitStrategy] = {}

    def _implementations(self) -> tuple[int, ...]:
        caller = getattr(self._pm.hook, HOOK, None) if self._pm is not None else None
        return tuple(id(impl.function) for impl in caller.get_hookimpls()) if caller else ()

    async def all(self) -> dict[str, RateLimitStrategy]:
        current = self._implementations()
        if current != self._seen:
            from app.hooks import calls  # a plain function runs in a thread, bounded in time

            found: dict[str, RateLimitStrategy] = {}
            if self._pm is not None:
                for _, items in await calls.collect_by_plugin(self._pm, HOOK, {}, self._timeout):
                    for item in items:
                        if not isinstance(item, RateLimitStrategy):
                            log.warning("not a rate-limit strategy", action="flow.bad_strategy",
                                        item=repr(item))
                        elif item.name in found:
                            log.warning("rate-limit strategy registered twice; the first wins",
                                        action="flow.strategy_clash", strategy=item.name)
                        else:
                            found[item.name] = item
            self._by_name, self._seen = found, current
        return self._by_name

    async def names(self) -> list[str]:
        return sorted(await self.all())


@dataclass(slots=True)
class Limit:
    key: str
    source: str
    limit: int | None
    window: float | None
    strategy: str
    config: dict[str, Any]
    state: Any
    changed: bool = False


@dataclass(slots=True)
class Book:
    """The locked rate-limit rows of one claim and their working state."""

    limits: dict[str, Limit] = field(default_factory=dict)
    strategies: Mapping[str, RateLimitStrategy] = field(default_factory=dict)
    now: float = 0.0

    def try_take(self, uses: list[dict[str, Any]]) -> tuple[str | None, float | None]:
        """Consume every use (``{"k", "u", "l", "w"}``) or none. Returns ``(None, None)`` when
        taken, else the reason to show and, when known, seconds until a retry may pass."""
        pending: dict[str, Any] = {}
        for use in uses:
            key, units = use["k"], int(use["u"])
            limit = self.limits.get(key)
            if limit is None or limit.limit is None or limit.window is None:
                return (f"rate limit {key!r} is not set (PUT /api/v1/rate-limits/{key}, or "
                        "give limit and window in the task definition)"), None
            strategy = self.strategies.get(limit.strategy)
            if strategy is None:
                return (f"rate limit {key!r}: strategy {limit.strategy!r} is not installed"), None
            if units > limit.limit:
                return (f"rate limit {key!r}: the task needs {units} units, more than the limit "
                        f"of {limit.limit}"), None
            config = {**limit.config, "limit": limit.limit, "window_seconds": limit.window}
            state = pending.get(key, limit.state)
            try:
                decision, new_state = strategy.decide(config, state, self.now, units)
            except Exception:
                log.exception("rate-limit strategy failed", action="flow.strategy_error",
                              strategy=limit.strategy, key=key)
                return f"rate limit {key!r}: strategy {limit.strategy!r} failed", 1.0
            if not decision.allowed:
                return (f"rate limit {key!r} ({limit.limit} per {_window(limit.window)}, "
                        f"{limit.strategy})"), max(0.0, float(decision.retry_after))
            pending[key] = new_state
        for key, state in pending.items():
            self.limits[key].state = state
            self.limits[key].changed = True
        return None, None

    def copy(self) -> Book:
        return Book({k: Limit(v.key, v.source, v.limit, v.window, v.strategy, v.config, v.state)
                     for k, v in self.limits.items()}, self.strategies, self.now)


def stored_state(stored: Any, strategy: str) -> Any:
    """A strategy's own state from the stored value, which is tagged with the strategy's name
    (so a key whose strategy changed starts afresh instead of confusing the new one)."""
    if isinstance(stored, dict) and stored.get("strategy") == strategy:
        return stored.get("state")
    return None


def _window(seconds: float) -> str:
    names = {1.0: "second", 60.0: "minute", 3600.0: "hour", 86400.0: "day"}
    return names.get(seconds, f"{seconds:g} s")


async def lock(
    conn: asyncpg.Connection, tenant_id: uuid.UUID, uses: Iterable[dict[str, Any]],
    strategies: Strategies,
) -> Book:
    """Create the rows of limits defined with the task, then lock every row used (key order)."""
    defaults: dict[str, tuple[int, float]] = {}
    keys: set[str] = set()
    for use in uses:
        keys.add(use["k"])
        if use.get("l") is not None and use.get("w") is not None:
            defaults[use["k"]] = (int(use["l"]), float(use["w"]))
    if not keys:
        return Book()
    if defaults:
        ordered = sorted(defaults)
        await conn.execute(queries.get("rate_limit_defaults"), tenant_id, ordered,
                           [defaults[k][0] for k in ordered], [defaults[k][1] for k in ordered])
    book = Book(strategies=await strategies.all())
    for row in await conn.fetch(queries.get("lock_rate_limits"), tenant_id, sorted(keys)):
        book.now = row["now"]
        book.limits[row["key"]] = Limit(
            key=row["key"], source=row["source"], limit=row["limit"],
            window=row["window_seconds"], strategy=row["strategy"], config=row["config"] or {},
            state=stored_state(row["state"], row["strategy"]),
        )
    return book


async def save(conn: asyncpg.Connection, tenant_id: uuid.UUID, book: Book) -> None:
    changed = [limit for limit in book.limits.values() if limit.changed]
    if changed:
        await conn.execute(queries.get("save_rate_limits"), tenant_id,
                           [limit.key for limit in changed],
                           [_encode.encode({"strategy": limit.strategy, "state": limit.state})
                            .decode() for limit in changed])
