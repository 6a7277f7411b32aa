"""A worker for the flow-control end-to-end tests: every task appends one line to the log named
by KILN_EFFECT_LOG with its run, key and wall-clock start and finish (one write per line)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from kiln import Concurrency, Context, Kiln, RateLimit

kiln = Kiln()
SLEEP = float(os.environ.get("KILN_TASK_SLEEP", "0.2"))

capped = kiln.workflow("capped", concurrency=Concurrency("input.key", max_runs=2))
fair = kiln.workflow("fair", concurrency=Concurrency("input.key", max_runs=100))


def record(ctx: Context, input: dict[str, Any], started: float) -> dict[str, Any]:
    line = {"workflow": ctx.workflow_name, "run": str(ctx.run_id), "key": input.get("key"),
            "start": started, "finish": time.time(), "worker": os.environ.get("KILN_WORKER_NAME")}
    with Path(os.environ["KILN_EFFECT_LOG"]).open("a") as log:
        log.write(json.dumps(line) + "\n")
    return line


@capped.task()
def hold(input: dict[str, Any], ctx: Context) -> dict[str, Any]:
    started = time.time()
    time.sleep(SLEEP)
    return record(ctx, input, started)


@fair.task()
def turn(input: dict[str, Any], ctx: Context) -> dict[str, Any]:
    started = time.time()
    time.sleep(SLEEP / 4)
    return record(ctx, input, started)


@kiln.task(rate_limits=[RateLimit(key="e2e-api")])
def call_api(input: dict[str, Any], ctx: Context) -> dict[str, Any]:
    return record(ctx, input, time.time())


if __name__ == "__main__":
    kiln.worker(os.environ.get("KILN_WORKER_NAME", "flow-worker"),
                workflows=[capped, fair, call_api],
                slots=int(os.environ.get("KILN_SLOTS", "10"))).start()
