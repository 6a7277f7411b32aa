"""The JSON shapes of docs/protocol.md, as TypedDicts, and the calls that carry them.

This module is the SDK's whole knowledge of routes and field names: everything else goes
through these functions, so a protocol change lands in one place.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal, NotRequired, TypedDict
from urllib.parse import quote

import httpx

from kiln import serialization
from kiln import transport as _transport

RunStatus = Literal["pending", "queued", "running", "succeeded", "failed", "cancelled"]
TERMINAL_STATUSES: frozenset[str] = frozenset({"succeeded", "failed", "cancelled"})


class TaskSpec(TypedDict):
    """One task of a workflow definition (``POST /api/v1/workflows``)."""

    name: str
    parents: list[str]
    retries: int
    backoff_factor: float
    backoff_max_seconds: float
    execution_timeout: float
    schedule_timeout: NotRequired[float]
    durable: NotRequired[bool]
    concurrency: NotRequired[int | list[dict[str, Any]]]  # flow control (kiln.flow)
    rate_limits: NotRequired[list[dict[str, Any]]]
    desired_labels: NotRequired[dict[str, dict[str, Any]]]


class WorkflowSpec(TypedDict):
    """A workflow definition as registered."""

    name: str
    description: NotRequired[str]
    on_events: list[str]
    on_crons: list[str]
    event_filter: NotRequired[str]
    tasks: list[TaskSpec]
    on_failure: NotRequired[TaskSpec]
    on_success: NotRequired[TaskSpec]
    concurrency: NotRequired[int | list[dict[str, Any]]]  # flow control (kiln.flow)
    default_priority: NotRequired[int]
    sticky: NotRequired[str]


class Registration(TypedDict):
    """The server's reply to a worker registration."""

    id: str
    heartbeat_interval: float
    lease_seconds: float
    max_poll_wait: float


class Assignment(TypedDict):
    """One claimed task, as a poll returns it."""

    task_run_id: str
    lease_id: str
    run_id: str
    workflow: str
    task: str
    action: str
    attempt: int
    input: Any
    metadata: dict[str, Any]
    parents: dict[str, Any]
    execution_timeout: float
    errors: NotRequired[dict[str, str]]
    durable_log: NotRequired[list[dict[str, Any]]]
    skipped_parents: NotRequired[list[str]]


class Lease(TypedDict):
    """The pair that fences every write about a claimed task."""

    task_run_id: str
    lease_id: str


class Result(Lease):
    """The outcome of one claimed task."""

    status: Literal["succeeded", "failed", "released"]
    output: NotRequired[Any]
    error: NotRequired[str]
    traceback: NotRequired[str]
    retryable: NotRequired[bool]


class LogLine(Lease):
    """One ``ctx.log()`` line."""

    at: str
    level: str
    message: str


def _path(*parts: str) -> str:
    return "/api/v1/" + "/".join(quote(part, safe="") for part in parts)


async def register_workflow(t: _transport.Transport, spec: WorkflowSpec) -> dict[str, Any]:
    """Register (or re-register, idempotently) one workflow definition."""
    reply: dict[str, Any] = await t.request(
        "POST", _path("workflows"), body=spec, what=f"definition of workflow {spec['name']!r}")
    return reply


async def trigger(t: _transport.Transport, workflow: str, body: Mapping[str, Any],
                  idempotency_key: str) -> dict[str, Any]:
    """Start one run (``body`` from ``run_body``). The idempotency key makes the retry of a lost
    reply return the same run."""
    reply: dict[str, Any] = await t.request(
        "POST", _path("workflows", workflow, "runs"), body=body,
        headers={"Idempotency-Key": idempotency_key})
    return reply


def run_body(workflow: str, input: Any, metadata: Mapping[str, Any] | None,
             priority: int | None = None, key: str | None = None) -> dict[str, Any]:
    """``{"input", "metadata"?, "priority"?, "key"?}`` converted to JSON, so an error names the
    input's own path."""
    body = {"input": serialization.to_jsonable(input, f"input of workflow {workflow!r}")}
    if metadata is not None:
        body["metadata"] = serialization.to_jsonable(metadata, f"metadata of workflow {workflow!r}")
    if priority is not None:
        if isinstance(priority, bool) or priority not in (1, 2, 3):
            raise ValueError(f"priority must be 1 (low), 2 (normal) or 3 (high), got {priority!r}")
        body["priority"] = priority
    if key is not None:
        body["key"] = key
    return body


async def trigger_bulk(t: _transport.Transport, workflow: str,
                       runs: Sequence[Mapping[str, Any]]) -> list[str]:
    """Start many runs in one transaction; returns their ids in order."""
    reply = await t.request("POST", _path("workflows", workflow, "runs", "bulk"),
                            body={"runs": list(runs)}, what=f"inputs of workflow {workflow!r}",
                            idempotent=False)
    return [str(run_id) for run_id in reply["ids"]]


async def replay_run(t: _transport.Transport, run_id: str, from_task: str | None) -> None:
    """Queue a finished run again, whole or from one task on."""
    body = {} if from_task is None else {"from_task": from_task}
    await t.request("POST", _path("runs", run_id, "replay"), body=body, idempotent=False)


async def get_run(t: _transport.Transport, run_id: str) -> dict[str, Any]:
    """The run with its tasks."""
    reply: dict[str, Any] = await t.request("GET", _path("runs", run_id))
    return reply


