"""Run the diamond a few times and print each total; then show a failure.

    KILN_API_KEY=... python examples/dag/trigger.py [count]
"""

from __future__ import annotations

import sys

from kiln import RunFailedError

# Run as a script, this file's folder is on sys.path: the definitions live next door.
from worker import Order, diamond, kiln


def main(count: int) -> None:
    print("one run:", diamond.run(Order(order_id=1, amount=50.0), timeout="60s"))
    outputs = diamond.run_many([{"order_id": i, "amount": i * 10.0} for i in range(count)],
                               timeout="120s")
    for output in outputs:
        print("total:", output["d"])
    try:
        diamond.run({"order_id": 99, "amount": -1})
    except RunFailedError as exc:
        print("failed as expected:", exc)
    kiln.close()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
