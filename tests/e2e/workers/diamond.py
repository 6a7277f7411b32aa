"""A diamond DAG worker for end-to-end tests; every finished task appends one line to the
effect log named by KILN_EFFECT_LOG (the external effect the invariants are checked against)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from kiln import Context, Kiln

kiln = Kiln()
SLEEP = float(os.environ.get("KILN_TASK_SLEEP", "0"))
wf = kiln.workflow("diamond")


def effect(ctx: Context, task: str) -> None:
    line = json.dumps({"run": str(ctx.run_id), "task": task, "attempt": ctx.attempt,
                       "pid": os.getpid()})
    with Path(os.environ["KILN_EFFECT_LOG"]).open("a") as log:  # O_APPEND: one line, one write
        log.write(line + "\n")


@wf.task()
def a(input: dict[str, Any], ctx: Context) -> dict[str, Any]:
    time.sleep(SLEEP)
    effect(ctx, "a")
    return {"n": input.get("n", 0)}


@wf.task(parents=[a])
async def b(input: dict[str, Any], ctx: Context) -> dict[str, Any]:
    effect(ctx, "b")
    return {"b": ctx.task_output(a)["n"] + 1}


@wf.task(parents=[a])
def c(input: dict[str, Any], ctx: Context) -> dict[str, Any]:
    effect(ctx, "c")
    return {"c": ctx.task_output(a)["n"] * 10}


@wf.task(parents=[b, c])
def d(input: dict[str, Any], ctx: Context) -> dict[str, Any]:
    effect(ctx, "d")
    ctx.log("joining b and c")
    return {"sum": ctx.task_output(b)["b"] + ctx.task_output(c)["c"]}


if __name__ == "__main__":
    kiln.worker(os.environ.get("KILN_WORKER_NAME", "diamond-worker"), workflows=[wf],
                slots=int(os.environ.get("KILN_SLOTS", "10"))).start()
