"""Cancellation: an async task gets ``asyncio.CancelledError``; a sync task sees
``ctx.cancelled`` / ``ctx.check_cancelled()`` / ``ctx.wait_cancelled()``.

    KILN_API_KEY=... python examples/cancel/worker.py
    KILN_API_KEY=... python examples/cancel/trigger.py
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

from kiln import Context, Kiln

kiln = Kiln()


@kiln.task(execution_timeout="10m")
async def long_async(input: dict[str, Any], ctx: Context) -> dict[str, Any]:
    try:
        await asyncio.sleep(600)
    except asyncio.CancelledError:
        ctx.log("cancelled: cleaning up")  # clean up, then let the cancellation through
        raise
    return {"done": True}


@kiln.task(execution_timeout="10m")
def long_sync(input: dict[str, Any], ctx: Context) -> dict[str, Any]:
    for step in range(600):
        if ctx.wait_cancelled(1.0):  # a sleep that ends early when the run is cancelled
            ctx.log(f"cancelled at step {step}")
        ctx.check_cancelled()  # raises TaskCancelledError once cancelled
    return {"done": True}


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    kiln.worker(os.environ.get("KILN_WORKER_NAME", "cancel-worker"),
                workflows=[long_async, long_sync], slots=5).start()
