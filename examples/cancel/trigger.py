"""Start both long tasks, cancel them once they run, and print their final status.

    KILN_API_KEY=... python examples/cancel/trigger.py
"""

from __future__ import annotations

import time

# Run as a script, this file's folder is on sys.path: the definitions live next door.
from worker import kiln, long_async, long_sync


def main() -> None:
    refs = [long_async.run_no_wait({}), long_sync.run_no_wait({})]
    deadline = time.monotonic() + 60
    while any(ref.status() != "running" for ref in refs):
        if time.monotonic() > deadline:
            raise SystemExit("the tasks did not start: is examples/cancel/worker.py running?")
        time.sleep(0.2)
    for ref in refs:
        ref.cancel()
        print(f"{ref.workflow} {ref.id}: {ref.status()}")
    kiln.close()


if __name__ == "__main__":
    main()
