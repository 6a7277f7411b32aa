"""Waking the idle schedule and cron firers (:mod:`app.domain.schedules.firing`) when their tables
change."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.engine.dispatcher import TIMERS_CHANNEL


async def timers_changed(session: AsyncSession) -> None:
    """In a transaction that creates or changes schedules or crons: at its commit, every
    replica's idle firers look again (one may now be due sooner than they sleep)."""
    await session.execute(select(func.pg_notify(TIMERS_CHANNEL, "")))