async def cancel_run(t: _transport.Transport, run_id: str) -> None:
    """Ask the server to cancel a run (its running tasks learn it through heartbeats)."""
    await t.request("POST", _path("runs", run_id, "cancel"))


async def create_schedule(t: _transport.Transport, body: Mapping[str, Any]) -> dict[str, Any]:
    """Schedule one run of a workflow at a time ``{workflow, at, input, metadata?}``."""
    reply: dict[str, Any] = await t.request(
        "POST", _path("schedules"), body=body, what=f"schedule of {body.get('workflow')!r}",
        idempotent=False)
    return reply


async def push_event(t: _transport.Transport, event: Mapping[str, Any]) -> dict[str, Any]:
    """Push one event ``{key, payload, metadata?}``; the reply lists the runs it started."""
    reply: dict[str, Any] = await t.request(
        "POST", _path("events"), body=event, what=f"event {event.get('key')!r}", idempotent=False)
    return reply


async def push_events(t: _transport.Transport,
                      events: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Push many events in one request."""
    reply: dict[str, Any] = await t.request(
        "POST", _path("events", "bulk"), body={"events": list(events)}, what="events",
        idempotent=False)
    return reply


async def register_worker(t: _transport.Transport, name: str, actions: Sequence[str], slots: int,
                          labels: Mapping[str, Any]) -> Registration:
    """Announce a worker and the actions it can run."""
    body = {"name": name, "actions": list(actions), "slots": slots, "labels": dict(labels)}
    reply: Registration = await t.request("POST", _path("workers"), body=body,
                                          what="worker registration")
    return reply


async def poll(t: _transport.Transport, worker_id: str, max_tasks: int,
               wait: float) -> list[Assignment]:
    """Long-poll for up to ``max_tasks`` tasks. httpx's read timeout must outlast ``wait``."""
    reply = await t.request(
        "POST", _path("workers", worker_id, "poll"), body={"max_tasks": max_tasks, "wait": wait},
        http_timeout=httpx.Timeout(30.0, connect=10.0, read=wait + 10.0))
    tasks: list[Assignment] = reply["tasks"]
    return tasks


async def heartbeat(t: _transport.Transport, worker_id: str, leases: Sequence[Lease],
                    retry: _transport.RetryPolicy) -> list[str]:
    """Extend the leases of running tasks; returns the task runs the worker must stop."""
    reply = await t.request("POST", _path("workers", worker_id, "heartbeat"),
                            body={"tasks": list(leases)}, retry=retry)
    return [str(task_run_id) for task_run_id in reply.get("cancel", [])]


async def post_results(t: _transport.Transport, worker_id: str,
                       results: Sequence[Result]) -> dict[str, list[str]]:
    """Report finished (or released) tasks; fenced results come back in ``rejected``."""
    reply: dict[str, list[str]] = await t.request(
        "POST", _path("workers", worker_id, "results"), body={"results": list(results)},
        what="task results")
    return reply


async def post_logs(t: _transport.Transport, worker_id: str, lines: Sequence[LogLine]) -> None:
    """Ship buffered ``ctx.log()`` lines."""
    await t.request("POST", _path("workers", worker_id, "logs"), body={"lines": list(lines)},
                    what="task log lines")


async def refresh_timeout(t: _transport.Transport, worker_id: str, lease: Lease,
                          seconds: float) -> None:
    """Let a running task run at least ``seconds`` more (409 once its lease is gone)."""
    await t.request("POST", _path("workers", worker_id, "refresh-timeout"),
                    body={**lease, "seconds": seconds})


async def spawn(t: _transport.Transport, worker_id: str, lease: Lease, workflow: str,
                children: Sequence[Mapping[str, Any]]) -> list[str]:
    """Start child runs of a running task; a child with a key the task already spawned (say, on
    a retry) is the existing run."""
    reply = await t.request("POST", _path("workers", worker_id, "spawn"),
                            body={**lease, "workflow": workflow, "children": list(children)},
                            what=f"children of workflow {workflow!r}")
    return [str(run["id"]) for run in reply["runs"]]


async def durable_step(t: _transport.Transport, worker_id: str, lease: Lease, seq: int,
                       kind: str, name: str, result: Any) -> Any:
    """Record a durable task's completed call; the reply holds what the log keeps at ``seq``."""
    reply = await t.request("POST", _path("workers", worker_id, "durable", "steps"),
                            body={**lease, "seq": seq, "kind": kind, "name": name,
                                  "result": result})
    return reply["result"]


async def durable_wait(t: _transport.Transport, worker_id: str, lease: Lease, seq: int,
                       name: str, conditions: Mapping[str, Any],
                       timeout_seconds: float | None) -> dict[str, Any]:
    """Register a durable wait: ``{"satisfied": true, "result"}`` or ``{"suspended": true}``."""
    body: dict[str, Any] = {**lease, "seq": seq, "name": name, "conditions": dict(conditions)}
    if timeout_seconds is not None:
        body["timeout"] = timeout_seconds
    reply: dict[str, Any] = await t.request(
        "POST", _path("workers", worker_id, "durable", "wait"), body=body)
    return reply


async def delete_worker(t: _transport.Transport, worker_id: str) -> None:
    """Say goodbye on graceful shutdown."""
    await t.request("DELETE", _path("workers", worker_id))
