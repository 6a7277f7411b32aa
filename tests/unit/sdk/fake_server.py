"""An in-memory stand-in for the Kiln API, driven through ``httpx.MockTransport``.

It implements enough of docs/protocol.md (registration, triggers, DAG release, long-poll,
heartbeats, results, logs) for the SDK's unit tests to run a real worker with no network. Calls
arrive from several event loops (the test's, the heartbeat thread's, the sync facade's), so the
state sits behind a threading lock and parked polls are woken thread-safely.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass
class Parked:
    loop: asyncio.AbstractEventLoop
    event: asyncio.Event


@dataclass
class FakeServer:
    heartbeat_interval: float = 0.05
    lease_seconds: float = 5.0
    max_poll_wait: float = 5.0
    workflows: dict[str, dict[str, Any]] = field(default_factory=dict)
    workers: dict[str, dict[str, Any]] = field(default_factory=dict)
    deleted_workers: list[str] = field(default_factory=list)
    runs: dict[str, dict[str, Any]] = field(default_factory=dict)
    queue: list[dict[str, Any]] = field(default_factory=list)
    leases: dict[str, dict[str, Any]] = field(default_factory=dict)
    results: list[dict[str, Any]] = field(default_factory=list)
    result_batches: list[int] = field(default_factory=list)
    logs: list[dict[str, Any]] = field(default_factory=list)
    heartbeats: list[list[dict[str, Any]]] = field(default_factory=list)
    requests: list[tuple[str, str]] = field(default_factory=list)
    trigger_keys: list[str | None] = field(default_factory=list)
    cancel_next: set[str] = field(default_factory=set)
    refreshes: list[tuple[str, float]] = field(default_factory=list)
    children: dict[tuple[str, str], str] = field(default_factory=dict)
    status_overrides: dict[str, list[int]] = field(default_factory=dict)
    api_key: str = "test-key"
    on_poll: Any = None
    polls_in_flight: int = 0
    max_polls_in_flight: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._parked: list[Parked] = []
        self._ids = itertools.count(1)
        self.changed = threading.Condition(self._lock)

    # -- wiring -------------------------------------------------------------------------------
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def fail(self, route: str, *statuses: int) -> None:
        """Answer the next calls to routes ending with ``route`` (e.g. ``"/heartbeat"``) with
        these statuses before behaving normally again."""
        self.status_overrides.setdefault(route, []).extend(statuses)

    def wait_for(self, predicate: Any, timeout: float = 10.0) -> None:
        """Block (in a thread) until ``predicate()`` holds; state changes notify."""
        with self.changed:
            if not self.changed.wait_for(predicate, timeout):
                raise AssertionError("fake server: condition not reached in time")

    async def until(self, predicate: Any, seconds: float = 10.0) -> None:
        await asyncio.to_thread(self.wait_for, predicate, seconds)

    def finish(self, run_id: str, status: str, output: Any = None,
               errors: dict[str, str] | None = None) -> None:
        """End a run as if workers had run it."""
        with self.changed:
            run = self.runs[run_id]
            run["output"] = output
            for name, error in (errors or {}).items():
                run["tasks"][name].update(status="failed", error=error)
            self._finish_run(run, status)
            self.changed.notify_all()

    async def handle(self, request: httpx.Request) -> httpx.Response:
        route = f"{request.method} {request.url.path}"
        with self._lock:
            self.requests.append((request.method, request.url.path))
            overrides = next((statuses for key, statuses in self.status_overrides.items()
                              if route.endswith(key) and statuses), None)
            if overrides:
                status = overrides.pop(0)
                return httpx.Response(status, json={"error": {"code": "injected",
                                                              "message": f"injected {status}"}})
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return _error(401, "unauthorized", "invalid API key")
        body = json.loads(request.content) if request.content else None
        parts = request.url.path.removeprefix("/api/v1/").split("/")
        if parts[0] == "workers" and len(parts) == 3 and parts[2] == "poll":
            return await self._poll(parts[1], body)
        with self.changed:
            response = self._dispatch(request, parts, body)
            self.changed.notify_all()
        return response

    def _dispatch(self, request: httpx.Request, parts: list[str], body: Any) -> httpx.Response:
        method = request.method
        if method == "POST" and parts == ["workflows"]:
            return self._register_workflow(body)
        if method == "POST" and parts[0] == "workflows" and parts[2:] == ["runs"]:
            self.trigger_keys.append(request.headers.get("Idempotency-Key"))
            return self._trigger(parts[1], body["input"], body.get("metadata") or {})
        if method == "POST" and parts[0] == "workflows" and parts[2:] == ["runs", "bulk"]:
            ids = [self._trigger(parts[1], run["input"], run.get("metadata") or {})
                   .json()["id"] for run in body["runs"]]
            return httpx.Response(201, json={"ids": ids})
        if method == "GET" and parts[0] == "runs" and len(parts) == 2:
            run = self.runs.get(parts[1])
            return httpx.Response(200, json=_public(run)) if run else _error(404, "not_found",
                                                                              "no such run")
        if method == "POST" and parts[0] == "runs" and parts[2:] == ["cancel"]:
            self._finish_run(self.runs[parts[1]], "cancelled")
            return httpx.Response(200, json={"id": parts[1], "status": "cancelled"})
        if method == "POST" and parts == ["workers"]:
            worker_id = str(uuid.uuid4())
            self.workers[worker_id] = body
            return httpx.Response(201, json={
                "id": worker_id, "heartbeat_interval": self.heartbeat_interval,
                "lease_seconds": self.lease_seconds, "max_poll_wait": self.max_poll_wait})
        if method == "DELETE" and parts[0] == "workers":
            self.deleted_workers.append(parts[1])
            return httpx.Response(204)
        if parts[0] == "workers" and parts[1] not in self.workers:
            return _error(404, "not_found", "no such worker")
        if parts[2:] == ["heartbeat"]:
            self.heartbeats.append(body["tasks"])
            cancel = [t["task_run_id"] for t in body["tasks"] if t["task_run_id"] in
                      self.cancel_next]
            self.cancel_next -= set(cancel)
            return httpx.Response(200, json={"cancel": cancel})
        if parts[2:] == ["results"]:
            self.result_batches.append(len(body["results"]))
            return httpx.Response(200, json=self._apply_results(body["results"]))
        if parts[2:] == ["refresh-timeout"]:
            lease = self.leases.get(body["task_run_id"])
            if lease is None or lease["lease_id"] != body["lease_id"]:
                return _error(409, "conflict", "the task is no longer running under this lease")
            self.refreshes.append((body["task_run_id"], body["seconds"]))
            return httpx.Response(204)
        if parts[2:] == ["spawn"]:
            return self._spawn(body)
        if parts[2:] == ["logs"]:
            self.logs.extend(body["lines"])
            return httpx.Response(202)
        if method == "POST" and parts == ["events"]:
            runs = [self._trigger(name, body["payload"], {}).json()["id"]
                    for name, wf in self.workflows.items() if body["key"] in wf["on_events"]]
            return httpx.Response(201, json={"id": "event-1", "runs": runs})
        return _error(404, "not_found", f"fake server has no route {method} {request.url.path}")

    # -- workflows and runs -------------------------------------------------------------------
    def _register_workflow(self, spec: dict[str, Any]) -> httpx.Response:
        created = self.workflows.get(spec["name"]) != spec
        self.workflows[spec["name"]] = spec
        return httpx.Response(200, json={"name": spec["name"], "version": 1,
                                         "checksum": "x", "created": created})

    def _trigger(self, name: str, input: Any, metadata: dict[str, Any]) -> httpx.Response:
        spec = self.workflows.get(name)
        if spec is None:
            return _error(404, "not_found", f"no workflow {name!r}")
        run_id = f"run-{next(self._ids)}"
        tasks = {t["name"]: {"spec": t, "status": "pending", "attempt": 0, "output": None,
                             "error": None} for t in spec["tasks"]}
        run = {"id": run_id, "workflow": name, "status": "running", "input": input,
               "metadata": metadata, "output": None, "tasks": tasks}
        self.runs[run_id] = run
        for task in tasks.values():
            if not task["spec"]["parents"]:
                self._enqueue(run, task)
        return httpx.Response(201, json={"id": run_id, "status": "queued", "workflow": name})

    def _spawn(self, body: dict[str, Any]) -> httpx.Response:
        if body["task_run_id"] not in self.leases:
            return _error(409, "conflict", "the parent task is no longer running")
        spawned = []
        for child in body["children"]:
            dedupe = (body["task_run_id"], child.get("key") or str(uuid.uuid4()))
            if dedupe not in self.children:
                reply = self._trigger(body["workflow"], child["input"], child.get("metadata", {}))
                self.children[dedupe] = reply.json()["id"]
            spawned.append({"id": self.children[dedupe], "created": True})
        return httpx.Response(201, json={"runs": spawned})

    def _enqueue(self, run: dict[str, Any], task: dict[str, Any]) -> None:
        task["status"] = "queued"
        task["attempt"] += 1
        name = task["spec"]["name"]
        self.queue.append({
            "task_run_id": f"{run['id']}/{name}", "run_id": run["id"], "workflow": run["workflow"],
            "task": name, "action": f"{run['workflow']}:{name}", "attempt": task["attempt"],
            "input": run["input"], "metadata": run["metadata"],
            "parents": {p: run["tasks"][p]["output"] for p in task["spec"]["parents"]},
            "execution_timeout": task["spec"]["execution_timeout"]})
        for parked in self._parked:
            parked.loop.call_soon_threadsafe(parked.event.set)

    def _apply_results(self, results: list[dict[str, Any]]) -> dict[str, list[str]]:
        accepted, rejected = [], []
        for result in results:
            self.results.append(result)
            lease = self.leases.pop(result["task_run_id"], None)
            if lease is None or lease["lease_id"] != result["lease_id"]:
                rejected.append(result["task_run_id"])
                continue
            accepted.append(result["task_run_id"])
            run = self.runs[lease["run_id"]]
            task = run["tasks"][lease["task"]]
            if result["status"] == "released":
                task["attempt"] -= 1
                self._enqueue(run, task)
            elif result["status"] == "succeeded":
                task["status"], task["output"] = "succeeded", result["output"]
                self._release_children(run)
            elif result["retryable"] and task["attempt"] <= task["spec"]["retries"]:
                self._enqueue(run, task)
            else:
                task["status"], task["error"] = "failed", result["error"]
                self._finish_run(run, "failed")
        return {"accepted": accepted, "rejected": rejected}

    def _release_children(self, run: dict[str, Any]) -> None:
        tasks = run["tasks"]
        for task in tasks.values():
            if task["status"] == "pending" and all(
                    tasks[p]["status"] == "succeeded" for p in task["spec"]["parents"]):
                self._enqueue(run, task)
        if all(t["status"] == "succeeded" for t in tasks.values()):
            used = {p for t in tasks.values() for p in t["spec"]["parents"]}
            run["output"] = {n: t["output"] for n, t in tasks.items() if n not in used}
            self._finish_run(run, "succeeded")

    def _finish_run(self, run: dict[str, Any], status: str) -> None:
        run["status"] = status
        self.queue = [a for a in self.queue if a["run_id"] != run["id"]]

    # -- long-poll -----------------------------------------------------------------------------
    async def _poll(self, worker_id: str, body: dict[str, Any]) -> httpx.Response:
        with self._lock:
            self.polls_in_flight += 1
            self.max_polls_in_flight = max(self.max_polls_in_flight, self.polls_in_flight)
        try:
            # A yield, as a network hop would: a worker's other poller gets to send meanwhile.
            await asyncio.sleep(0)
            return await self._poll_once(worker_id, body)
        finally:
            with self._lock:
                self.polls_in_flight -= 1

    async def _poll_once(self, worker_id: str, body: dict[str, Any]) -> httpx.Response:
        parked = Parked(asyncio.get_running_loop(), asyncio.Event())
        loop = parked.loop
        deadline = loop.time() + body["wait"]
        while True:
            with self.changed:
                if worker_id not in self.workers:
                    return _error(404, "not_found", "no such worker")
                actions = set(self.workers[worker_id]["actions"])
                mine = [a for a in self.queue if a["action"] in actions][: body["max_tasks"]]
                if mine or loop.time() >= deadline:
                    claimed = [self._claim(a, worker_id) for a in mine]
                    self.changed.notify_all()
                    break
                parked.event.clear()
                self._parked.append(parked)
            try:
                await asyncio.wait_for(parked.event.wait(), max(0.0, deadline - loop.time()))
            except TimeoutError:
                pass
            finally:
                with self._lock:
                    self._parked.remove(parked)
        if claimed and self.on_poll is not None:
            self.on_poll(claimed)
        return httpx.Response(200, json={"tasks": claimed})

    def _claim(self, assignment: dict[str, Any], worker_id: str) -> dict[str, Any]:
        self.queue.remove(assignment)
        lease_id = str(uuid.uuid4())
        self.leases[assignment["task_run_id"]] = {"lease_id": lease_id, "worker": worker_id,
                                                  "run_id": assignment["run_id"],
                                                  "task": assignment["task"]}
        self.runs[assignment["run_id"]]["tasks"][assignment["task"]]["status"] = "running"
        return {**assignment, "lease_id": lease_id}


def _public(run: dict[str, Any]) -> dict[str, Any]:
    return {**{k: v for k, v in run.items() if k != "tasks"},
            "tasks": [{"name": n, "status": t["status"], "attempt": t["attempt"],
                       "output": t["output"], "error": t["error"],
                       "parents": t["spec"]["parents"]} for n, t in run["tasks"].items()]}


def _error(status: int, code: str, message: str) -> httpx.Response:
    return httpx.Response(status, json={"error": {"code": code, "message": message}})
