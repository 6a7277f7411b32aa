"""A worker whose workflow starts on GitHub pushes, through a Kiln inbound webhook.

The webhook (``README.md``) turns each verified delivery into an event keyed
``github:<X-GitHub-Event>``; ``on_events=["github:push"]`` starts this workflow with the
delivery's JSON body as its input.

    KILN_API_KEY=<worker key> python examples/webhook/worker.py
"""

from __future__ import annotations

import logging
import os
from typing import Any

from kiln import Context, Kiln

kiln = Kiln()

on_push = kiln.workflow("on-push", on_events=["github:push"])


@on_push.task()
def summarise(input: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """What was pushed where (the input is GitHub's push payload)."""
    summary = {
        "repository": input.get("repository", {}).get("full_name"),
        "branch": str(input.get("ref", "")).removeprefix("refs/heads/"),
        "commit": input.get("after"),
        "pusher": input.get("pusher", {}).get("name"),
    }
    ctx.log(f"push to {summary['repository']}@{summary['branch']} by {summary['pusher']}")
    return summary


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    kiln.worker(os.environ.get("KILN_WORKER_NAME", "webhook-worker"), workflows=[on_push],
                slots=5).start()
