"""``KILN_DIRECT_DATABASE_URL``: the LISTEN connection and the leader-election lock use it (a
transaction-mode pooler cannot carry their sessions), the request pools keep
``KILN_DATABASE_URL``. Told apart in ``pg_stat_activity`` by an application name the direct URL
carries."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import make_url

from tests.support import api
from tests.support.polling import eventually

DIRECT_NAME = "kiln_direct_test"


@pytest.fixture
def settings(settings, database_url):
    direct = make_url(database_url).update_query_dict({"application_name": DIRECT_NAME})
    return settings.model_copy(update={
        "direct_database_url": direct.render_as_string(hide_password=False)})


async def test_listen_and_leader_sessions_use_the_direct_url(app, client, owner_db):
    await api.signup(client)  # the request pools have been used

    async def lock_holders() -> list[str]:
        return [r["application_name"] for r in await owner_db.fetch(
            "select a.application_name from pg_locks l join pg_stat_activity a using (pid) "
            "where l.locktype = 'advisory' and l.granted and a.datname = current_database()")]

    async def listeners() -> list[str]:
        return [r["application_name"] for r in await owner_db.fetch(
            "select application_name from pg_stat_activity where datname = current_database() "
            "and query ilike 'listen %'")]

    assert await eventually(lock_holders) == [DIRECT_NAME]
    assert await eventually(listeners) == [DIRECT_NAME]
    assert app.state.leader.is_leader
    pools = await owner_db.fetchval(
        "select count(*) from pg_stat_activity where datname = current_database() "
        "and usename = 'kiln_authenticator' and application_name <> $1", DIRECT_NAME)
    assert pools >= 1  # the request pools did not take the direct URL
