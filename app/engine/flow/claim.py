"""The flow lane of a claim: ready flow-controlled tasks, served round-robin across groups, each
admitted only when its labels, sticky worker, concurrency keys and rate limits allow.

One pass, in the caller's claim transaction:

1. candidates — per action, up to ``GROUPS`` round-robin groups from the rotation cursor on
   (wrapping around, in the same statement), about twice the claim's size in tasks spread over
   them (2 to ``PER_GROUP`` each), interleaved one group at a time;
2. lock the concurrency keys (advisory, in key order) and load their live holders; lock the
   rate-limit rows (in key order);
3. decide in order; a task that may not start keeps its queue row and gets a ``wait_reason``;
4. take the chosen queue rows (``SKIP LOCKED``), replay the rate decisions for the ones really
   taken, record holds, rate state and sticky workers, and lease the tasks.

The rotation cursor (last group served, per tenant and action) lives in the server process, so
each replica rotates on its own; fairness does not need it to be shared.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from app.engine import queries
from app.engine.flow import concurrency, rate_limits
from app.engine.flow.labels import Affinity, LiveWorker
from app.engine.queue.results import write_outbox
from app.engine.queue.specs import spec_for
from app.engine.spec import SpecCache, WorkflowSpec

GROUPS = 32
"""Round-robin groups looked at per action and claim."""
PER_GROUP = 16
"""Most tasks looked at per group and claim: about twice the claim's size is spread over the
groups found, at least 2 each."""
Row = dict[str, Any]
_AFTER = "\x01"  # the smallest suffix: `key + _AFTER` is the first group after `key` (C order)


class Rotation:
    """Round-robin cursors by (tenant, action), bounded (least recently used dropped)."""

    def __init__(self, max_entries: int = 10_000) -> None:
        self._cursors: OrderedDict[tuple[uuid.UUID, str], str] = OrderedDict()
        self._max = max_entries

    def get(self, tenant_id: uuid.UUID, action: str) -> str:
        return self._cursors.get((tenant_id, action), "")

    def advance(self, tenant_id: uuid.UUID, action: str, group: str) -> None:
        self._cursors[(tenant_id, action)] = group + _AFTER
        self._cursors.move_to_end((tenant_id, action))
        while len(self._cursors) > self._max:
            self._cursors.popitem(last=False)


@dataclass(slots=True)
class FlowContext:
    """What the flow lane needs beyond the transaction: who claims, and the engine's state."""

    worker_id: uuid.UUID
    worker_labels: dict[str, Any]
    rotation: Rotation
    strategies: rate_limits.Strategies
    preference_delay: float
    events: frozenset[str]


@dataclass(slots=True)
class FlowClaim:
    rows: list[asyncpg.Record] = field(default_factory=list)
    retry_in: float | None = None
    """Seconds until a task refused for now (rate limit, label preference) may pass."""


@dataclass(slots=True)
class _Wait:
    reason: str
    rate: dict[str, Any] | None = None


def _interleave(rows: list[Row], actions: list[str]) -> list[Row]:
    """One task per group in turn (group rotation order, then action order), then the next."""
    position = {action: i for i, action in enumerate(actions)}
    groups: dict[tuple[int, int], list[Row]] = {}
    for row in sorted(rows, key=lambda r: (r["turn"], position[r["action"]], r["rank"], r["id"])):
        groups.setdefault((row["turn"], position[row["action"]]), []).append(row)
    queues = deque(deque(items) for _, items in sorted(groups.items()))
    ordered = []
    while queues:
        queue = queues.popleft()
        ordered.append(queue.popleft())
        if queue:
            queues.append(queue)
    return ordered


async def _candidates(
    conn: asyncpg.Connection, tenant_id: uuid.UUID, ctx: FlowContext, actions: list[str],
    limit: int,
) -> list[Row]:
    cursors = [ctx.rotation.get(tenant_id, action) for action in actions]
    return [dict(r) for r in await conn.fetch(queries.get("flow_candidates"), tenant_id, actions,
                                              cursors, GROUPS, PER_GROUP, limit)]


