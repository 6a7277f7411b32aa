"""Engine loops: the sweeper that takes back expired leases, fails tasks past their execution
timeout, queues due retries and marks silent workers lost. Safe in every replica."""

from __future__ import annotations

from app.core.loop import Loop, LoopConfig
from app.db.tenancy import ENGINE
from app.engine.durable import waits
from app.engine.queue import sweeps
from app.engine.runtime import Engine


class Sweeper(Loop):
    name = "sweeper"

    def __init__(self, engine: Engine, config: LoopConfig | None = None) -> None:
        super().__init__(config or LoopConfig(interval=0.5))
        self.engine = engine
        self.batch_size = engine.config.sweep_batch

    async def run_once(self) -> int:
        engine = self.engine
        async with engine.db.raw(ENGINE) as conn:
            handled = await sweeps.expire_leases(engine.specs, conn, engine.config, engine.events)
            handled = max(handled, await sweeps.expire_deadlines(
                engine.specs, conn, engine.config, engine.events))
            handled = max(handled, await sweeps.expire_schedules(
                engine.specs, conn, engine.config, engine.events))
            handled = max(handled, await sweeps.queue_due_retries(conn, engine.config))
            handled = max(handled, await waits.sweep(conn, engine.config.sweep_batch))
            await sweeps.lose_silent_workers(conn, engine.config, engine.events)
        return handled
