"""A durable task for end-to-end tests: a step, a 2 s durable sleep, another step. Each step
appends one line to the effect log named by KILN_EFFECT_LOG; KILN_STEP_NAME renames the first
step (a code change between attempts, for the non-determinism test)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from kiln import DurableContext, Kiln

kiln = Kiln()
STEP = os.environ.get("KILN_STEP_NAME", "before")


def effect(ctx: DurableContext, step: str) -> str:
    line = json.dumps({"run": str(ctx.run_id), "step": step, "attempt": ctx.attempt,
                       "pid": os.getpid()})
    with Path(os.environ["KILN_EFFECT_LOG"]).open("a") as log:  # O_APPEND: one line, one write
        log.write(line + "\n")
    return step


@kiln.durable_task(name="nap", execution_timeout=30)
async def nap(input: dict[str, Any], ctx: DurableContext) -> dict[str, Any]:
    first = await ctx.step(STEP, effect, ctx, "before")
    await ctx.sleep_for(input.get("seconds", 2))
    second = await ctx.step("after", effect, ctx, "after")
    return {"steps": [first, second], "attempt": ctx.attempt}


if __name__ == "__main__":
    kiln.worker(os.environ.get("KILN_WORKER_NAME", "durable-worker"), workflows=[nap],
                slots=int(os.environ.get("KILN_SLOTS", "5"))).start()
