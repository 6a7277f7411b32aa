"""The change feed behind the dashboard's live updates (Server-Sent Events).

Engine transactions end with one ``pg_notify('kiln_changes', …)`` per tenant naming the runs
that changed (and whether logs were added), or the workers that registered, stopped, were lost
or came back; every server process receives it on the dispatcher's
LISTEN connection and fans it out to that tenant's open streams. Each process keeps the last
events in a ring buffer, so a client reconnecting with ``Last-Event-ID`` catches up; when its
cursor is from another process or too old, it is told to ``reset`` (refetch what it shows).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import asyncpg
import msgspec

from app.engine import queries

CHANNEL = "kiln_changes"
MAX_IDS = 100  # beyond this a notification says "many runs changed" (runs: null)


async def publish(
    conn: asyncpg.Connection, changed: Iterable[tuple[uuid.UUID, uuid.UUID]], *,
    logs: bool = False,
) -> None:
    """Queue a notification per tenant for ``(tenant_id, run_id)`` pairs (sent at commit).

    Worker results queue theirs in the ``finish_tasks`` statement instead (one round trip less
    per batch), which builds the same payload in SQL: change both together."""
    by_tenant: dict[uuid.UUID, set[str]] = collections.defaultdict(set)
    for tenant_id, run_id in changed:
        by_tenant[tenant_id].add(str(run_id))
    for tenant_id, runs in by_tenant.items():
        await conn.execute(queries.get("notify_changes"), payload(tenant_id, runs, logs=logs))


def payload(tenant_id: uuid.UUID, run_ids: Iterable[str], *, logs: bool = False) -> str:
    """The notification that runs of a tenant changed: their ids sorted, None beyond
    :data:`MAX_IDS`."""
    runs = sorted(set(run_ids))
    body = {"tenant": str(tenant_id), "runs": runs if len(runs) <= MAX_IDS else None,
            "logs": logs}
    return msgspec.json.encode(body).decode()


def workers_payload(tenant_id: uuid.UUID, worker_ids: Iterable[uuid.UUID]) -> str:
    """The notification of workers that registered, stopped, were lost or came back."""
    ids = sorted({str(w) for w in worker_ids})
    payload = {"tenant": str(tenant_id), "workers": ids if len(ids) <= MAX_IDS else None}
    return msgspec.json.encode(payload).decode()


async def publish_workers(
    conn: asyncpg.Connection, changed: Iterable[tuple[uuid.UUID, uuid.UUID]]
) -> None:
    """Queue a notification per tenant for ``(tenant_id, worker_id)`` pairs (sent at commit)."""
    by_tenant: dict[uuid.UUID, set[uuid.UUID]] = collections.defaultdict(set)
    for tenant_id, worker_id in changed:
        by_tenant[tenant_id].add(worker_id)
    for tenant_id, workers in by_tenant.items():
        await conn.execute(queries.get("notify_changes"), workers_payload(tenant_id, workers))


@dataclass(frozen=True, slots=True)
class Change:
    seq: int
    tenant: str
    runs: list[str] | None
    logs: bool
    workers: list[str] | None = None
    """On a worker change (``about_workers``): their ids, None when too many to list."""
    about_workers: bool = False


class Hub:
    """In-process fan-out of change notifications to subscribers, per tenant."""

    def __init__(self, history: int = 10_000) -> None:
        self.process_id = uuid.uuid4().hex[:12]
        self._seq = itertools.count(1)
        self._recent: collections.deque[Change] = collections.deque(maxlen=history)
        self._subscribers: dict[str, set[asyncio.Queue[Change | None]]] = (
            collections.defaultdict(set)
        )

    def on_notify(self, payload: str) -> None:
        try:
            data = msgspec.json.decode(payload)
            change = Change(next(self._seq), data["tenant"], data.get("runs"),
                            bool(data.get("logs")), data.get("workers"), "workers" in data)
        except (msgspec.DecodeError, KeyError, TypeError):
            return
        self._recent.append(change)
        for queue in self._subscribers.get(change.tenant, ()):
            queue.put_nowait(change)

    def since(self, tenant: str, cursor: str | None) -> list[Change] | None:
        """Changes after ``cursor`` ("<process>:<seq>"), or None when they cannot be known."""
        if cursor is None:
            return []
        process, _, seq = cursor.partition(":")
        if process != self.process_id or not seq.isdigit():
            return None
        after = int(seq)
        if self._recent and self._recent[0].seq > after + 1:
            return None  # fell out of the buffer
        return [c for c in self._recent if c.seq > after and c.tenant == tenant]

    def cursor(self, change: Change) -> str:
        return f"{self.process_id}:{change.seq}"

    @contextlib.contextmanager
    def subscribe(self, tenant: str) -> Iterator[asyncio.Queue[Change | None]]:
        queue: asyncio.Queue[Change | None] = asyncio.Queue(maxsize=10_000)
        self._subscribers[tenant].add(queue)
        try:
            yield queue
        finally:
            self._subscribers[tenant].discard(queue)
            if not self._subscribers[tenant]:
                del self._subscribers[tenant]

    def close_all(self) -> None:
        for queues in self._subscribers.values():
            for queue in queues:
                queue.put_nowait(None)
