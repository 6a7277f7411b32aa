"""A worker of small standalone tasks that probe the SDK's runtime behaviour end to end.

Each task appends JSON lines to the file named by KILN_EFFECT_LOG, so the tests can see what
happened inside the worker (started, finished, saw a cancellation) without reading its logs.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import os
import time
from pathlib import Path
from typing import Any

from kiln import Context, Kiln, NonRetryableError

kiln = Kiln()


@dataclasses.dataclass
class Point:
    x: int
    y: int = 0


def effect(ctx: Context, event: str, **fields: Any) -> None:
    line = json.dumps({"task": ctx.task_name, "run": ctx.run_id, "attempt": ctx.attempt,
                       "event": event, "pid": os.getpid(), **fields})
    with Path(os.environ["KILN_EFFECT_LOG"]).open("a") as log:  # O_APPEND: one line, one write
        log.write(line + "\n")


@kiln.task()
async def sdk_echo(input: Point, ctx: Context) -> Point:
    """Typed in, typed out: the input arrives as a Point, the output leaves as JSON."""
    return Point(input.x * 2, input.y)


@kiln.task(retries=2)
def sdk_fails(input: dict[str, Any], ctx: Context) -> None:
    effect(ctx, "failed")
    raise NonRetryableError("the card was declined")


@kiln.task(retries=2)
def sdk_unserializable(input: dict[str, Any], ctx: Context) -> dict[str, Any]:
    effect(ctx, "returned")
    return {"tags": {"a", "b"}}


@kiln.task(execution_timeout="60s")
def sdk_slow(input: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """Sleeps ``seconds`` on the first attempt only, so a rescuer finishes at once."""
    effect(ctx, "started")
    if ctx.attempt == 1:
        time.sleep(float(input["seconds"]))
    effect(ctx, "finished")
    return {"attempt": ctx.attempt}


@kiln.task(execution_timeout="60s")
async def sdk_hog(input: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """Blocks the worker's event loop (a bug in user code) for longer than a lease."""
    time.sleep(float(input["seconds"]))  # noqa: ASYNC251 - the blocking is the point
    return {"attempt": ctx.attempt}


@kiln.task(execution_timeout="1s")
async def sdk_wait_async(input: dict[str, Any], ctx: Context) -> None:
    effect(ctx, "started")
    try:
        await asyncio.sleep(60)
    except asyncio.CancelledError:
        effect(ctx, "cancelled")
        raise


@kiln.task(execution_timeout="60s")
async def sdk_wait_cancel(input: dict[str, Any], ctx: Context) -> None:
    """Waits until a user cancels its run."""
    effect(ctx, "started")
    try:
        await asyncio.sleep(60)
    except asyncio.CancelledError:
        effect(ctx, "cancelled")
        raise


@kiln.task(execution_timeout="1s")
def sdk_wait_sync(input: dict[str, Any], ctx: Context) -> None:
    effect(ctx, "started")
    effect(ctx, "cancelled" if ctx.wait_cancelled(60) else "not cancelled")


@kiln.task(execution_timeout="1s")
def sdk_refresh(input: dict[str, Any], ctx: Context) -> str:
    """Outlives its 1 s timeout by asking for more time first."""
    ctx.refresh_timeout("10s")
    time.sleep(2.5)
    return "made it"


@kiln.task()
async def sdk_parent(input: dict[str, Any], ctx: Context) -> list[Any]:
    """Spawns two children (deduplicated by key across retries) and gathers their outputs."""
    refs = [await ctx.aio_spawn(sdk_echo, {"x": n}, key=f"child-{n}") for n in (1, 2)]
    return [await ref.aio_result(timeout=30) for ref in refs]


flow = kiln.workflow("sdk_flow")


@flow.task()
def breaks(input: dict[str, Any], ctx: Context) -> None:
    raise RuntimeError("broken on purpose")


@flow.on_failure_task()
def report(input: dict[str, Any], ctx: Context) -> None:
    effect(ctx, "on_failure", errors=ctx.errors)


PROBES = [sdk_echo, sdk_fails, sdk_unserializable, sdk_slow, sdk_hog, sdk_wait_async,
          sdk_wait_cancel, sdk_wait_sync, sdk_refresh, sdk_parent, flow]

if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    kiln.worker(os.environ.get("KILN_WORKER_NAME", "sdk-probe"), workflows=PROBES,
                slots=int(os.environ.get("KILN_SLOTS", "10")),
                drain_timeout=os.environ.get("KILN_DRAIN_TIMEOUT", "20s")).start()