async def claim(
    cache: SpecCache, conn: asyncpg.Connection, tenant_id: uuid.UUID, ctx: FlowContext,
    actions: list[str], limit: int, lease_seconds: float,
) -> FlowClaim:
    """Lease up to ``limit`` flow-controlled tasks of ``actions`` that may start now."""
    rows = await _candidates(conn, tenant_id, ctx, actions, limit)
    if not rows:
        return FlowClaim()
    garbage = [row["id"] for row in rows if row["task_status"] != "queued"]
    live = [row for row in rows if row["task_status"] == "queued"]
    specs: dict[uuid.UUID, WorkflowSpec] = {}
    for row in live:
        if row["version_id"] not in specs:
            specs[row["version_id"]] = await spec_for(cache, conn, tenant_id, row["version_id"])
    slots = await concurrency.lock_and_load(
        conn, tenant_id, {c["k"] for row in live for c in row["flow"].get("c", ())})
    book = await rate_limits.lock(conn, tenant_id, [u for row in live
                                                    for u in row["flow"].get("r", ())],
                                  ctx.strategies)
    affinity = Affinity(ctx.worker_id, ctx.worker_labels, ctx.preference_delay)
    if any(_needs_live_workers(specs[row["version_id"]], row) for row in live):
        affinity.live = [LiveWorker(r["id"], r["labels"] or {}, frozenset(r["actions"]))
                         for r in await conn.fetch(queries.get("active_workers"), tenant_id)]
    decided = _decide(_interleave(live, actions), specs, slots, book.copy(), affinity, limit)
    leased = await _commit(conn, tenant_id, ctx, decided.chosen, garbage, slots, lease_seconds)
    taken = {row["id"] for row in leased}
    chosen = [row for row in decided.chosen if row["task_run_id"] in taken]
    if len(chosen) < len(decided.chosen):
        # Another claimer took some of them: replay the decisions for the ones really taken.
        final = book.copy()
        for row in chosen:
            final.try_take(row["flow"].get("r", []))
    else:
        final = decided.book
    await rate_limits.save(conn, tenant_id, final)
    await _stick(conn, tenant_id, ctx, specs, chosen)
    await _explain(conn, tenant_id, ctx, specs, decided.waits)
    _rotate(ctx.rotation, tenant_id, decided.examined, chosen)
    return FlowClaim(list(leased), decided.retry_in)


async def dequeue_runs(
    conn: asyncpg.Connection, tenant_id: uuid.UUID, run_ids: list[uuid.UUID]
) -> None:
    """Drop the flow queue rows of cancelled runs (the claim would skip them anyway)."""
    await conn.execute(queries.get("flow_dequeue_runs"), tenant_id, run_ids)


def _needs_live_workers(spec: WorkflowSpec, row: Row) -> bool:
    flow = spec.flow
    if flow is None:
        return False
    if flow.sticky == "soft" and row["sticky_worker_id"] is not None:
        return True
    return any(not rule.required for rule in flow.task(row["task_name"]).labels)


@dataclass(slots=True)
class _Decided:
    chosen: list[Row]
    waits: dict[uuid.UUID, tuple[Row, _Wait]]
    book: rate_limits.Book
    examined: list[Row]
    retry_in: float | None


def _decide(
    ordered: list[Row], specs: dict[uuid.UUID, WorkflowSpec],
    slots: concurrency.Slots, book: rate_limits.Book, affinity: Affinity, limit: int,
) -> _Decided:
    chosen: list[Row] = []
    waits: dict[uuid.UUID, tuple[Row, _Wait]] = {}
    examined: list[Row] = []
    retry_in: float | None = None
    sticky_now: dict[uuid.UUID, uuid.UUID] = {}
    for row in ordered:
        if len(chosen) >= limit:
            break
        examined.append(row)
        flow = specs[row["version_id"]].flow
        reason, hint, rate = None, None, None
        if flow is not None:
            rules = flow.task(row["task_name"]).labels
            reason, hint = affinity.check_labels(row["action"], rules, row["waited"])
            if reason is None:
                sticky_worker = row["sticky_worker_id"] or sticky_now.get(row["run_id"])
                reason, hint = affinity.check_sticky(flow.sticky, row["action"], sticky_worker,
                                                     row["waited"])
        if reason is None:
            reason = _concurrency_blocked(row, slots)
        if reason is None:
            reason, hint = book.try_take(row["flow"].get("r", []))
            rate = row["flow"].get("r") if reason is not None else None
        if reason is not None:
            waits[row["task_run_id"]] = (row, _Wait(reason, _rate_event(rate, book, hint)))
            if hint is not None:
                retry_in = hint if retry_in is None else min(retry_in, hint)
            continue
        chosen.append(row)
        for limit_ in row["flow"].get("c", ()):
            if not (limit_["o"] == "run" and slots.run_holds(limit_["k"], row["run_id"])):
                holder = row["run_id"] if limit_["o"] == "run" else row["task_run_id"]
                slots.add(limit_["k"], holder, row["run_id"], limit_["o"])
        if flow is not None and flow.sticky != "none":
            sticky_now.setdefault(row["run_id"], affinity.worker_id)
    return _Decided(chosen, waits, book, examined, retry_in)


