"""DAG conditions: publish an article only once an editor approves it — unless the check finds it
already published (skipped), or the editor rejects it (cancelled). A day without an answer
publishes it anyway. The waiting task holds no worker slot.

Run a server (``ops/up``), create an API key with the ``worker`` and ``trigger`` scopes, then:

    KILN_API_KEY=... python examples/conditions/worker.py
    KILN_API_KEY=... python examples/conditions/trigger.py      # one skipped, one approved

docs/durable.md, "Conditions in DAGs", explains when each list is decided.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from kiln import Context, Kiln, ParentCondition, SleepCondition, UserEventCondition, or_

kiln = Kiln()
APPROVAL_WAIT = os.environ.get("KILN_APPROVAL_WAIT", "24h")

articles = kiln.workflow("articles")


@articles.task()
def check(input: dict[str, Any], ctx: Context) -> dict[str, Any]:
    return {"already_published": bool(input.get("already_published"))}


@articles.task(
    parents=[check],
    skip_if=[ParentCondition(check, "output.already_published")],
    # The editor's answer is scoped to this article: events for other articles do not count.
    wait_for=[or_(UserEventCondition("article:approved", scope="input.id"),
                  SleepCondition(APPROVAL_WAIT))],
    cancel_if=[UserEventCondition("article:rejected", scope="input.id")],
)
def publish(input: dict[str, Any], ctx: Context) -> dict[str, Any]:
    print(f"publishing {input['id']}", flush=True)
    return {"url": f"https://example.com/{input['id']}"}


@articles.task(parents=[publish])
def notify(input: dict[str, Any], ctx: Context) -> dict[str, Any]:
    if ctx.was_skipped(publish):
        return {"id": input["id"], "published": False, "reason": "already published"}
    return {"id": input["id"], "published": True, "url": ctx.task_output(publish)["url"]}


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    kiln.worker("articles", workflows=[articles], slots=5).start()
