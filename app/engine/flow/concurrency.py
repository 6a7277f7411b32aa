"""Concurrency slots: who holds them, and the ``CANCEL_*`` strategies at trigger time.

A hold is a row ``(key, holder)``: a run (workflow-level limits) or a task run (task-level). It
counts only while its holder is unfinished — a task while ``running``; a run while ``running``
(round-robin) or ``queued``/``running`` (cancel strategies, which take their hold at trigger) —
so finishing, failing, timing out, cancelling or losing a lease all release the slot without any
code path having to remember it. Stale holds are deleted by the next decision on their key.
Decisions on a key are serialised by a transaction advisory lock, taken in key order.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from app.engine import queries
from app.engine.flow.spec import CANCEL_IN_PROGRESS, CANCEL_NEWEST


@dataclass(slots=True)
class Slots:
    """The live holders of some keys (locked for this transaction)."""

    holders: dict[str, list[uuid.UUID]] = field(default_factory=dict)
    """Holder ids per key, oldest first."""
    runs: dict[str, set[uuid.UUID]] = field(default_factory=dict)
    """Runs holding each key at run scope."""
    stale: list[tuple[str, uuid.UUID]] = field(default_factory=list)
    """Holds found whose holder finished (the claim deletes them)."""

    def count(self, key: str) -> int:
        return len(self.holders.get(key, ()))

    def run_holds(self, key: str, run_id: uuid.UUID) -> bool:
        return run_id in self.runs.get(key, ())

    def add(self, key: str, holder: uuid.UUID, run_id: uuid.UUID, scope: str) -> None:
        self.holders.setdefault(key, []).append(holder)
        if scope == "run":
            self.runs.setdefault(key, set()).add(run_id)


async def lock_and_load(
    conn: asyncpg.Connection, tenant_id: uuid.UUID, keys: Iterable[str]
) -> Slots:
    """Lock ``keys`` (in order, so two deciders never deadlock) and load their live holders;
    stale holds found on the way are listed in ``Slots.stale``."""
    ordered = sorted(set(keys))
    slots = Slots()
    if not ordered:
        return slots
    await conn.fetchval(queries.get("lock_concurrency_keys"), str(tenant_id), ordered)
    for row in await conn.fetch(queries.get("concurrency_holds"), tenant_id, ordered):
        if row["valid"]:
            slots.add(row["key"], row["holder_id"], row["run_id"], row["scope"])
        else:
            slots.stale.append((row["key"], row["holder_id"]))
    return slots


@dataclass(frozen=True, slots=True)
class Hold:
    key: str
    holder_id: uuid.UUID
    run_id: uuid.UUID
    scope: str
    strategy: str


async def add_holds(conn: asyncpg.Connection, tenant_id: uuid.UUID, holds: list[Hold]) -> None:
    if holds:
        await conn.execute(
            queries.get("add_holds"), tenant_id, [h.key for h in holds],
            [h.holder_id for h in holds], [h.run_id for h in holds], [h.scope for h in holds],
            [h.strategy for h in holds],
        )


def _cancel_limits(flow: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in flow.get("c", ())
            if c["o"] == "run" and c["s"] in (CANCEL_IN_PROGRESS, CANCEL_NEWEST)]


async def settle_new_runs(
    conn: asyncpg.Connection, tenant_id: uuid.UUID, runs: list[tuple[uuid.UUID, dict[str, Any]]],
) -> dict[uuid.UUID, str]:
    """Apply ``CANCEL_IN_PROGRESS``/``CANCEL_NEWEST`` to new runs (``(run id, flow of a task)``
    in creation order): each takes a hold on its keys; a key over ``max_runs`` unfinished runs
    then loses its oldest runs (in progress) or its newest ones. Returns the runs to cancel,
    new or old, with the reason to show."""
    limits: dict[str, dict[str, Any]] = {}
    holds: list[Hold] = []
    for run_id, flow in runs:
        for limit in _cancel_limits(flow):
            limits.setdefault(limit["k"], limit)
            holds.append(Hold(limit["k"], run_id, run_id, "run", limit["s"]))
    if not holds:
        return {}
    slots = await lock_and_load(conn, tenant_id, limits)
    await add_holds(conn, tenant_id, holds)
    for hold in holds:
        slots.add(hold.key, hold.holder_id, hold.run_id, "run")
    cancel: dict[uuid.UUID, str] = {}
    for key, limit in sorted(limits.items()):
        live = [run for run in slots.holders.get(key, []) if run not in cancel]
        over = len(live) - limit["m"]
        if over <= 0:
            continue
        where = key.split("#", 1)[0]
        if limit["s"] == CANCEL_NEWEST:
            reason = (f"cancelled by concurrency limit: key {limit['v']!r} of {where} already "
                      f"had {limit['m']} unfinished run(s) (max_runs={limit['m']}, "
                      "CANCEL_NEWEST)")
            losers = live[-over:]
        else:
            reason = (f"cancelled by concurrency limit: a newer run of {where} took the slot of "
                      f"key {limit['v']!r} (max_runs={limit['m']}, CANCEL_IN_PROGRESS)")
            losers = live[:over]
        for run in losers:
            cancel.setdefault(run, reason)
    return cancel
