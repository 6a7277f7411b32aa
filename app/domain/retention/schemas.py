"""A tenant's retention of finished runs, as the API takes and shows it."""

from __future__ import annotations

from typing import Annotated

import msgspec

Days = Annotated[float, msgspec.Meta(
    gt=0, le=3650,
    description="Days a finished run (with its tasks, attempts and logs) is kept; a fraction "
                "of a day works too (0.5 = 12 hours)")]


class Retention(msgspec.Struct):
    run_retention_days: float


class RetentionPut(msgspec.Struct, forbid_unknown_fields=True):
    run_retention_days: Days
