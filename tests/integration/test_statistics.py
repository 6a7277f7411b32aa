"""The analyzer loop keeps the planner statistics of the hot engine tables fresh (migration
0008), as the engine role, and leaves tables that barely changed alone."""

from __future__ import annotations

import asyncio

import pytest

from app.engine.loops import Analyzer
from tests.support import api
from tests.support import protocol as p
from tests.support.polling import eventually


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"run_loops": False})


async def _analyzed(owner_db, table: str) -> int:
    return int(await owner_db.fetchval(
        "select analyze_count + autoanalyze_count from pg_stat_user_tables where relname = $1",
        table))


async def _three_runs(client, owner_db) -> None:  # type: ignore[no-untyped-def]
    """Trigger three runs, so workflow_runs and task_runs changed by 3 rows each."""
    account = await api.signup(client)
    key = api.bearer((await api.create_api_key(client, account))["key"])
    await p.register_workflow(client, key, {"name": "one", "tasks": [{"name": "one"}]})
    for _ in range(3):
        await p.trigger(client, key, "one")
    # The request backends report their row counts to pg_stat_user_tables within about a second.
    await eventually(lambda: owner_db.fetchval(
        "select min(n_mod_since_analyze) >= 3 from pg_stat_user_tables"
        " where relname in ('workflow_runs', 'task_runs')"))


async def test_analyzer_analyzes_hot_tables_that_grew_and_only_those(app, client, owner_db):
    await _three_runs(client, owner_db)
    analyzer = Analyzer(app.state.db, min_changes=3, fraction=0.0)
    before = {t: await _analyzed(owner_db, t) for t in ("workflow_runs", "task_runs", "outbox")}

    assert await analyzer.run_once() >= 2  # workflow_runs and task_runs changed by 3 rows

    after = {t: await _analyzed(owner_db, t) for t in before}
    assert after["workflow_runs"] > before["workflow_runs"]
    assert after["task_runs"] > before["task_runs"]
    assert after["outbox"] == before["outbox"]  # nothing written there
    assert await Analyzer(app.state.db, min_changes=1_000_000).run_once() == 0


async def test_analyzer_skips_a_table_being_vacuumed_instead_of_waiting(app, client, owner_db):
    """A vacuum holds SHARE UPDATE EXCLUSIVE; an ANALYZE that waits behind an autovacuum gets
    that vacuum cancelled (under load, every vacuum of the hot tables was: migration 0010). The
    lock is held here by an open transaction, as a vacuum would hold it."""
    await _three_runs(client, owner_db)
    before = {t: await _analyzed(owner_db, t) for t in ("workflow_runs", "task_runs")}
    holder = owner_db.transaction()
    await holder.start()
    try:
        await owner_db.execute("lock table task_runs in share update exclusive mode")
        analyzer = Analyzer(app.state.db, min_changes=3, fraction=0.0)
        # Waiting for the lock would hang here until the holder lets go.
        analyzed = await asyncio.wait_for(analyzer.run_once(), timeout=30)
    finally:
        await holder.rollback()

    assert analyzed >= 1
    assert await _analyzed(owner_db, "workflow_runs") > before["workflow_runs"]
    assert await _analyzed(owner_db, "task_runs") == before["task_runs"]
