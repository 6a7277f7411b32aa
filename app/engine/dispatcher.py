"""Long-poll wake-ups: one LISTEN connection per server process, parked polls hold none.

``pg_notify('kiln_queue', tenant_id)`` is sent in every transaction that queues work; here the
notification sets the events of that tenant's parked polls, which then claim. If the LISTEN
connection drops (Postgres restart), it reconnects with backoff and wakes every poll, so work
queued meanwhile is not missed.

The same connection carries ``kiln_api_keys`` (an API key was revoked or changed): it calls the
``key_listeners`` (the API-key cache's clear), as does every reconnect, since a notification
may have been missed while deaf.

And the wake-ups of idle loops (:meth:`app.core.loop.Loop.nudge`): ``kiln_outbox`` (outbox rows
were written: the relay), ``kiln_timers`` (a schedule or cron was created or changed: the
firers), ``kiln_sweeps`` (a durable timer due within :data:`SWEEPS_HORIZON` was set without
queueing work: the sweeper) and ``kiln_queue`` itself (work was queued: the sweeper, which
sleeps long only while nothing is queued or running). ``wakers`` of a channel are called on its
notification and on every (re)connect.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator

import asyncpg
import structlog

from app.engine import feed

CHANNEL = "kiln_queue"
KEYS_CHANNEL = "kiln_api_keys"
OUTBOX_CHANNEL = "kiln_outbox"
TIMERS_CHANNEL = "kiln_timers"
SWEEPS_CHANNEL = "kiln_sweeps"
SWEEPS_HORIZON = 10.0
"""A writer that sets a sweeper due time (a durable timer) sooner than this many seconds from
now without queueing work sends ``kiln_sweeps``; a quiet sweeper sleeps no longer than this.
(Not ``kiln_timers``: that would also wake the leader's firers, once per DAG trigger.)"""
log = structlog.get_logger("kiln.dispatcher")


class Dispatcher:
    def __init__(self, dsn: str, hub: feed.Hub | None = None) -> None:
        self._dsn = dsn
        self.hub = hub or feed.Hub()
        self._waiters: dict[str, set[asyncio.Event]] = defaultdict(set)
        self._task: asyncio.Task[None] | None = None
        self._connection: asyncpg.Connection | None = None
        self._stopping = False
        self.connected = asyncio.Event()
        self.key_listeners: list[Callable[[], None]] = []
        self.wakers: dict[str, list[Callable[[], None]]] = {
            CHANNEL: [], OUTBOX_CHANNEL: [], TIMERS_CHANNEL: [], SWEEPS_CHANNEL: []}

    @contextlib.contextmanager
    def waiter(self, tenant_id: uuid.UUID) -> Iterator[asyncio.Event]:
        """An event set whenever work is queued for ``tenant_id`` (register before claiming, so
        a notification between the claim and the wait is not lost)."""
        event = asyncio.Event()
        key = str(tenant_id)
        self._waiters[key].add(event)
        try:
            yield event
        finally:
            waiters = self._waiters.get(key)
            if waiters is not None:
                waiters.discard(event)
                if not waiters:
                    del self._waiters[key]

    def wake(self, tenant: str) -> None:
        for event in self._waiters.get(tenant, ()):
            event.set()

    def wake_all(self) -> None:
        for waiters in self._waiters.values():
            for event in waiters:
                event.set()

    def _on_notify(self, _c: object, _pid: int, _channel: str, payload: str) -> None:
        self.wake(payload)
        for waker in self.wakers[CHANNEL]:
            waker()

    def _keys_changed(self, *_: object) -> None:
        for listener in self.key_listeners:
            listener()

    def _wake_loops(self, _c: object, _pid: int, channel: str, _payload: str) -> None:
        for waker in self.wakers[channel]:
            waker()

    def _wake_all_loops(self) -> None:
        for channel in self.wakers:
            self._wake_loops(None, 0, channel, "")

    def start(self) -> None:
        self._task = asyncio.create_task(self._listen(), name="kiln-dispatcher")

    async def stop(self) -> None:
        self._stopping = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._connection is not None and not self._connection.is_closed():
            await self._connection.close()
        self.wake_all()
        self.hub.close_all()

    @staticmethod
    async def _until_closed(connection: asyncpg.Connection) -> None:
        closed = asyncio.Event()
        connection.add_termination_listener(lambda _c: closed.set())
        await closed.wait()

    async def _listen(self) -> None:
        delay = 0.2
        while not self._stopping:
            try:
                self._connection = await asyncpg.connect(self._dsn)
                await self._connection.add_listener(CHANNEL, self._on_notify)
                await self._connection.add_listener(
                    feed.CHANNEL, lambda _c, _p, _ch, payload: self.hub.on_notify(payload)
                )
                await self._connection.add_listener(KEYS_CHANNEL, self._keys_changed)
                for channel in self.wakers.keys() - {CHANNEL}:  # kiln_queue: _on_notify
                    await self._connection.add_listener(channel, self._wake_loops)
                self._keys_changed()  # a revocation may have been missed while deaf
                self._wake_all_loops()  # as may have a write the loops wait for
                self.connected.set()
                delay = 0.2
                self.wake_all()  # anything queued while we were deaf
                await self._until_closed(self._connection)
                log.warning("listen connection lost", action="dispatcher.disconnected")
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("listen connection failed", action="dispatcher.retry",
                            error=str(exc), retry_in=delay)
            self.connected.clear()
            self._keys_changed()
            self.wake_all()
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)
