"""Named SQL of the hot path, loaded from the ``sql/`` folder next to this module.

Each file holds queries of the form::

    -- name: claim
    -- One line saying what it does.
    SELECT …;

Only :mod:`app.engine.queue` and the engine loops execute them.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

SQL_DIR = Path(__file__).with_name("sql")
_HEADER = re.compile(r"^-- name: (\w+)\s*$", re.MULTILINE)


def parse(text: str) -> dict[str, str]:
    parts = _HEADER.split(text)
    queries: dict[str, str] = {}
    for name, body in zip(parts[1::2], parts[2::2], strict=True):
        lines = body.strip().splitlines()
        if not lines or not lines[0].startswith("--"):
            raise ValueError(f"query {name!r} needs a one-line description comment")
        if name in queries:
            raise ValueError(f"query {name!r} is defined twice")
        queries[name] = "\n".join(lines).rstrip().rstrip(";")
    return queries


@cache
def load() -> dict[str, str]:
    queries: dict[str, str] = {}
    for path in sorted(SQL_DIR.glob("*.sql")):
        for name, sql in parse(path.read_text()).items():
            if name in queries:
                raise ValueError(f"query {name!r} is defined in two files")
            queries[name] = sql
    return queries


def get(name: str) -> str:
    return load()[name]
