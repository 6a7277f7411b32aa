"""Start an approval, then approve it with an event scoped to the order.

    KILN_API_KEY=... python examples/durable/trigger.py [order-id]
"""

from __future__ import annotations

import sys
import time

# Run as a script, this file's folder is on sys.path: the definitions live next door.
from worker import approval, kiln


def main() -> None:
    order_id = sys.argv[1] if len(sys.argv) > 1 else "order-42"
    ref = approval.run_no_wait({"order_id": order_id})
    print("run id:", ref.id)
    time.sleep(2)  # a human takes a while; the task waits without holding a worker slot
    kiln.events.push("approved", {"by": "ann"}, metadata={"scope": order_id})
    print("result:", ref.result(timeout="120s"))
    kiln.close()


if __name__ == "__main__":
    main()
