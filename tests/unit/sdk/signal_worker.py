"""A worker process on the in-memory fake server, for the signal-handling test.

It starts one sync task that blocks until the process ends, prints READY once the task runs,
and logs the worker's structured lines to stdout.
"""

from __future__ import annotations

import logging
import sys
import threading

from kiln import Kiln

from tests.unit.sdk.fake_server import FakeServer

server = FakeServer(heartbeat_interval=0.05)
kiln = Kiln(api_url="http://kiln.test", api_key=server.api_key, http_transport=server.transport())
forever = threading.Event()


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


@kiln.task()
def blocks(input, ctx):
    say("READY")
    forever.wait()


def trigger_when_registered() -> None:
    server.wait_for(lambda: server.workers)
    blocks.run_no_wait({})


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(message)s")
    threading.Thread(target=trigger_when_registered, daemon=True).start()
    kiln.worker("signals", workflows=[blocks], drain_timeout=60).start()
    say(f"EXITED deleted={len(server.deleted_workers)} results={len(server.results)}")
