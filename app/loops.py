"""The background loops a server process runs.

Two kinds (docs/operations.md, "Replicas"):

* ``everywhere`` — safe and useful in every replica: they claim work with ``FOR UPDATE SKIP
  LOCKED`` and spread the load (the sweeper, the alert sender);
* ``singleton`` — run by the elected leader only (a Postgres advisory lock, see
  :mod:`app.core.leader`): the outbox relay (keeps lifecycle events in order), crons and
  schedules, retention, the statistics analyzer and the webhook-delivery janitor. They are also
  SKIP LOCKED-safe, so a brief overlap during fail-over does no harm.
"""

from __future__ import annotations

from dataclasses import dataclass

from litestar.datastructures import State

from app.core.loop import Loop
from app.domain.alerts import loops as alert_loops
from app.domain.schedules.firing import CronTicker, ScheduleFirer
from app.domain.webhooks.retention import DeliveryJanitor
from app.engine.dispatcher import OUTBOX_CHANNEL, TIMERS_CHANNEL
from app.engine.loops import Analyzer, Sweeper
from app.engine.retention import Retention


@dataclass(frozen=True, slots=True)
class LoopSet:
    everywhere: list[Loop]
    singleton: list[Loop]


def build(state: State) -> LoopSet:
    """Instantiate every loop for this process, sharing ``state`` (db, settings, plugins); the
    idle relay and firers are woken by the NOTIFY of a write they wait for, the quiet sweeper
    and analyzer by ``kiln_queue`` (they register themselves with the dispatcher)."""
    relay, sender = alert_loops.build(state)
    crons, schedules = CronTicker(state.engine), ScheduleFirer(state.engine)
    wakers = state.engine.dispatcher.wakers
    wakers[OUTBOX_CHANNEL].append(relay.nudge)
    wakers[TIMERS_CHANNEL].extend([crons.nudge, schedules.nudge])
    return LoopSet(
        everywhere=[Sweeper(state.engine), sender],
        singleton=[relay, crons, schedules,
                   DeliveryJanitor(state.db), Retention(state.db),
                   Analyzer(state.db, dispatcher=state.engine.dispatcher)],
    )
