"""Drive the worker protocol over HTTP the way the SDK does, for engine tests without the SDK."""

from __future__ import annotations

from typing import Any

import httpx

DIAMOND = {
    "name": "diamond",
    "tasks": [
        {"name": "a"},
        {"name": "b", "parents": ["a"]},
        {"name": "c", "parents": ["a"]},
        {"name": "d", "parents": ["b", "c"]},
    ],
}


async def register_workflow(
    client: httpx.AsyncClient, headers: dict[str, str], definition: dict[str, Any]
) -> dict[str, Any]:
    response = await client.post("/api/v1/workflows", json=definition, headers=headers)
    assert response.status_code in (200, 201), response.text
    body: dict[str, Any] = response.json()
    return body


async def register_worker(
    client: httpx.AsyncClient, headers: dict[str, str], actions: list[str], slots: int = 10
) -> str:
    response = await client.post("/api/v1/workers", json={
        "name": "test-worker", "actions": actions, "slots": slots}, headers=headers)
    assert response.status_code == 201, response.text
    worker_id: str = response.json()["id"]
    return worker_id


async def trigger(
    client: httpx.AsyncClient, headers: dict[str, str], workflow: str,
    input: Any = None, **extra: Any,
) -> dict[str, Any]:
    response = await client.post(f"/api/v1/workflows/{workflow}/runs",
                                 json={"input": input or {}, **extra}, headers=headers)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def poll(
    client: httpx.AsyncClient, headers: dict[str, str], worker_id: str,
    max_tasks: int = 10, wait: float = 0,
) -> list[dict[str, Any]]:
    response = await client.post(f"/api/v1/workers/{worker_id}/poll",
                                 json={"max_tasks": max_tasks, "wait": wait}, headers=headers)
    assert response.status_code == 200, response.text
    tasks: list[dict[str, Any]] = response.json()["tasks"]
    return tasks


async def succeed(
    client: httpx.AsyncClient, headers: dict[str, str], worker_id: str,
    task: dict[str, Any], output: Any,
) -> dict[str, Any]:
    return await report(client, headers, worker_id, [{
        "task_run_id": task["task_run_id"], "lease_id": task["lease_id"],
        "status": "succeeded", "output": output}])


async def report(
    client: httpx.AsyncClient, headers: dict[str, str], worker_id: str,
    results: list[dict[str, Any]],
) -> dict[str, Any]:
    response = await client.post(f"/api/v1/workers/{worker_id}/results",
                                 json={"results": results}, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def get_run(
    client: httpx.AsyncClient, headers: dict[str, str], run_id: str
) -> dict[str, Any]:
    response = await client.get(f"/api/v1/runs/{run_id}", headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body
