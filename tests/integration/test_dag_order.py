"""The later tasks of a started run go before the roots of runs created with or after it, so a
backlog of DAG runs finishes run by run instead of all at the end (docs/flow-control.md)."""

from __future__ import annotations

from tests.support import api
from tests.support import flow as f
from tests.support import protocol as p

DIAMOND = {"name": "diamond", "tasks": [
    {"name": "a"}, {"name": "b", "parents": ["a"]}, {"name": "c", "parents": ["a"]},
    {"name": "d", "parents": ["b", "c"]}]}


async def test_children_of_a_started_run_go_before_newer_roots(client):
    account = await api.signup(client)
    key = api.bearer((await api.create_api_key(client, account))["key"])
    await p.register_workflow(client, key, DIAMOND)
    worker = await p.register_worker(
        client, key, [f"diamond:{t}" for t in "abcd"], slots=10)
    runs = await f.bulk(client, key, "diamond", [{}] * 5)

    [first] = await p.poll(client, key, worker, max_tasks=1)
    await f.finish_all(client, key, worker, [first])
    after = await p.poll(client, key, worker, max_tasks=2)

    assert first["run_id"] == runs[0]
    assert sorted((t["run_id"], t["task"]) for t in after) == [(runs[0], "b"), (runs[0], "c")]
