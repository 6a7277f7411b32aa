"""Start two articles: one the check finds already published (its publish task is skipped), one
an editor approves once its publish task waits for the answer.

    KILN_API_KEY=... python examples/conditions/trigger.py
"""

from __future__ import annotations

import time
from typing import Any

# Run as a script, this file's folder is on sys.path: the definitions live next door.
from worker import articles, kiln


def waiting_for_approval(run: dict[str, Any]) -> bool:
    publish = next(t for t in run["tasks"] if t["name"] == "publish")
    return "article:approved" in (publish.get("waiting_for") or "")


def main() -> None:
    old = articles.run_no_wait({"id": "a-1", "already_published": True})
    new = articles.run_no_wait({"id": "a-2"})
    # Only an answer given after the task started waiting counts: look before approving.
    deadline = time.monotonic() + 60
    while not waiting_for_approval(new.get()):
        if time.monotonic() > deadline:
            raise SystemExit("publish of a-2 never started waiting")
        time.sleep(0.2)
    kiln.events.push("article:approved", {"by": "eve"}, metadata={"scope": "a-2"})
    print("a-1:", old.result(timeout="120s"))
    print("a-2:", new.result(timeout="120s"))
    kiln.close()


if __name__ == "__main__":
    main()
