"""The smallest Kiln worker: one standalone task and the two-step "etl" workflow.

Run a server (``ops/up``), create an API key with the ``worker`` and ``trigger`` scopes, then:

    KILN_API_KEY=... python examples/simple/worker.py      # Ctrl-C stops it gracefully
    KILN_API_KEY=... python examples/simple/trigger.py

``KILN_API_URL`` defaults to http://127.0.0.1:8080.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from kiln import Context, Kiln

kiln = Kiln()


@kiln.task(retries=2, execution_timeout="30s")
async def hello(input: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """A standalone task: ``hello.run({"name": "Ada"})`` returns this dict."""
    ctx.log(f"greeting {input.get('name', 'world')} (attempt {ctx.attempt})")
    return {"greeting": f"Hello, {input.get('name', 'world')}!"}


wf = kiln.workflow("etl", on_events=["order:created"])


@wf.task()
def extract(input: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """Sync tasks run in the worker's thread pool, so they may block."""
    rows = list(range(int(input.get("x", 1)) * 3))
    return {"rows": len(rows)}


@wf.task(parents=[extract])
def load(input: dict[str, Any], ctx: Context) -> dict[str, Any]:
    return {"rows": ctx.task_output(extract)["rows"]}


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request is noise here
    worker = kiln.worker(os.environ.get("KILN_WORKER_NAME", "simple-worker"),
                         workflows=[wf, hello], slots=10)
    worker.start()
