"""Worker affinity: desired labels (required or weighted) and sticky runs.

Required labels are hard: only a worker whose labels match claims the task. Weighted labels are
a preference: a worker scoring lower than the best live worker serving the action leaves the
task for ``preference_delay`` seconds after it was queued; then (or when no better worker is
live) anyone may take it. Sticky runs work the same way with the run's first worker: ``hard``
waits for it, ``soft`` prefers it for the same delay while it is live.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from app.engine.flow.spec import LabelRule


def label_matches(worker: Mapping[str, Any], name: str, wanted: object) -> bool:
    have = worker.get(name)
    if isinstance(have, bool) or isinstance(wanted, bool):
        return have is wanted
    return have is not None and have == wanted


def describe(rules: tuple[LabelRule, ...] | list[LabelRule]) -> str:
    return ", ".join(f"{rule.name}={rule.value}" for rule in rules)


def score(worker: Mapping[str, Any], rules: tuple[LabelRule, ...]) -> int:
    return sum(rule.weight for rule in rules
               if not rule.required and label_matches(worker, rule.name, rule.value))


@dataclass(frozen=True, slots=True)
class LiveWorker:
    id: uuid.UUID
    labels: Mapping[str, Any]
    actions: frozenset[str]


@dataclass(slots=True)
class Affinity:
    """What the claiming worker is, and the tenant's live workers (loaded only when needed)."""

    worker_id: uuid.UUID
    labels: Mapping[str, Any]
    delay: float
    live: list[LiveWorker] | None = None
    _best: dict[tuple[str, tuple[LabelRule, ...]], int] = field(default_factory=dict)

    def best_score(self, action: str, rules: tuple[LabelRule, ...]) -> int:
        assert self.live is not None
        key = (action, rules)
        if key not in self._best:
            self._best[key] = max((score(w.labels, rules) for w in self.live
                                   if action in w.actions), default=0)
        return self._best[key]

    def serves(self, worker_id: uuid.UUID, action: str) -> bool:
        assert self.live is not None
        return any(w.id == worker_id and action in w.actions for w in self.live)

    def check_labels(
        self, action: str, rules: tuple[LabelRule, ...], waited: float
    ) -> tuple[str | None, float | None]:
        """``(None, None)`` when this worker may take the task, else why not and, for a
        preference, seconds until others may take it."""
        required = [rule for rule in rules if rule.required]
        if any(not label_matches(self.labels, r.name, r.value) for r in required):
            return f"a worker with labels {describe(required)}", None
        preferred = tuple(rule for rule in rules if not rule.required)
        if preferred and waited < self.delay:
            mine = score(self.labels, preferred)
            if mine < self.best_score(action, preferred):
                return (f"prefers a worker with labels {describe(preferred)} (others after "
                        f"{self.delay:g} s)"), self.delay - waited
        return None, None

    def check_sticky(
        self, mode: str, action: str, sticky_worker: uuid.UUID | None, waited: float
    ) -> tuple[str | None, float | None]:
        if mode == "none" or sticky_worker is None or sticky_worker == self.worker_id:
            return None, None
        if mode == "hard":
            return f"its run's sticky worker {sticky_worker} (sticky: hard)", None
        if waited < self.delay and self.serves(sticky_worker, action):
            return (f"prefers its run's worker {sticky_worker} (sticky: soft, others after "
                    f"{self.delay:g} s)"), self.delay - waited
        return None, None
