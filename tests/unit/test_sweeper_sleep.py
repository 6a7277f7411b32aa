"""How long the sweeper sleeps after a pass, from its last ``due_sweeps`` read (no I/O)."""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any

from app.core.loop import LoopConfig
from app.engine.config import EngineConfig
from app.engine.loops import Sweeper


def sweeper_after(**read: Any) -> Sweeper:
    engine: Any = SimpleNamespace(config=EngineConfig())
    sweeper = Sweeper(engine, LoopConfig(interval=0.5, idle_interval=5.0))
    due = dict.fromkeys(("leases", "deadlines", "schedules", "retries", "waits", "workers"))
    sweeper._due = {**due, "busy": False, **read}  # type: ignore[assignment]
    sweeper._read_at = time.monotonic()
    return sweeper


def test_quiet_with_nothing_pending_it_sleeps_the_idle_cap() -> None:
    assert sweeper_after().idle_delay() == 5.0


def test_busy_it_looks_again_within_its_interval() -> None:
    assert sweeper_after(busy=True, leases=30.0).idle_delay() == 0.5


def test_it_sleeps_until_the_first_due_time() -> None:
    assert 0 < sweeper_after(retries=0.2, workers=55.0).idle_delay() <= 0.2
    assert 1.9 < sweeper_after(waits=2.0).idle_delay() <= 2.0


def test_a_due_row_it_could_not_take_does_not_make_it_spin() -> None:
    assert sweeper_after(leases=-3.0, busy=True).idle_delay() == 0.5  # lease grace


def test_a_wake_up_during_a_quiet_pass_makes_it_look_again_at_once() -> None:
    sweeper = sweeper_after()
    sweeper.nudge()  # after the read began: the read may have missed what it announced
    assert sweeper.idle_delay() == 0


def test_a_busy_sweeper_ignores_wake_ups() -> None:
    sweeper = sweeper_after(busy=True)
    sweeper.nudge()
    assert sweeper.idle_delay() == 0.5
    assert not sweeper._nudged
