"""Durable tasks: ``@kiln.durable_task`` / ``@wf.durable_task`` get a :class:`DurableContext`
whose calls (steps, sleeps, event waits, spawns) are logged on the server. A wait suspends the
task without holding a worker slot; when it is satisfied the task runs again from the top and
every logged call returns its recorded result instead of running again (docs/durable.md).

Determinism rule: between attempts, a durable task must make the same durable calls, in the
same order, with the same names. Anything that may differ (time, randomness, I/O) goes inside
``ctx.step``.
"""

from __future__ import annotations

import datetime as dt
import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, TypeVar

from kiln import context, durations, errors, runs, serialization

T = TypeVar("T")
Condition = dict[str, Any]


class NonDeterminismError(errors.NonRetryableError):
    """The task's durable calls differ from its log: the code changed between attempts (or
    depends on something outside ``ctx.step``). The attempt fails without a retry."""


class Suspended(BaseException):
    """Raised by a wait that suspended the task: unwinds the task body (``except Exception``
    does not catch it) and tells the worker to free the slot without a result."""


class DurableRuntime(Protocol):
    """What a ``DurableContext`` needs from its worker: the durable protocol calls."""

    async def durable_step(self, seq: int, kind: str, name: str, result: Any) -> Any:
        """Record a completed call; return the result the log holds at ``seq``."""

    async def durable_wait(self, seq: int, name: str, conditions: Mapping[str, Any],
                           timeout_seconds: float | None) -> Mapping[str, Any]:
        """Register a wait: ``{"satisfied": True, "result"}`` or ``{"suspended": True}``."""


# Conditions for ctx.wait_for -------------------------------------------------------------


def sleep(duration: durations.Duration) -> Condition:
    """Met ``duration`` after the wait is first registered (a replay does not restart it)."""
    return {"sleep_for": durations.parse(duration)}


def sleep_until(when: dt.datetime) -> Condition:
    """Met at ``when`` (a time-zone-aware datetime)."""
    if when.tzinfo is None:
        raise ValueError("sleep_until needs a time-zone-aware datetime (e.g. tz=datetime.UTC)")
    return {"sleep_until": when.isoformat()}


def event(key: str, *, filter: str | None = None, scope: str | None = None) -> Condition:
    """Met by an event ``key`` pushed after the task's previous durable call; ``filter`` is a
    CEL expression over ``payload``, ``metadata`` and ``key``; ``scope`` must equal the
    event's ``metadata["scope"]``."""
    condition: Condition = {"event": key}
    if filter is not None:
        condition["filter"] = filter
    if scope is not None:
        condition["scope"] = str(scope)
    return condition


def any_of(*conditions: Condition) -> Condition:
    """Satisfied when one of ``conditions`` is met."""
    return {"any_of": list(conditions)}


def all_of(*conditions: Condition) -> Condition:
    """Satisfied when every one of ``conditions`` is met."""
    return {"all_of": list(conditions)}


def _name_of(conditions: Condition) -> str:
    items = conditions.get("any_of") or conditions.get("all_of") or []
    parts = ["sleep" if "sleep_for" in c or "sleep_until" in c else f"event:{c['event']}"
             for c in items]
    return ("|" if "any_of" in conditions else "&").join(parts)[:255] or "wait"


