"""Trigger the simple example's task and workflow and print what they return.

    KILN_API_KEY=... python examples/simple/trigger.py
"""

from __future__ import annotations

import asyncio

# Run as a script, this file's folder is on sys.path: the definitions live next door.
from worker import hello, kiln, wf


async def in_async_code() -> dict[str, object]:
    return await wf.aio_run({"x": 2})


def main() -> None:
    print("hello.run:", hello.run({"name": "Ada"}))  # the task's own output
    ref = wf.run_no_wait({"x": 1})
    print("run id:", ref.id)
    print("ref.result:", ref.result(timeout="60s"))  # {leaf task: output}
    print("wf.run:", wf.run({"x": 3}))
    print("wf.aio_run:", asyncio.run(in_async_code()))
    kiln.close()


if __name__ == "__main__":
    main()
