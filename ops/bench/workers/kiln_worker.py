"""A Kiln worker with no-op tasks, run as a real process by ops/bench (SDK, HTTP, like a user's).

    KILN_API_URL=… KILN_API_KEY=… python kiln_worker.py --workflows noop,probe --slots 50

Workflows (pick with --workflows):
  noop     standalone task returning nothing (throughput)
  probe    standalone task returning {"t": <wall clock when it started>} (latency)
  diamond  a -> (b, c) -> d, no-op tasks (dag)
  fanout   one root, then --children parallel no-op tasks depending on it (fanout)
  spawner  standalone task spawning input["children"] child runs of noop (ctx.spawn), then
           returning without waiting for them (serve noop too)
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from kiln import Context, Kiln, Standalone, Workflow

kiln = Kiln()


async def _nothing(input: Any, ctx: Context) -> None:
    return None


@kiln.task(name="noop")
async def noop(input: Any, ctx: Context) -> None:
    return None


@kiln.task(name="probe")
async def probe(input: Any, ctx: Context) -> dict[str, float]:
    return {"t": time.time()}


@kiln.task(name="spawner")
async def spawner(input: Any, ctx: Context) -> dict[str, int]:
    refs = await ctx.aio_spawn_many(noop, [{}] * int(input.get("children", 1000)))
    return {"spawned": len(refs)}


def diamond() -> Workflow:
    wf = kiln.workflow("diamond")
    a = wf.task(name="a")(_nothing)
    b = wf.task(name="b", parents=[a])(_nothing)
    c = wf.task(name="c", parents=[a])(_nothing)
    wf.task(name="d", parents=[b, c])(_nothing)
    return wf


def fanout(children: int) -> Workflow:
    wf = kiln.workflow("fanout")
    root = wf.task(name="root")(_nothing)
    for index in range(children):
        wf.task(name=f"c{index}", parents=[root])(_nothing)
    return wf


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--name", default="bench-worker")
    parser.add_argument("--workflows", default="noop")
    parser.add_argument("--slots", type=int, default=50)
    parser.add_argument("--children", type=int, default=499)
    args = parser.parse_args()
    chosen: list[Workflow | Standalone[Any, Any]] = []
    for name in args.workflows.split(","):
        chosen.append({"noop": noop, "probe": probe, "spawner": spawner}.get(name) or (
            diamond() if name == "diamond" else fanout(args.children)))
    kiln.worker(args.name, workflows=chosen, slots=args.slots, drain_timeout=2).start()


if __name__ == "__main__":
    main()