class DurableContext(context.Context):
    """The ``Context`` of a durable task, with logged, replayable calls (all async)."""

    def __init__(self, *, durable_log: Sequence[Mapping[str, Any]] = (),
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._durable_log = {int(e["seq"]): e for e in durable_log}
        self._seq = 0

    def _durable(self) -> DurableRuntime:
        runtime = self._need_runtime()
        if not hasattr(runtime, "durable_wait"):
            raise RuntimeError("this runtime does not support durable tasks")
        return runtime  # type: ignore[return-value]

    def _next(self, kind: str, name: str) -> tuple[int, Mapping[str, Any] | None]:
        """The next call's seq and, when replaying, its logged entry (checked to match)."""
        self._seq += 1
        entry = self._durable_log.get(self._seq)
        if entry is not None and (entry["kind"], entry["name"]) != (kind, name):
            raise NonDeterminismError(
                f"durable task {self.workflow_name}:{self.task_name}: call #{self._seq} is "
                f"{kind} {name!r}, but the log recorded {entry['kind']} {entry['name']!r} "
                "there — the task's code changed between attempts, or its durable calls depend "
                "on something outside ctx.step (docs/durable.md)")
        return self._seq, entry

    async def step(self, name: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run ``fn(*args, **kwargs)`` (sync or async) once and log its JSON result; when the
        task resumes, return the logged result without calling ``fn`` again."""
        seq, entry = self._next("step", name)
        if entry is not None:
            return entry["result"]
        value = fn(*args, **kwargs)
        if inspect.isawaitable(value):
            value = await value
        payload = serialization.to_jsonable(value, f"result of step {name!r}")
        return await self._durable().durable_step(seq, "step", name, payload)

    async def wait_for(
        self, conditions: Condition, *,
        timeout: durations.Duration | None = None,  # noqa: ASYNC109 - kept by the server
        name: str | None = None,
    ) -> dict[str, Any]:
        """Wait until ``conditions`` (``any_of``/``all_of`` of ``sleep``, ``sleep_until``,
        ``event``) hold, or ``timeout`` passes. Returns ``{"timed_out", "matched"}``: one entry
        per condition, None for those not met (an event's is ``{"event": {...}}``).

        The task is suspended meanwhile: its slot is freed, and it runs again from the top when
        the wait is satisfied."""
        items = conditions.get("any_of") or conditions.get("all_of") or []
        kind = "sleep" if items and all("event" not in c for c in items) else "wait"
        label = name or _name_of(conditions)
        seq, entry = self._next(kind, label)
        if entry is not None:
            return dict(entry["result"])
        seconds = None if timeout is None else durations.parse(timeout)
        reply = await self._durable().durable_wait(seq, label, conditions, seconds)
        if reply.get("satisfied"):
            return dict(reply["result"])
        raise Suspended(f"waiting for {label}")

    async def sleep_for(self, duration: durations.Duration) -> None:
        """Sleep durably: the time counts from the first time this call was reached."""
        await self.wait_for(any_of(sleep(duration)), name="sleep")

    async def sleep_until(self, when: dt.datetime) -> None:
        """Sleep durably until ``when``."""
        await self.wait_for(any_of(sleep_until(when)), name="sleep")

    async def wait_for_event(
        self, key: str, *, filter: str | None = None, scope: str | None = None,
        timeout: durations.Duration | None = None,  # noqa: ASYNC109 - kept by the server
    ) -> dict[str, Any] | None:
        """Wait for an event ``key`` (see :func:`event`); return it as ``{"id", "key",
        "payload", "metadata", "created_at"}``, or None when ``timeout`` passed first."""
        result = await self.wait_for(any_of(event(key, filter=filter, scope=scope)),
                                     timeout=timeout, name=f"event:{key}")
        if result["timed_out"]:
            return None
        found: dict[str, Any] = result["matched"][0]["event"]
        return found

    async def aio_spawn_many(self, workflow: Any,
                             inputs: Sequence[Any]) -> list[runs.RunRef[Any]]:
        """Start child runs once: a resumed task gets the same runs back from its log."""
        target, extract = context._target(workflow)
        seq, entry = self._next("spawn", f"spawn:{target}")
        if entry is None:
            requests = [i if isinstance(i, runs.RunRequest) else runs.RunRequest(i)
                        for i in inputs]
            keyed = [runs.RunRequest(r.input, r.metadata, r.key or f"durable:{seq}:{index}",
                                     r.priority) for index, r in enumerate(requests)]
            refs = await super().aio_spawn_many(workflow, keyed)
            ids = await self._durable().durable_step(seq, "spawn", f"spawn:{target}",
                                                     [ref.id for ref in refs])
        else:
            ids = entry["result"]
        runtime = self._need_runtime()
        return [runtime.make_ref(target, str(run_id), extract) for run_id in ids]
