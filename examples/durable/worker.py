"""An approval flow as a durable task: record the request, wait up to 24 h for an "approved"
event scoped to this order (the task holds no worker slot meanwhile), then act on the answer.

Run a server (``ops/up``), create an API key with the ``worker`` and ``trigger`` scopes, then:

    KILN_API_KEY=... python examples/durable/worker.py
    KILN_API_KEY=... python examples/durable/trigger.py order-42      # starts, then approves

Stop and restart the worker while it waits: nothing is lost, and ``request`` does not run again.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from kiln import DurableContext, Kiln

kiln = Kiln()
APPROVAL_TIMEOUT = os.environ.get("KILN_APPROVAL_TIMEOUT", "24h")


def send_request(order_id: str) -> dict[str, Any]:
    """A side effect (an e-mail, a ticket): inside ctx.step it runs once, not once per resume."""
    print(f"approval requested for {order_id}", flush=True)
    return {"requested": order_id}


@kiln.durable_task(name="approval", execution_timeout="5m")
async def approval(input: dict[str, Any], ctx: DurableContext) -> dict[str, Any]:
    order_id = str(input["order_id"])
    await ctx.step("request", send_request, order_id)
    event = await ctx.wait_for_event("approved", scope=order_id, timeout=APPROVAL_TIMEOUT)
    if event is None:
        return {"order_id": order_id, "status": "expired"}
    return {"order_id": order_id, "status": "approved",
            "by": event["payload"].get("by"), "event_id": event["id"]}


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    kiln.worker("approvals", workflows=[approval], slots=5).start()
