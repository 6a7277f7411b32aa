"""What the fuzz suite exercised, printed at the end of the session (``pytest_terminal_summary``
in this folder's conftest): log lines alone get lost when a migration reconfigures logging."""

from __future__ import annotations

import collections

TALLY: collections.Counter[str] = collections.Counter()
