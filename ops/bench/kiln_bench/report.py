"""What a run shows: a status line on stderr while it runs, then a table and one JSON line per
scenario on stdout, and everything in ``ops/bench/results/<timestamp>.json``."""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parents[1] / "results"


def percentiles(values: Sequence[float], points: Iterable[int] = (50, 95, 99)) -> dict[str, float]:
    """Nearest-rank percentiles, in the unit of ``values``."""
    ordered = sorted(values)
    if not ordered:
        return {f"p{p}": math.nan for p in points}
    return {f"p{p}": ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))]
            for p in points}


def ms(values: Sequence[float]) -> dict[str, float]:
    """Percentiles of seconds, in milliseconds rounded to 0.01."""
    return {key: round(value * 1000, 2) for key, value in percentiles(values).items()}


class Status:
    """One status line on stderr, rewritten in place (plain lines when stderr is not a tty)."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.scenario = ""
        self._last = 0.0

    def __call__(self, message: str, *, force: bool = False) -> None:
        now = time.monotonic()
        if not self.tty and not force and now - self._last < 2.0:
            return  # keep logs readable: a plain line at most every 2 s
        self._last = now
        line = f"bench[{self.scenario}] {message}"
        if self.tty:
            sys.stderr.write("\r\033[2K" + line[:160])
        else:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()

    def done(self, message: str) -> None:
        if self.tty:
            sys.stderr.write("\r\033[2K")
        sys.stderr.write(f"bench[{self.scenario}] {message}\n")
        sys.stderr.flush()


@dataclass
class Row:
    """One printed figure: ``scenario | system | metric | value unit | note``."""

    scenario: str
    system: str
    metric: str
    value: float | str
    unit: str = ""
    note: str = ""


@dataclass
class Report:
    started_at: str = field(default_factory=lambda: time.strftime("%Y%m%dT%H%M%S"))
    environment: dict[str, Any] = field(default_factory=dict)
    scenarios: list[dict[str, Any]] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)

    def add(self, record: dict[str, Any], rows: list[Row]) -> None:
        """Keep a scenario's record and print its JSON line at once (so a later failure or
        Ctrl-C does not lose it)."""
        self.scenarios.append(record)
        self.rows.extend(rows)
        sys.stdout.write(json.dumps(record, default=str) + "\n")
        sys.stdout.flush()

    def table(self) -> str:
        header = ("scenario", "system", "metric", "value", "note")
        lines = [header] + [
            (r.scenario, r.system, r.metric,
             f"{_fmt(r.value)} {r.unit}".rstrip(), r.note) for r in self.rows]
        widths = [max(len(line[i]) for line in lines) for i in range(4)]
        out = []
        for index, line in enumerate(lines):
            cells = [cell.ljust(width) for cell, width in zip(line[:4], widths, strict=True)]
            cells[3] = line[3].rjust(widths[3]) if index else cells[3]
            out.append("  ".join([*cells, line[4]]).rstrip())
            if index == 0:
                out.append("  ".join("-" * width for width in widths))
        return "\n".join(out)

    def write(self) -> Path:
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        path = RESULTS_DIR / f"{self.started_at}.json"
        path.write_text(json.dumps({"started_at": self.started_at,
                                    "environment": self.environment,
                                    "scenarios": self.scenarios}, indent=2, default=str) + "\n")
        return path


def _fmt(value: float | str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, float) and math.isnan(value):
        return "n/a"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.2f}"