def _concurrency_blocked(row: Row, slots: concurrency.Slots) -> str | None:
    for limit in row["flow"].get("c", ()):
        if limit["o"] == "run" and slots.run_holds(limit["k"], row["run_id"]):
            continue
        if slots.count(limit["k"]) >= limit["m"]:
            where = limit["k"].split("#", 1)[0]
            key = f"key {limit['v']!r}" if limit["v"] else "its plain cap"
            unit = "runs" if limit["o"] == "run" else "tasks"
            return f"concurrency: {where} {key} (max_runs {limit['m']} {unit} running)"
    return None


def _rate_event(
    uses: list[dict[str, Any]] | None, book: rate_limits.Book, hint: float | None
) -> dict[str, Any] | None:
    if not uses:
        return None
    for use in uses:
        limit = book.limits.get(use["k"])
        if limit is not None:
            return {"key": limit.key, "strategy": limit.strategy, "retry_after": hint}
    return {"key": uses[0]["k"], "strategy": None, "retry_after": hint}


async def _commit(
    conn: asyncpg.Connection, tenant_id: uuid.UUID, ctx: FlowContext, chosen: list[Row],
    garbage: list[int], slots: concurrency.Slots, lease_seconds: float,
) -> list[asyncpg.Record]:
    """Take and lease the chosen tasks, drop dead queue rows, record holds, forget stale ones."""
    holds: dict[tuple[str, uuid.UUID], tuple[uuid.UUID, uuid.UUID, str, str]] = {}
    for row in chosen:
        for limit in row["flow"].get("c", ()):
            holder = row["run_id"] if limit["o"] == "run" else row["task_run_id"]
            holds.setdefault((limit["k"], holder),
                             (row["task_run_id"], row["run_id"], limit["o"], limit["s"]))
    stale = [s for s in slots.stale if s not in holds]
    if not chosen and not garbage and not stale:
        return []
    items = list(holds.items())
    return list(await conn.fetch(
        queries.get("flow_commit"), tenant_id, [row["id"] for row in chosen] + garbage,
        ctx.worker_id, lease_seconds, [row["task_run_id"] for row in chosen],
        [key for key, _ in stale], [holder for _, holder in stale],
        [v[0] for _, v in items], [k[0] for k, _ in items], [k[1] for k, _ in items],
        [v[1] for _, v in items], [v[2] for _, v in items], [v[3] for _, v in items],
    ))


async def _stick(
    conn: asyncpg.Connection, tenant_id: uuid.UUID, ctx: FlowContext,
    specs: dict[uuid.UUID, WorkflowSpec], chosen: list[Row],
) -> None:
    """Sticky runs remember the worker that ran their first task."""
    sticky = list({row["run_id"] for row in chosen
                   if (flow := specs[row["version_id"]].flow) is not None
                   and flow.sticky != "none" and row["sticky_worker_id"] is None})
    if sticky:
        await conn.execute(queries.get("set_sticky"), tenant_id, sticky, ctx.worker_id)


async def _explain(
    conn: asyncpg.Connection, tenant_id: uuid.UUID, ctx: FlowContext,
    specs: dict[uuid.UUID, WorkflowSpec], waits: dict[uuid.UUID, tuple[Row, _Wait]],
) -> None:
    """Write each waiting task's reason (only when it changed); a task newly held back by a
    rate limit is a ``rate.limited`` outbox event when some plugin listens."""
    if not waits:
        return
    ids = list(waits)
    changed = await conn.fetch(queries.get("flow_wait"), tenant_id, ids,
                               [waits[i][1].reason for i in ids])
    if "rate.limited" not in ctx.events:
        return
    events = []
    for row in changed:
        source, wait = waits[row["id"]]
        if wait.rate is not None:
            events.append((tenant_id, "rate.limited", {
                **wait.rate, "run_id": str(row["run_id"]), "task": row["task_name"],
                "task_run_id": str(row["id"]),
                "workflow": specs[source["version_id"]].name,
            }))
    await write_outbox(conn, events)


def _rotate(
    rotation: Rotation, tenant_id: uuid.UUID, examined: list[Row],
    chosen: list[Row],
) -> None:
    """Next claim starts after the last group served (or, when none was, the last looked at)."""
    served = {row["action"] for row in chosen}
    last: dict[str, tuple[int, str]] = {}
    for row in chosen + [r for r in examined if r["action"] not in served]:
        current = last.get(row["action"])
        if current is None or row["turn"] >= current[0]:
            last[row["action"]] = (row["turn"], row["group_key"])
    for action, (_, group) in last.items():
        rotation.advance(tenant_id, action, group)
