"""DAG conditions end to end: the examples/conditions worker in its own process, a skipped task
and a task that waits for its scoped approval event without holding a slot."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.support.live import wait_until

pytestmark = pytest.mark.slow
EXAMPLE = Path(__file__).parents[2] / "examples" / "conditions"


def test_the_conditions_example_skips_one_article_and_publishes_the_approved_one(tenant, spawn):
    spawn(EXAMPLE / "worker.py", tenant, name="articles")
    wait_until(lambda: httpx.get(f"{tenant.api_url}/api/v1/workflows/articles",
                                 headers=tenant.headers, timeout=30).status_code == 200,
               60, message="the example worker to register")
    done = subprocess.run(
        [sys.executable, str(EXAMPLE / "trigger.py")], capture_output=True, text=True,
        timeout=180, env={**os.environ, "KILN_API_URL": tenant.api_url,
                          "KILN_API_KEY": tenant.admin_key}, check=False)
    assert done.returncode == 0, done.stderr
    printed = dict(line.split(": ", 1) for line in done.stdout.splitlines())
    assert ast.literal_eval(printed["a-1"]) == {"notify": {
        "id": "a-1", "published": False, "reason": "already published"}}
    assert ast.literal_eval(printed["a-2"]) == {"notify": {
        "id": "a-2", "published": True, "url": "https://example.com/a-2"}}
    runs = httpx.get(f"{tenant.api_url}/api/v1/runs?workflow=articles", headers=tenant.headers,
                     timeout=30).json()["items"]
    assert {r["status"] for r in runs} == {"succeeded"}
    statuses = {}
    for run in runs:
        detail = httpx.get(f"{tenant.api_url}/api/v1/runs/{run['id']}", headers=tenant.headers,
                           timeout=30).json()
        statuses[detail["input"]["id"]] = [t["status"] for t in detail["tasks"]]
    assert statuses == {"a-1": ["succeeded", "skipped", "succeeded"],
                        "a-2": ["succeeded", "succeeded", "succeeded"]}
