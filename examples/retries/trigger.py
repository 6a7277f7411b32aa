"""Run the retries example and print what happened.

    KILN_API_KEY=... python examples/retries/trigger.py
"""

from __future__ import annotations

from kiln import RunFailedError

# Run as a script, this file's folder is on sys.path: the definitions live next door.
from worker import flaky, kiln, payments


def main() -> None:
    print("flaky.run:", flaky.run({}, timeout="60s"))
    ref = payments.run_no_wait({"amount": -5})
    try:
        ref.result(timeout="60s")
    except RunFailedError as failure:
        print("payments failed as expected:", failure)
    run = ref.get()
    for task in run["tasks"]:
        attempts = [(a["attempt"], a["status"]) for a in task["attempts"]]
        print(f"  {task['name']}: {task['status']} after {attempts}")
    kiln.close()


if __name__ == "__main__":
    main()
