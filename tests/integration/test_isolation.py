"""Tenant isolation, generated from the models: for every table with a ``tenant_id``, tenant B
cannot read, change, delete or forge tenant A's rows at the SQL level (as ``kiln_tenant``, switched
exactly as the server does), and A's resources are 404s to B through the API.

Adding a tenant table? Add (or extend) a seeder in ``SEEDERS`` that fills it through the API (or
the way its feature writes it). A table without one fails here on purpose: nothing is skipped.
Tables are found from the models (``tenant_tables()``) and the seeders, and a catalog check fails
for any table with a ``tenant_id`` that neither names.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest
from litestar import Litestar

from app.db.models import tenant_tables
from tests.plugins.helpers import alert_loops_of, create_channel, emit
from tests.plugins.receivers import http_receiver
from tests.support import api, sql
from tests.support import protocol as p


@pytest.fixture
def settings(settings):
    # Loops off: seeded rows must stay put while we look at them. Private egress on: the alert
    # seeder delivers to a receiver on loopback.
    return settings.model_copy(update={"run_loops": False, "allow_private_egress": True})


@dataclass
class Seeding:
    client: Any
    app: Litestar
    login_db: asyncpg.Connection


Seeder = Callable[[Seeding, list[api.Account]], Awaitable[None]]


async def _identity(s: Seeding, accounts: list[api.Account]) -> None:
    """Sign-up gave tenants, users, memberships, sessions, audit entries; add keys and invites."""
    for account in accounts:
        await api.create_api_key(s.client, account)
        await api.create_invite(s.client, account)
        await api.add_member(s.client, account)


async def _engine(s: Seeding, accounts: list[api.Account]) -> None:
    """A failed task (an attempt row — a succeeded attempt is the task row itself — and logs)
    and a queued one (the hot queue), per tenant."""
    for account in accounts:
        key = api.bearer((await api.create_api_key(s.client, account,
                                                   scopes=["worker", "trigger"]))["key"])
        await p.register_workflow(s.client, key, {"name": "iso", "tasks": [{"name": "t"}]})
        worker = await p.register_worker(s.client, key, ["iso:t"])
        await p.trigger(s.client, key, "iso", {"n": 1})
        await p.trigger(s.client, key, "iso", {"n": 2})
        [task] = await p.poll(s.client, key, worker, max_tasks=1)
        logged = await s.client.post(f"/api/v1/workers/{worker}/logs", headers=key, json={
            "lines": [{"task_run_id": task["task_run_id"], "lease_id": task["lease_id"],
                       "message": "hello"}]})
        assert logged.status_code == 202, logged.text
        answer = await p.report(s.client, key, worker, [{
            "task_run_id": task["task_run_id"], "lease_id": task["lease_id"],
            "status": "failed", "error": "seeded", "retryable": False}])
        assert answer["accepted"] == [task["task_run_id"]]


async def _alerts(s: Seeding, accounts: list[api.Account]) -> None:
    """A delivered alert (channel, delivery, attempt) and one event still in the outbox."""
    with http_receiver() as receiver:
        for account in accounts:
            await create_channel(s.client, account, "webhook", {"url": receiver.url()})
            await emit(s.login_db, account.tenant_id, "run.failed")
        async with alert_loops_of(s.app) as (relay, send):
            assert await relay.run_once() == len(accounts)
            assert await send.run_once() == len(accounts)
    for account in accounts:
        await emit(s.login_db, account.tenant_id, "run.failed")


async def _triggers(s: Seeding, accounts: list[api.Account]) -> None:
    """An event that started a run, a webhook with an accepted delivery, a cron (from
    on_crons) and a schedule, per tenant."""
    for account in accounts:
        key = api.bearer((await api.create_api_key(s.client, account,
                                                   scopes=["worker", "trigger"]))["key"])
        await p.register_workflow(s.client, key, {
            "name": "trig", "tasks": [{"name": "t"}], "on_events": ["iso:*"],
            "on_crons": ["0 * * * *"]})
        pushed = await s.client.post("/api/v1/events", headers=key, json={"key": "iso:1"})
        assert pushed.status_code == 201, pushed.text
        hook = (await s.client.post("/api/v1/webhooks", headers=account.headers, json={
            "name": "iso", "event_key": "iso:hook", "verifier": "api-key"})).json()
        received = await s.client.post(f"/hooks/{hook['id']}", json={"n": 1},
                                       headers={"x-api-key": hook["secret"]})
        assert received.status_code == 202, received.text
        scheduled = await s.client.post("/api/v1/schedules", headers=key, json={
            "workflow": "trig", "at": "2099-01-01T00:00:00Z"})
        assert scheduled.status_code == 201, scheduled.text


async def _flow(s: Seeding, accounts: list[api.Account]) -> None:
    """Flow control: a static and a dynamic rate limit, a default strategy, a run holding a
    concurrency slot and one queued behind it."""
    for account in accounts:
        key = api.bearer((await api.create_api_key(s.client, account,
                                                   scopes=["worker", "trigger"]))["key"])
        limited = await s.client.put("/api/v1/rate-limits/iso", headers=account.headers,
                                     json={"limit": 10, "window": "minute"})
        assert limited.status_code == 200, limited.text
        settings = await s.client.put("/api/v1/rate-limit-settings", headers=account.headers,
                                      json={"default_strategy": "token-bucket"})
        assert settings.status_code == 200, settings.text
        await p.register_workflow(s.client, key, {
            "name": "flow", "concurrency": [{"expression": "input.k", "max_runs": 1}],
            "tasks": [{"name": "t", "rate_limits": [
                {"key": "iso"}, {"dynamic_key": "'user-' + input.k", "limit": 5,
                                 "window": "second"}]}]})
        worker = await p.register_worker(s.client, key, ["flow:t"])
        await p.trigger(s.client, key, "flow", {"k": "a"})
        await p.trigger(s.client, key, "flow", {"k": "a"})
        assert len(await p.poll(s.client, key, worker)) == 1


async def _durable(s: Seeding, accounts: list[api.Account]) -> None:
    """A durable task with a logged step, suspended in an event wait."""
    for account in accounts:
        key = api.bearer((await api.create_api_key(s.client, account,
                                                   scopes=["worker", "trigger"]))["key"])
        await p.register_workflow(s.client, key, {"name": "dur",
                                                  "tasks": [{"name": "t", "durable": True}]})
        worker = await p.register_worker(s.client, key, ["dur:t"])
        await p.trigger(s.client, key, "dur")
        [task] = await p.poll(s.client, key, worker, max_tasks=1)
        lease = {"task_run_id": task["task_run_id"], "lease_id": task["lease_id"]}
        stepped = await s.client.post(f"/api/v1/workers/{worker}/durable/steps", headers=key,
                                      json={**lease, "seq": 1, "name": "s", "result": 1})
        assert stepped.status_code == 200, stepped.text
        waited = await s.client.post(f"/api/v1/workers/{worker}/durable/wait", headers=key,
                                     json={**lease, "seq": 2, "name": "w",
                                           "conditions": {"any_of": [{"event": "iso:never"}]}})
        assert waited.json() == {"suspended": True}, waited.text


SEEDERS: list[tuple[frozenset[str], Seeder]] = [
    (frozenset({"memberships", "sessions", "audit_log", "api_keys", "invites"}), _identity),
    (frozenset({"workflows", "workflow_versions", "workflow_runs", "task_runs", "queue_items",
                "workers", "task_attempts", "task_logs", "tenant_usage"}), _engine),
    (frozenset({"outbox", "alert_channels", "alert_deliveries", "alert_attempts"}), _alerts),
    (frozenset({"events", "event_subscriptions", "webhooks", "webhook_deliveries", "crons",
                "schedules"}), _triggers),
    (frozenset({"flow_queue", "concurrency_holds", "rate_limits", "rate_limit_settings"}),
     _flow),
    (frozenset({"durable_log", "durable_waits"}), _durable),
]
COVERED = frozenset().union(*(tables for tables, _ in SEEDERS))


def _seeder_for(table: str) -> Seeder:
    for tables, seeder in SEEDERS:
        if table in tables:
            return seeder
    pytest.fail(
        f"tenant table {table!r} has no seed strategy: add a seeder for it to SEEDERS in"
        f" {__name__} so the isolation matrix can check it"
    )


async def _privileges(owner_db, table: str) -> dict[str, bool]:
    row = await owner_db.fetchrow(
        "select has_table_privilege('kiln_tenant', $1, 'SELECT') as select,"
        " has_table_privilege('kiln_tenant', $1, 'INSERT') as insert,"
        " has_table_privilege('kiln_tenant', $1, 'UPDATE') as update,"
        " has_table_privilege('kiln_tenant', $1, 'DELETE') as delete", f"public.{table}",
    )
    return dict(row)


async def _copy_statement(owner_db, table: str, tenant_id: str) -> tuple[str, list[Any]]:
    """An INSERT of a copy of one of the tenant's rows (fresh ``id``), generated from the
    catalog so it works for any table."""
    columns = await owner_db.fetch(
        "select attname, format_type(atttypid, atttypmod) as type from pg_attribute"
        " where attrelid = $1::regclass and attnum > 0 and not attisdropped"
        " and attgenerated = '' and attidentity <> 'a' order by attnum", f"public.{table}",
    )
    row = await owner_db.fetchrow(
        f'select * from "{table}" where tenant_id = $1::uuid limit 1', tenant_id
    )
    names = [c["attname"] for c in columns]
    values = [uuid.uuid4() if c["attname"] == "id" and c["type"] == "uuid" else row[c["attname"]]
              for c in columns]
    placeholders = ", ".join(f"${i}::{c['type']}" for i, c in enumerate(columns, 1))
    quoted = ", ".join(f'"{n}"' for n in names)
    return f'insert into "{table}" ({quoted}) values ({placeholders})', values


async def _refused(login_db, tenant: str, method: str, query: str, *args: Any) -> str:
    """Run a statement as ``tenant`` and return the error class it raised."""
    try:
        await sql.as_tenant(login_db, tenant, method, query, *args)
    except asyncpg.PostgresError as exc:
        return f"{type(exc).__name__}: {exc}"
    return "not refused"


# Mapped tables come from the models; a table only the engine's raw SQL touches joins the matrix
# by being named in a seeder.
MATRIX = sorted(set(tenant_tables()) | COVERED)


async def test_every_tenant_table_in_the_database_is_in_the_matrix(owner_db):
    in_database = set(await sql.tenant_tables_in_catalog(owner_db))
    missing = in_database - set(MATRIX)
    assert missing == set(), (
        f"tables {sorted(missing)} have a tenant_id but neither a model in app.db.models nor a"
        f" seeder in {__name__}.SEEDERS, so the isolation matrix does not check them"
    )
    assert set(MATRIX) - in_database == set(), "the matrix names tables the database lacks"


@pytest.mark.parametrize("table", MATRIX)
async def test_tenant_b_cannot_touch_tenant_a_rows(client, app, owner_db, login_db, table):
    seeder = _seeder_for(table)
    a = await api.signup(client, tenant_name="A")
    b = await api.signup(client, tenant_name="B")
    await seeder(Seeding(client, app, login_db), [a, b])
    count = f'select count(*) from "{table}" where tenant_id = $1::uuid'
    a_rows = await owner_db.fetchval(count, a.tenant_id)
    b_rows = await owner_db.fetchval(count, b.tenant_id)
    assert a_rows > 0, f"the seeder of {table} left no rows for tenant A"
    assert b_rows > 0, f"the seeder of {table} left no rows for tenant B"
    can = await _privileges(owner_db, table)
    denied = "InsufficientPrivilegeError: permission denied"

    # Read: B sees none of A's rows and all of its own; A (the control) sees its own.
    if can["select"]:
        assert await sql.as_tenant(login_db, b.tenant_id, "fetchval", count, a.tenant_id) == 0
        assert await sql.as_tenant(login_db, b.tenant_id, "fetchval",
                                   f'select count(*) from "{table}"') == b_rows
        assert await sql.as_tenant(login_db, a.tenant_id, "fetchval", count, a.tenant_id) == a_rows
    else:
        assert (await _refused(login_db, b.tenant_id, "fetch", f'select * from "{table}"')
                ).startswith(denied)

    # Update and delete aimed at A's rows match nothing (or are not granted at all).
    update = f'update "{table}" set tenant_id = tenant_id where tenant_id = $1::uuid'
    delete = f'delete from "{table}" where tenant_id = $1::uuid'
    for verb, statement in (("update", update), ("delete", delete)):
        if can[verb] and can["select"]:
            status = await sql.as_tenant(login_db, b.tenant_id, "execute", statement, a.tenant_id)
            assert status == f"{verb.upper()} 0", f"{table}: {verb} as B hit A's rows"
        else:
            assert (await _refused(login_db, b.tenant_id, "execute", statement, a.tenant_id)
                    ).startswith(denied)

    # Moving B's own rows to A fails the WITH CHECK policy.
    if can["update"] and can["select"]:
        moved = await _refused(login_db, b.tenant_id, "execute",
                               f'update "{table}" set tenant_id = $1::uuid', a.tenant_id)
        assert "row-level security" in moved, moved

    # Insert with A's tenant_id fails the WITH CHECK policy.
    insert, values = await _copy_statement(owner_db, table, a.tenant_id)
    refusal = await _refused(login_db, b.tenant_id, "execute", insert, *values)
    if can["insert"]:
        assert "row-level security" in refusal, refusal
    else:
        assert refusal.startswith(denied), refusal

    assert await owner_db.fetchval(count, a.tenant_id) == a_rows


async def test_tenants_and_users_of_others_are_invisible(client, login_db):
    a = await api.signup(client)
    b = await api.signup(client)

    tenants = await sql.as_tenant(login_db, b.tenant_id, "fetch", "select id from tenants")
    renamed = await sql.as_tenant(login_db, b.tenant_id, "execute",
                                  "update tenants set name = 'pwned' where id = $1::uuid",
                                  a.tenant_id)
    users = await sql.as_tenant(login_db, b.tenant_id, "fetch", "select id from users")
    user_update = await sql.as_tenant(login_db, b.tenant_id, "execute",
                                      "update users set name = 'pwned' where id = $1::uuid",
                                      a.user_id)

    assert [str(r["id"]) for r in tenants] == [b.tenant_id]
    assert renamed == "UPDATE 0"
    assert [str(r["id"]) for r in users] == [b.user_id]
    assert user_update == "UPDATE 0"


async def test_api_answers_404_for_another_tenants_resources(client):
    a = await api.signup(client)
    b = await api.signup(client)
    a_key = await api.create_api_key(client, a)
    a_invite = await api.create_invite(client, a)
    a_member = await api.add_member(client, a, role="viewer")

    attempts = {
        "revoke key": await client.delete(f"/api/v1/api-keys/{a_key['id']}", headers=b.headers),
        "revoke invite": await client.delete(f"/api/v1/members/invites/{a_invite['id']}",
                                             headers=b.headers),
        "change role": await client.patch(f"/api/v1/members/{a_member.user_id}",
                                          json={"role": "admin"}, headers=b.headers),
        "remove member": await client.delete(f"/api/v1/members/{a_member.user_id}",
                                             headers=b.headers),
    }

    assert {name: r.status_code for name, r in attempts.items()} == dict.fromkeys(attempts, 404)
    # Nothing of A's changed, and none of it shows up in B's lists.
    assert (await client.get("/api/v1/me", headers=api.bearer(a_key["key"]))).status_code == 200
    b_views = [
        await client.get(path, headers=b.headers)
        for path in ("/api/v1/api-keys", "/api/v1/members/invites", "/api/v1/members",
                     "/api/v1/audit")
    ]
    for view in b_views:
        assert view.status_code == 200
        for secret_of_a in (a_key["id"], a_invite["id"], a_member.user_id, a.user_id,
                            a.tenant_id):
            assert secret_of_a not in view.text
    a_members = (await client.get("/api/v1/members", headers=a.headers)).json()["items"]
    assert {m["user_id"]: m["role"] for m in a_members}[a_member.user_id] == "viewer"


async def test_a_runs_are_404_to_b(client):
    a = await api.signup(client)
    b = await api.signup(client)
    a_key = api.bearer((await api.create_api_key(client, a, scopes=["worker"]))["key"])
    b_key = api.bearer((await api.create_api_key(client, b, scopes=["worker"]))["key"])
    await p.register_workflow(client, a_key, {"name": "iso", "tasks": [{"name": "t"}]})
    run = await p.trigger(client, a_key, "iso")

    seen_by_b = await client.get(f"/api/v1/runs/{run['id']}", headers=b_key)
    listed_by_b = await client.get("/api/v1/runs", headers=b_key)

    assert seen_by_b.status_code == 404
    assert run["id"] not in listed_by_b.text
