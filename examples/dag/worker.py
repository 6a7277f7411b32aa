"""A diamond DAG — ``a`` fans out to ``b`` and ``c``, which join in ``d``:

        a
       / \\
      b   c
       \\ /
        d

``b`` is async (it runs on the worker's event loop), the others are sync (thread pool). The
input is typed: Kiln builds an ``Order`` from the run's JSON input because ``a`` annotates it.

    KILN_API_KEY=... python examples/dag/worker.py
    KILN_API_KEY=... python examples/dag/trigger.py
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
from typing import Any

from kiln import Context, Kiln, NonRetryableError

kiln = Kiln()
diamond = kiln.workflow("diamond", description="a -> b, c -> d")


@dataclasses.dataclass
class Order:
    order_id: int
    amount: float = 0.0


@diamond.task(retries=1, execution_timeout="1m")
def a(input: Order, ctx: Context) -> dict[str, Any]:
    if input.amount < 0:
        raise NonRetryableError(f"order {input.order_id} has a negative amount")
    ctx.log(f"order {input.order_id}: {input.amount}")
    return {"order_id": input.order_id, "amount": input.amount}


@diamond.task(parents=[a])
async def b(input: Order, ctx: Context) -> dict[str, Any]:
    await asyncio.sleep(0.01)  # stands in for an async API call
    amount = ctx.task_output(a)["amount"]
    return {"amount": amount, "tax": round(amount * 0.2, 2)}


@diamond.task(parents=[a])
def c(input: Order, ctx: Context) -> dict[str, Any]:
    return {"shipping": 5.0 if ctx.task_output(a)["amount"] < 100 else 0.0}


@diamond.task(parents=[b, c])
def d(input: Order, ctx: Context) -> dict[str, Any]:
    # Only direct parents' outputs are available: b passes the amount along.
    priced = ctx.task_output(b)
    total = priced["amount"] + priced["tax"] + ctx.task_output(c)["shipping"]
    ctx.log(f"total {total}")
    return {"order_id": input.order_id, "total": round(total, 2)}


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request is noise here
    kiln.worker(os.environ.get("KILN_WORKER_NAME", "dag-worker"), workflows=[diamond],
                slots=int(os.environ.get("KILN_SLOTS", "10")),
                drain_timeout=os.environ.get("KILN_DRAIN_TIMEOUT", "20s")).start()
