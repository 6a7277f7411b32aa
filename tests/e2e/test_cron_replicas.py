"""Two live ``kiln server start`` processes on one database, both running the cron ticker: each
due tick starts exactly one run. The test makes ticks due by moving the cron's due-time row into
the past (its "clock"), so it never waits for a real minute."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import make_tenant
from tests.support.live import LiveServer

pytestmark = pytest.mark.slow
TICKS = 6


async def test_each_due_tick_fires_once_with_two_server_processes(
    live_server, server_env, tmp_path: Path, owner_db
):
    second = LiveServer(env=server_env, log_path=tmp_path / "server-2.log").start()
    try:
        tenant = make_tenant(live_server.url)
        async with httpx.AsyncClient(base_url=live_server.url, headers=tenant.headers,
                                     timeout=30) as http:
            registered = await http.post("/api/v1/workflows", json={
                "name": "minutely", "tasks": [{"name": "t"}]})
            assert registered.status_code == 201, registered.text
            # Yearly, so that no real tick comes due while the test runs (with "* * * * *", a
            # minute boundary during it fired one run more than the test's own ticks).
            cron = (await http.post("/api/v1/crons", json={
                "workflow": "minutely", "expression": "0 0 1 1 *"})).json()
        cron_id = uuid.UUID(cron["id"])
        count = "select count(*) from workflow_runs where metadata->>'cron_id' = $1"
        for tick in range(1, TICKS + 1):
            # Due a second ago, off the minute grid: exactly one run, for that instant. Like
            # every writer of a due time, the move wakes the idle tickers (kiln_timers).
            async with owner_db.transaction():
                await owner_db.execute(
                    "update crons set next_fire_at = now() - interval '1 second' where id = $1",
                    cron_id)
                await owner_db.execute("select pg_notify('kiln_timers', '')")
            deadline = time.monotonic() + 15
            while await owner_db.fetchval(count, str(cron_id)) < tick:
                assert time.monotonic() < deadline, f"tick {tick} did not fire"
                await asyncio.sleep(0.05)  # polling the database for the run
            assert await owner_db.fetchval(
                "select next_fire_at > now() from crons where id = $1", cron_id)
        # Proving a negative needs a bounded wait: both tickers pass every second.
        await asyncio.sleep(2.5)
        ticks = await owner_db.fetch(
            "select metadata->>'cron_tick' as tick from workflow_runs"
            " where metadata->>'cron_id' = $1", str(cron_id))
        assert len(ticks) == TICKS
        assert len({row["tick"] for row in ticks}) == TICKS
        assert second.process is not None
        assert second.process.poll() is None  # both replicas were up throughout
    finally:
        second.kill()

