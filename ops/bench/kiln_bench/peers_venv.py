"""ops/bench/.peers-venv: procrastinate, pgqueuer (the peers of ``compare``) and py-spy
(``--profile``), kept out of the project's .venv. Made on first use, pinned."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from kiln_bench.live import ROOT

VENV = ROOT / "ops" / "bench" / ".peers-venv"
PYTHON = VENV / "bin" / "python"
PY_SPY = VENV / "bin" / "py-spy"
REQUIREMENTS = ["procrastinate[psycopg]==3.10.0", "psycopg[binary]==3.3.9", "pgqueuer==1.6.0",
                "asyncpg==0.32.0", "py-spy==0.4.3"]
MARKER = VENV / ".bench-requirements"


def ensure() -> Path:
    """Create or update the venv when its pinned requirements changed; return its python."""
    wanted = "\n".join(REQUIREMENTS)
    if MARKER.exists() and MARKER.read_text() == wanted and PYTHON.exists():
        return PYTHON
    base = getattr(sys, "_base_executable", sys.executable)
    sys.stderr.write(f"bench: installing {', '.join(REQUIREMENTS)} into {VENV}…\n")
    if not PYTHON.exists():
        subprocess.run([base, "-m", "venv", str(VENV)], check=True)
    subprocess.run([str(PYTHON), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    *REQUIREMENTS], check=True)
    MARKER.write_text(wanted)
    return PYTHON
