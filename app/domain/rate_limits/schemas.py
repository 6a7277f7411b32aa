"""Rate limits as the API takes and shows them."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

import msgspec

Window = Literal["second", "minute", "hour", "day"]
StrategyName = Annotated[str, msgspec.Meta(min_length=1, max_length=100,
                                           description="A registered strategy's name")]


class RateLimitPut(msgspec.Struct, forbid_unknown_fields=True):
    limit: Annotated[int, msgspec.Meta(ge=1, le=1_000_000_000, description="Units per window")]
    window: Window
    strategy: StrategyName | None = None
    """None: the tenant's default strategy (``fixed-window`` unless set)."""
    config: Annotated[dict[str, Any], msgspec.Meta(max_length=20)] = msgspec.field(
        default_factory=dict
    )
    """The strategy's own settings (its ``config_schema``), e.g. ``{"burst": 1}``."""


class Usage(msgspec.Struct):
    used: int
    remaining: int
    """Units that may pass now (the strategy's view at the database's clock)."""


class RateLimitOut(msgspec.Struct):
    key: str
    source: str
    """``api`` (set with PUT) or ``dynamic`` (created by the first task that used it)."""
    limit: int | None
    window: str | None
    window_seconds: float | None
    strategy: str
    config: dict[str, Any]
    usage: Usage | None
    updated_at: dt.datetime


class Strategy(msgspec.Struct):
    name: str
    title: str
    config_schema: dict[str, Any]


class StrategyList(msgspec.Struct):
    items: list[Strategy]
    default_strategy: str


class Settings(msgspec.Struct):
    default_strategy: str


class SettingsPut(msgspec.Struct, forbid_unknown_fields=True):
    default_strategy: StrategyName
