"""``worker.start()`` handles SIGTERM/SIGINT: the first drains, a second stops waiting."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def read_until(process: subprocess.Popen[str], marker: str) -> list[str]:
    assert process.stdout is not None
    lines = []
    for line in process.stdout:  # blocks until the worker writes: no sleeping, no polling
        lines.append(line)
        if marker in line:
            return lines
    raise AssertionError(f"{marker!r} never came; output: {''.join(lines)}")


@pytest.mark.parametrize("first", [signal.SIGTERM, signal.SIGINT])
def test_a_second_signal_cuts_the_drain_short(first):
    with subprocess.Popen(
        [sys.executable, "-m", "tests.unit.sdk.signal_worker"], cwd=ROOT, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    ) as process:
        try:
            read_until(process, "READY")
            process.send_signal(first)
            read_until(process, "action=worker_draining")
            process.send_signal(signal.SIGTERM)
            tail = "".join(read_until(process, "EXITED"))
            assert process.wait(timeout=10) == 0
        finally:
            process.kill()
    assert "action=worker_stop_forced signal=SIGTERM" in tail
    assert "action=task_abandoned" in tail
    assert "EXITED deleted=1 results=1" in tail  # the abandoned task is released
