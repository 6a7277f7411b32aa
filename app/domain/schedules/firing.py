"""The cron ticker and the schedule firer: loops that start runs when their time comes.

Both claim due rows with ``FOR UPDATE SKIP LOCKED`` across tenants (as ``kiln_engine``), start
the run and move the row on **in the same transaction**, so every tick fires exactly once however
many replicas run the loop, and a crash before the commit leaves the tick due for the next pass.
Each row gets a savepoint: one failing trigger (say, a malformed input) records its error and
does not hold back the others. Tests pass ``now`` to :meth:`run_once` instead of waiting.

Missed ticks (the server was down, or the cron was claimed late): with ``missed='run_once'``
(the default) the ticks that were missed are coalesced into **one** run, for the latest of them;
with ``missed='skip'`` a tick more than :data:`GRACE` late is dropped. Either way the cron then
resumes at its first tick after now (``docs/triggers.md``).

Idle, a firer sleeps until its table's first due time, at most :data:`IDLE_INTERVAL` and at least
its ``interval``; creating or changing a schedule or cron sends ``kiln_timers``
(:mod:`app.domain.schedules.wakeup`), which wakes it at once to look again (:meth:`Loop.nudge`).
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import structlog
from cronsim import CronSimError

from app.core.errors import KilnError
from app.core.loop import Loop, LoopConfig
from app.db.tenancy import ENGINE
from app.domain.events.ingest import count_runs
from app.domain.schedules import cron
from app.engine import queries
from app.engine.queue import trigger
from app.engine.runtime import Engine

log = structlog.get_logger("kiln.schedules")

GRACE = dt.timedelta(seconds=60)
"""How late a tick may fire and still count as on time (``missed='skip'``)."""
MAX_CATCH_UP = 10_000
"""Missed ticks counted one by one before giving up counting (a tiny interval, a long outage)."""
IDLE_INTERVAL = 30.0
"""The longest idle sleep of a firer: the backstop should a ``kiln_timers`` wake-up be missed.
Every writer of a due time sends one in its transaction (:mod:`app.domain.schedules.wakeup`:
creating or changing a schedule or cron, enabling one, a workflow's ``on_crons``), and a firer
that firing moved on reads the next due time itself; a wake-up during a pass makes the loop look
again at once (:class:`app.core.loop.Loop`), and a reconnecting LISTEN connection wakes it too."""


@functools.cache
def sql(name: str) -> str:
    return queries.parse(Path(__file__).with_name("sql").joinpath("timers.sql").read_text())[name]


def idle_sleep(config: LoopConfig, due_in: float | None) -> float:
    """An idle firer's sleep: until ``due_in`` (seconds, None: nothing pending), capped by
    ``idle_interval``; never below ``interval`` (a due row another replica holds locked would
    otherwise make it spin)."""
    cap = config.idle_interval or config.interval
    return cap if due_in is None else max(config.interval, min(cap, due_in))


def plan_tick(
    expression: str, timezone: str, due: dt.datetime, now: dt.datetime, missed: str
) -> tuple[dt.datetime | None, int, dt.datetime]:
    """For a cron due at ``due``: ``(tick to fire or None, ticks skipped, next due time)``."""
    latest, skipped = due, 0
    following = cron.next_after(expression, timezone, due)
    while following <= now and skipped < MAX_CATCH_UP:
        latest, skipped = following, skipped + 1
        following = cron.next_after(expression, timezone, following)
    if following <= now:  # still behind after MAX_CATCH_UP ticks: jump to the present
        following = cron.next_after(expression, timezone, now)
    if missed == "skip" and now - latest > GRACE:
        return None, skipped + 1, following
    return latest, skipped, following


async def _start(
    engine: Engine, conn: asyncpg.Connection, tenant_id: uuid.UUID, workflow: str,
    input: Any, metadata: dict[str, Any],
) -> tuple[uuid.UUID | None, str | None]:
    """Trigger one run in a savepoint: ``(run id, None)`` or ``(None, error)``."""
    await conn.execute("SAVEPOINT start_run")
    try:
        (run,) = await trigger.trigger(engine.specs, conn, tenant_id, workflow, [
            trigger.RunRequest(input=input, metadata=metadata)])
    except (KilnError, asyncpg.PostgresError) as exc:
        await conn.execute("ROLLBACK TO SAVEPOINT start_run")
        message = exc.message if isinstance(exc, KilnError) else str(exc)
        return None, message[:1000]
    await conn.execute("RELEASE SAVEPOINT start_run")
    return run.run_id, None


class CronTicker(Loop):
    """Fires due crons. Safe in every replica."""

    name = "cron-ticker"

    def __init__(self, engine: Engine, config: LoopConfig | None = None,
                 batch_size: int = 100) -> None:
        super().__init__(config or LoopConfig(interval=1.0, idle_interval=IDLE_INTERVAL))
        self.engine = engine
        self.batch_size = batch_size
        self._due_in: float | None = None  # seconds to the first due cron, as of the last pass

    async def run_once(self, now: dt.datetime | None = None) -> int:
        """Handle one batch of due crons (as of ``now``, default the database's clock); return
        how many rows it handled (fired, skipped or initialised)."""
        async with self.engine.db.raw(ENGINE) as conn:
            rows = await conn.fetch(sql("claim_due_crons"), now, self.batch_size)
            started = [await self._tick(conn, row) for row in rows]
            if not rows:
                self._due_in = await conn.fetchval(sql("next_cron_in"))
        count_runs(self.engine, sum(started))
        return len(rows)

    def idle_delay(self) -> float:
        return idle_sleep(self.config, self._due_in)

    async def _tick(self, conn: asyncpg.Connection, row: asyncpg.Record) -> bool:
        """Fire (or skip, or initialise) one claimed cron; True when a run started."""
        tenant_id, cron_id, at = row["tenant_id"], row["id"], row["now"]
        try:
            if row["next_fire_at"] is None:  # registered before its time was computed
                following = cron.next_after(row["expression"], row["timezone"], at)
                await conn.execute(sql("cron_fired"), tenant_id, cron_id, following, None,
                                   None, None)
                return False
            tick, skipped, following = plan_tick(
                row["expression"], row["timezone"], row["next_fire_at"], at, row["missed"])
        except (KilnError, CronSimError, StopIteration) as exc:
            reason = f"cron disabled: {getattr(exc, 'message', None) or exc!r}"
            log.warning("cron disabled", action="cron.broken", cron_id=str(cron_id),
                        reason=reason)
            await conn.execute(sql("cron_broken"), tenant_id, cron_id, reason)
            return False
        run_id, error = None, None
        if tick is not None:
            metadata = {**row["metadata"], "cron_id": str(cron_id), "cron_tick": tick.isoformat()}
            if skipped:
                metadata["cron_missed_ticks"] = skipped
            run_id, error = await _start(self.engine, conn, tenant_id, row["workflow_name"],
                                         row["input"], metadata)
        log.info("cron tick", action="cron.fired" if run_id else "cron.skipped",
                 cron_id=str(cron_id), tick=tick.isoformat() if tick else None,
                 skipped=skipped, run_id=str(run_id) if run_id else None, error=error)
        await conn.execute(sql("cron_fired"), tenant_id, cron_id, following, tick, run_id, error)
        return run_id is not None


class ScheduleFirer(Loop):
    """Fires due one-off schedules. Safe in every replica."""

    name = "schedule-firer"

    def __init__(self, engine: Engine, config: LoopConfig | None = None,
                 batch_size: int = 100) -> None:
        super().__init__(config or LoopConfig(interval=0.5, idle_interval=IDLE_INTERVAL))
        self.engine = engine
        self.batch_size = batch_size
        self._due_in: float | None = None  # seconds to the first due schedule, as of the last pass

    async def run_once(self, now: dt.datetime | None = None) -> int:
        """Fire one batch of schedules due as of ``now`` (default: the database's clock)."""
        started = 0
        async with self.engine.db.raw(ENGINE) as conn:
            rows = await conn.fetch(sql("claim_due_schedules"), now, self.batch_size)
            if not rows:
                self._due_in = await conn.fetchval(sql("next_schedule_in"))
            for row in rows:
                metadata = {**row["metadata"], "schedule_id": str(row["id"])}
                run_id, error = await _start(self.engine, conn, row["tenant_id"],
                                             row["workflow_name"], row["input"], metadata)
                log.info("schedule fired", action="schedule.fired", schedule_id=str(row["id"]),
                         run_id=str(run_id) if run_id else None, error=error)
                await conn.execute(sql("schedule_fired"), row["tenant_id"], row["id"], run_id,
                                   error, row["now"])
                started += run_id is not None
        count_runs(self.engine, started)
        return len(rows)

    def idle_delay(self) -> float:
        return idle_sleep(self.config, self._due_in)
