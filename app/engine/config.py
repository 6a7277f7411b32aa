"""Engine timings, derived from settings once per process."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class EngineConfig:
    lease_seconds: float = 30.0
    """A claimed task's lease; heartbeats extend it. Missed for this long → the task is queued
    again (at-least-once)."""
    heartbeat_interval: float = 10.0
    """How often workers heartbeat (told at registration): a third of the lease."""
    max_poll_wait: float = 20.0
    """Longest a worker's poll is parked waiting for work."""
    max_rescues: int = 3
    """Lost leases tolerated per task before it fails (a poison task that kills its worker)."""
    sweep_batch: int = 500
    """Rows per pass of the lease, deadline and retry sweeps."""
    worker_lost_after: float = 60.0
    """A worker silent for this long (no poll, no heartbeat) is shown as lost."""
    preference_delay: float = 5.0
    """Seconds a task with preferred (weighted) labels or a soft-sticky run waits for its
    preferred worker before any worker may take it (docs/flow-control.md)."""
