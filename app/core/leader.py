"""Leader election for singleton loops: a session advisory lock on a dedicated connection.

Every replica runs an elector; the one holding ``pg_try_advisory_lock(key)`` runs the singleton
loops. The lock lives as long as that connection: if the leader process dies, its connection
closes and Postgres releases the lock, and another replica takes over within ``retry_interval``.
If the leader loses its connection (Postgres restart, network), it stops its singleton loops at
once — it can no longer be sure it is the only leader — and competes again.
"""

from __future__ import annotations

import asyncio
import contextlib

import asyncpg
import structlog

from app.core.loop import Loop

log = structlog.get_logger("kiln.leader")
LEADER_LOCK = 0x6B6C6E01  # "kln" + 1


class LeaderElection:
    def __init__(self, dsn: str, loops: list[Loop], *, key: int = LEADER_LOCK,
                 retry_interval: float = 2.0, check_interval: float = 2.0) -> None:
        self._dsn = dsn
        self.loops = loops
        self._key = key
        self._retry = retry_interval
        self._check = check_interval
        self._task: asyncio.Task[None] | None = None
        self.is_leader = False
        self.changed = asyncio.Event()  # set on every gain or loss (tests wait on it)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="kiln-leader-election")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._step_down()

    async def _lead(self) -> None:
        self.is_leader = True
        self.changed.set()
        log.info("leader elected", action="leader.elected", loops=[lp.name for lp in self.loops])
        for loop in self.loops:
            loop.start()

    async def _step_down(self) -> None:
        if self.is_leader:
            self.is_leader = False
            self.changed.set()
            log.info("leadership released", action="leader.released")
            for loop in self.loops:
                await loop.stop()

    async def _run(self) -> None:
        while True:
            connection: asyncpg.Connection | None = None
            try:
                connection = await asyncpg.connect(self._dsn)
                while not await connection.fetchval(  # noqa: ASYNC110 — polls the database
                    "select pg_try_advisory_lock($1)", self._key
                ):
                    await asyncio.sleep(self._retry)
                await self._lead()
                while True:  # hold: prove the session (and so the lock) is still there
                    await asyncio.sleep(self._check)
                    await asyncio.wait_for(connection.fetchval("select 1"), self._check)
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("leader election connection failed", action="leader.retry",
                            error=str(exc))
            finally:
                await self._step_down()
                if connection is not None:
                    with contextlib.suppress(Exception):
                        await connection.close(timeout=1)
            await asyncio.sleep(self._retry)
