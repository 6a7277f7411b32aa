"""A worker without the SDK and without heartbeats: it registers the ``chain`` workflow,
claims ``KILN_ZOMBIE_TASKS`` tasks of ``chain:work``, sleeps ``KILN_TASK_SLEEP`` seconds (the
test SIGSTOPs it meanwhile), runs them — one effect line each — and posts their results late,
printing the server's answer as ``RESULTS {...}``. Nothing tells it that its leases are gone, so
its stale results do reach the server, which must refuse them."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import httpx

WANTED = int(os.environ.get("KILN_ZOMBIE_TASKS", "5"))
SLEEP = float(os.environ.get("KILN_TASK_SLEEP", "4"))


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def main() -> None:
    headers = {"Authorization": f"Bearer {os.environ['KILN_API_KEY']}"}
    with httpx.Client(base_url=os.environ["KILN_API_URL"], headers=headers, timeout=30) as http:
        http.post("/api/v1/workflows", json={"name": "chain", "tasks": [
            {"name": "work"}, {"name": "check", "parents": ["work"]}]}).raise_for_status()
        worker = http.post("/api/v1/workers", json={
            "name": "zombie", "actions": ["chain:work"], "slots": WANTED}).json()["id"]
        tasks: list[dict] = []  # type: ignore[type-arg]
        while len(tasks) < WANTED:
            tasks += http.post(f"/api/v1/workers/{worker}/poll", json={
                "max_tasks": WANTED - len(tasks), "wait": 1}).json()["tasks"]
        say(f"CLAIMED {len(tasks)}")
        time.sleep(SLEEP)
        results = []
        with Path(os.environ["KILN_EFFECT_LOG"]).open("a") as log:
            for task in tasks:
                identity = {"run": task["run_id"], "task": task["task"],
                            "task_run_id": task["task_run_id"], "attempt": task["attempt"],
                            "pid": os.getpid(), "worker": "zombie"}
                log.write(json.dumps({**identity, "phase": "done", "at": time.time()}) + "\n")
                log.flush()
                results.append({"task_run_id": task["task_run_id"], "lease_id": task["lease_id"],
                                "status": "succeeded", "output": {**identity, "n": None}})
        reply = http.post(f"/api/v1/workers/{worker}/results", json={"results": results})
        say(f"RESULTS {reply.status_code} {reply.text}")


if __name__ == "__main__":
    main()
