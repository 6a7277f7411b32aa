"""The background loops a server process runs (lease reaper, timers, outbox relay, …).

Each is safe to run in every replica (they claim work with ``FOR UPDATE SKIP LOCKED``) unless it
says otherwise. ``create_app`` starts them after the pools connect and stops them first on exit.
"""

from __future__ import annotations

from litestar.datastructures import State

from app.core.loop import Loop
from app.domain.alerts import loops as alert_loops
from app.domain.schedules.firing import CronTicker, ScheduleFirer
from app.domain.webhooks.retention import DeliveryJanitor
from app.engine.loops import Sweeper


def build(state: State) -> list[Loop]:
    """Instantiate every loop for this process, sharing ``state`` (db, settings, plugins)."""
    return [
        Sweeper(state.engine), *alert_loops.build(state),
        CronTicker(state.engine), ScheduleFirer(state.engine), DeliveryJanitor(state.db),
    ]
