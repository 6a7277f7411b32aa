"""Helpers of the flow-control tests: drive workers over the protocol and read the engine's
view of what runs where (as the owner, for assertions only)."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import httpx

from tests.support import protocol as p


async def worker(
    client: httpx.AsyncClient, key: dict[str, str], actions: list[str], slots: int = 10,
    labels: dict[str, Any] | None = None, name: str = "flow-worker",
) -> str:
    response = await client.post("/api/v1/workers", headers=key, json={
        "name": name, "actions": actions, "slots": slots, "labels": labels or {}})
    assert response.status_code == 201, response.text
    worker_id: str = response.json()["id"]
    return worker_id


async def bulk(
    client: httpx.AsyncClient, key: dict[str, str], workflow: str, inputs: list[dict[str, Any]],
    **extra: Any,
) -> list[str]:
    response = await client.post(f"/api/v1/workflows/{workflow}/runs/bulk", headers=key,
                                 json={"runs": [{"input": i, **extra} for i in inputs]})
    assert response.status_code == 201, response.text
    ids: list[str] = response.json()["ids"]
    return ids


async def finish_all(
    client: httpx.AsyncClient, key: dict[str, str], worker_id: str, tasks: list[dict[str, Any]]
) -> None:
    if tasks:
        await p.report(client, key, worker_id, [
            {"task_run_id": t["task_run_id"], "lease_id": t["lease_id"], "status": "succeeded",
             "output": {"task": t["task"]}} for t in tasks])


async def running_by(
    owner: asyncpg.Connection, workflow: str, field: str = "key"
) -> dict[str, int]:
    """Runs of ``workflow`` with a running task, per ``input[field]``."""
    rows = await owner.fetch(
        "select r.input->>$2 as k, count(distinct r.id) as n from workflow_runs r"
        " join task_runs t on t.tenant_id = r.tenant_id and t.run_id = r.id"
        " where r.workflow_name = $1 and t.status = 'running' group by 1", workflow, field)
    return {row["k"]: row["n"] for row in rows}


async def task_states(owner: asyncpg.Connection, run_id: str) -> dict[str, tuple[str, str | None]]:
    rows = await owner.fetch("select task_name, status, wait_reason from task_runs"
                             " where run_id = $1", uuid.UUID(run_id))
    return {r["task_name"]: (r["status"], r["wait_reason"]) for r in rows}
