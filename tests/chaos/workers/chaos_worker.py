"""The fault suite's worker: every execution appends one JSON line to the effect log
(``KILN_EFFECT_LOG``) and returns an output naming its process and attempt, so the invariant
checker can tell which execution's result the server kept.

Workflows:
* ``chain`` — ``work`` (sleeps ``input.sleep`` or ``KILN_TASK_SLEEP`` seconds, capped by
  ``KILN_SLEEP_CAP``) then ``check``, which depends on it.
* ``poison`` — ``die`` writes its effect line and then ``kill -9``s its own worker process.

Environment: ``KILN_WORKER_NAME``, ``KILN_SLOTS``, ``KILN_DRAIN_TIMEOUT`` (seconds).
"""

from __future__ import annotations

import json
import logging
import os
import signal
import time
from pathlib import Path
from typing import Any

from kiln import Context, Kiln

kiln = Kiln()
NAME = os.environ.get("KILN_WORKER_NAME", "chaos-worker")
DEFAULT_SLEEP = float(os.environ.get("KILN_TASK_SLEEP", "0"))
SLEEP_CAP = float(os.environ.get("KILN_SLEEP_CAP", "3600"))

chain = kiln.workflow("chain")
poison = kiln.workflow("poison")


def stamp(ctx: Context, phase: str = "done") -> dict[str, Any]:
    """Append this execution to the effect log; return the identity its output carries."""
    identity = {"run": str(ctx.run_id), "task": ctx.task_name, "task_run_id": ctx.task_run_id,
                "attempt": ctx.attempt, "pid": os.getpid(), "worker": NAME}
    line = json.dumps({**identity, "phase": phase, "at": time.time()})
    with Path(os.environ["KILN_EFFECT_LOG"]).open("a") as log:  # O_APPEND: one line, one write
        log.write(line + "\n")
    return identity


@chain.task()
def work(input: dict[str, Any], ctx: Context) -> dict[str, Any]:
    # time.sleep, not ctx.wait_cancelled: a task that ignores cancellation is the hard case.
    time.sleep(min(float(input.get("sleep", DEFAULT_SLEEP)), SLEEP_CAP))
    return {**stamp(ctx), "n": input.get("n")}


@chain.task(parents=[work])
def check(input: dict[str, Any], ctx: Context) -> dict[str, Any]:
    parent = ctx.task_output(work)
    return {**stamp(ctx), "n": input.get("n"), "parent": [parent["pid"], parent["attempt"]]}


@poison.task()
def die(input: dict[str, Any], ctx: Context) -> dict[str, Any]:
    stamp(ctx, phase="dying")
    os.kill(os.getpid(), signal.SIGKILL)
    raise AssertionError("unreachable: the process is gone")


if __name__ == "__main__":
    # The SDK's action=... lines (result_rejected, task_cancelled, worker_draining…) go to the
    # worker's log file, which scenarios read.
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    kiln.worker(NAME, workflows=[chain, poison], slots=int(os.environ.get("KILN_SLOTS", "10")),
                drain_timeout=float(os.environ.get("KILN_DRAIN_TIMEOUT", "20"))).start()
