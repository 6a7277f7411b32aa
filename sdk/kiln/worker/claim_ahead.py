"""How many tasks a worker claims beyond its slots, so its slots do not idle during a poll.

A poll takes a round trip; a worker that polls only once its slots are free leaves them empty
for that round trip, which for short tasks is most of the time (a no-op task takes microseconds,
a poll milliseconds). Like a TCP window sized to the bandwidth-delay product, the worker may
hold as many tasks beyond its slots as its slots finish during one poll round trip: those wait
locally (their leases heartbeated) and start the moment a slot frees, while the next poll is
already on its way. Long tasks finish few per round trip, so they get no claim-ahead and never
sit in one worker's hands while another worker idles; the claim-ahead is also capped at
``slots``.
"""

from __future__ import annotations

import math

_WEIGHT = 0.2  # of a new sample in the moving averages: a few polls / tasks of memory


class ClaimAhead:
    """Moving averages of the poll round trip and of task run time, and the claim-ahead they
    imply. Measures only: the worker decides when to poll."""

    def __init__(self, slots: int) -> None:
        self.slots = slots
        self.round_trip: float | None = None
        """Seconds of a poll that came back full (a poll that waits for work measures nothing)."""
        self.run_time: float | None = None
        """Seconds a task takes from start to result."""

    def poll_returned(self, seconds: float, asked: int, got: int) -> None:
        """A poll for ``asked`` tasks returned ``got`` after ``seconds``."""
        if got >= asked > 0:
            self.round_trip = _average(self.round_trip, seconds)

    def task_ran(self, seconds: float) -> None:
        self.run_time = _average(self.run_time, seconds)

    def tasks(self) -> int:
        """Tasks to claim beyond the slots: what the slots finish during one poll round trip."""
        if self.round_trip is None or self.run_time is None:
            return 0
        if self.run_time <= 0:
            return self.slots
        return min(self.slots, math.floor(self.slots * self.round_trip / self.run_time + 0.5))


def _average(current: float | None, sample: float) -> float:
    return sample if current is None else current + _WEIGHT * (sample - current)
