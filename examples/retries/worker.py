"""Retries with backoff, a non-retryable error and an on-failure task.

    KILN_API_KEY=... python examples/retries/worker.py
    KILN_API_KEY=... python examples/retries/trigger.py

``flaky`` fails on its first two attempts and succeeds on the third (``retries=2``; the waits
between attempts grow as ``backoff_factor ** (attempt - 1)`` seconds). ``charge`` refuses a
negative amount with ``NonRetryableError``: one attempt, then its workflow's on-failure task
receives the error. Every attempt stays in the run's history (``GET /api/v1/runs/{id}``).
"""

from __future__ import annotations

import logging
import os
from typing import Any

from kiln import Context, Kiln, NonRetryableError

kiln = Kiln()


@kiln.task(retries=2, backoff_factor=2.0, backoff_max_seconds=30)
def flaky(input: dict[str, Any], ctx: Context) -> dict[str, Any]:
    if ctx.attempt < 3:
        raise ConnectionError(f"upstream not ready (attempt {ctx.attempt})")
    return {"succeeded_on_attempt": ctx.attempt}


payments = kiln.workflow("payments")


@payments.task(retries=5)
def charge(input: dict[str, Any], ctx: Context) -> dict[str, Any]:
    if input["amount"] < 0:
        raise NonRetryableError(f"cannot charge a negative amount: {input['amount']}")
    return {"charged": input["amount"]}


@payments.on_failure_task()
def notify_finance(input: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """Runs once when the run failed, after every other task finished."""
    ctx.log(f"payment failed: {ctx.errors}")
    return {"notified": sorted(ctx.errors)}


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    kiln.worker(os.environ.get("KILN_WORKER_NAME", "retries-worker"),
                workflows=[flaky, payments], slots=5).start()
