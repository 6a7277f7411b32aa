"""API keys: issue once, authenticate by scope, expire, revoke, and never leak the secret."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest

from app.domain.api_keys import secrets as key_secrets
from tests.support import api
from tests.support.polling import eventually


async def _cached(app, client, key: str) -> None:
    """Use ``key`` once the server listens for key changes, and check it is now cached (so the
    revocation tests prove the cache is cleared, not bypassed)."""
    await eventually(lambda: _true(app.state.engine.dispatcher.connected.is_set()))
    assert (await client.get("/api/v1/me", headers=api.bearer(key))).status_code == 200
    assert app.state.api_key_cache.get(key_secrets.digest(key)) is not None


async def _true(value: bool) -> bool:
    return value

SECRET_COLUMN_TYPES = ("text", "character varying", "bytea", "jsonb", "json", "ARRAY")


async def test_create_returns_the_secret_once_and_stores_only_hash_and_prefix(client, owner_db):
    owner = await api.signup(client)

    created = await api.create_api_key(client, owner, scopes=["worker", "trigger"])

    key = created["key"]
    assert key_secrets.well_formed(key)
    assert created["prefix"] == key[: key_secrets.DISPLAY_LENGTH]
    assert created["scopes"] == ["trigger", "worker"]
    assert created["created_by"] == owner.user_id
    row = await owner_db.fetchrow("select * from api_keys where id = $1::uuid", created["id"])
    assert bytes(row["key_hash"]) == hashlib.sha256(key.encode()).digest()
    assert row["prefix"] == created["prefix"]
    listed = await client.get("/api/v1/api-keys", headers=owner.headers)
    assert listed.status_code == 200
    (item,) = listed.json()["items"]
    assert item["id"] == created["id"]
    assert "key" not in item


async def test_plaintext_key_is_nowhere_in_the_database_or_later_responses(client, owner_db):
    owner = await api.signup(client)
    created = await api.create_api_key(client, owner)
    key = created["key"]
    body = key.removeprefix(key_secrets.PREFIX)
    # Use it and revoke it so every code path that could store or echo it has run.
    assert (await client.get("/api/v1/me", headers=api.bearer(key))).status_code == 200
    assert (await client.delete(f"/api/v1/api-keys/{created['id']}",
                                headers=owner.headers)).status_code == 204

    columns = await owner_db.fetch(
        "select table_schema, table_name, column_name, data_type from information_schema.columns"
        " where table_schema not in ('pg_catalog', 'information_schema')"
        " and data_type = any($1::text[])", list(SECRET_COLUMN_TYPES),
    )
    assert {c["table_name"] for c in columns} >= {"api_keys", "audit_log", "users"}
    hits = []
    for column in columns:
        ident = f'"{column["table_schema"]}"."{column["table_name"]}"'
        as_text = (
            f'encode("{column["column_name"]}", \'escape\')' if column["data_type"] == "bytea"
            else f'"{column["column_name"]}"::text'
        )
        found = await owner_db.fetchval(
            f"select count(*) from {ident} where strpos({as_text}, $1) > 0", body
        )
        if found:
            hits.append(f"{ident}.{column['column_name']}")
    assert hits == []

    responses = [
        await client.get("/api/v1/api-keys", headers=owner.headers),
        await client.get("/api/v1/me", headers=owner.headers),
        await client.get("/api/v1/audit", headers=owner.headers),
    ]
    for response in responses:
        assert response.status_code == 200
        assert body not in response.text


async def test_api_key_authenticates_as_its_tenant_with_its_scopes(client):
    owner = await api.signup(client, tenant_name="Keyed")
    key = await api.create_api_key(client, owner, scopes=["read"])

    me = await client.get("/api/v1/me", headers=api.bearer(key["key"]))

    assert me.status_code == 200
    body = me.json()
    assert body["kind"] == "api_key"
    assert body["tenant"] == {"id": owner.tenant_id, "name": "Keyed"}
    assert body["api_key_id"] == key["id"]
    assert body["scopes"] == ["read"]
    assert body["permissions"] == ["read"]


@pytest.mark.parametrize(("scopes", "expected"), [
    (["read"], {"keys": 403, "members": 200, "audit": 403}),
    (["trigger"], {"keys": 403, "members": 200, "audit": 403}),
    (["worker"], {"keys": 403, "members": 200, "audit": 403}),
    (["admin"], {"keys": 201, "members": 200, "audit": 200}),
])
async def test_scopes_decide_what_a_key_may_do(client, scopes, expected):
    owner = await api.signup(client)
    key = api.bearer((await api.create_api_key(client, owner, scopes=scopes))["key"])

    outcome = {
        "keys": (await client.post("/api/v1/api-keys", json={"name": "n"}, headers=key)),
        "members": (await client.get("/api/v1/members", headers=key)),
        "audit": (await client.get("/api/v1/audit", headers=key)),
    }

    assert {name: r.status_code for name, r in outcome.items()} == expected
    if expected["keys"] == 403:
        assert outcome["keys"].json()["error"]["code"] == "forbidden"
        assert "manage" in outcome["keys"].json()["error"]["message"]


async def test_revocation_is_immediate_and_idempotent(app, client, owner_db):
    owner = await api.signup(client)
    created = await api.create_api_key(client, owner)
    key = api.bearer(created["key"])
    await _cached(app, client, created["key"])

    first = await client.delete(f"/api/v1/api-keys/{created['id']}", headers=owner.headers)
    second = await client.delete(f"/api/v1/api-keys/{created['id']}", headers=owner.headers)

    assert (first.status_code, second.status_code) == (204, 204)
    refused = await client.get("/api/v1/me", headers=key)
    assert refused.status_code == 401
    assert "revoked" in refused.json()["error"]["message"]
    revocations = await owner_db.fetchval(
        "select count(*) from audit_log where action = 'api_key.revoked'"
    )
    assert revocations == 1
    listed = (await client.get("/api/v1/api-keys", headers=owner.headers)).json()
    assert listed["items"][0]["revoked_at"] is not None


async def test_a_revocation_elsewhere_reaches_the_cache_through_a_notification(
    app, client, owner_db
):
    """Another replica (here: SQL as the owner) revokes: the api_keys trigger notifies and this
    server's LISTEN connection clears its cache."""
    owner = await api.signup(client)
    created = await api.create_api_key(client, owner)
    await _cached(app, client, created["key"])

    await owner_db.execute("update api_keys set revoked_at = now() where id = $1::uuid",
                           created["id"])

    refused = await eventually(lambda: _refused(client, created["key"]))
    assert "revoked" in refused.json()["error"]["message"]


async def _refused(client, key: str):
    response = await client.get("/api/v1/me", headers=api.bearer(key))
    return response if response.status_code == 401 else None


async def test_revoking_an_unknown_key_is_404(client):
    owner = await api.signup(client)
    response = await client.delete(
        "/api/v1/api-keys/0190f2a8-0000-7000-8000-000000000000", headers=owner.headers
    )
    assert response.status_code == 404


async def test_expired_key_is_refused(app, client, owner_db):
    owner = await api.signup(client)
    soon = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
    created = await api.create_api_key(client, owner, expires_at=soon)
    await _cached(app, client, created["key"])

    # Moving the expiry into the past stands for time passing; the change also notifies, which
    # clears the cached key (a key that really expires is cached no longer than its expiry).
    await owner_db.execute(
        "update api_keys set expires_at = now() - interval '1 second' where id = $1::uuid",
        created["id"],
    )

    response = await eventually(lambda: _refused(client, created["key"]))
    assert "expired" in response.json()["error"]["message"]


@pytest.mark.parametrize("expires_at", ["2001-01-01T00:00:00Z", "2999-01-01T00:00:00"])
async def test_expiry_must_be_in_the_future_and_timezone_aware(client, owner_db, expires_at):
    owner = await api.signup(client)
    response = await client.post("/api/v1/api-keys", json={"name": "k", "expires_at": expires_at},
                                 headers=owner.headers)
    assert response.status_code == 422
    assert await owner_db.fetchval("select count(*) from api_keys") == 0


async def test_malformed_and_unknown_keys_are_refused(client):
    owner = await api.signup(client)
    key = (await api.create_api_key(client, owner))["key"]
    flipped = key[:-1] + ("A" if key[-1] != "A" else "B")
    unknown = key_secrets.generate()

    bad_checksum = await client.get("/api/v1/me", headers=api.bearer(flipped))
    truncated = await client.get("/api/v1/me", headers=api.bearer(key[:-3]))
    not_issued = await client.get("/api/v1/me", headers=api.bearer(unknown))

    assert [r.status_code for r in (bad_checksum, truncated, not_issued)] == [401, 401, 401]
    assert "checksum" in bad_checksum.json()["error"]["message"]
    assert "not valid" in not_issued.json()["error"]["message"]


async def test_last_used_at_is_written_at_most_once_a_minute(app, client, owner_db):
    owner = await api.signup(client)
    created = await api.create_api_key(client, owner)
    key = api.bearer(created["key"])
    query = "select last_used_at from api_keys where id = $1::uuid"
    assert await owner_db.fetchval(query, created["id"]) is None

    await client.get("/api/v1/me", headers=key)
    first = await owner_db.fetchval(query, created["id"])
    await client.get("/api/v1/me", headers=key)
    second = await owner_db.fetchval(query, created["id"])

    assert first is not None
    assert second == first
    # A minute later (moved back rather than waited for), the next use writes it again. By then
    # the server's few-second cache of the resolved key has long expired: drop it here too.
    await owner_db.execute(
        "update api_keys set last_used_at = last_used_at - interval '61 seconds'"
        " where id = $1::uuid", created["id"],
    )
    app.state.api_key_cache.clear()
    await client.get("/api/v1/me", headers=key)
    third = await owner_db.fetchval(query, created["id"])
    assert third > first - dt.timedelta(seconds=61)
    listed = (await client.get("/api/v1/api-keys", headers=owner.headers)).json()
    assert dt.datetime.fromisoformat(listed["items"][0]["last_used_at"]) == third


async def test_key_list_is_paginated_newest_first(client):
    owner = await api.signup(client)
    ids = [(await api.create_api_key(client, owner, name=f"k{i}"))["id"] for i in range(3)]

    first = (await client.get("/api/v1/api-keys?limit=2", headers=owner.headers)).json()
    second = (await client.get(f"/api/v1/api-keys?limit=2&cursor={first['next_cursor']}",
                               headers=owner.headers)).json()

    assert [k["id"] for k in first["items"] + second["items"]] == ids[::-1]
    assert second["next_cursor"] is None


async def test_default_page_size_is_50(client, owner_db):
    owner = await api.signup(client)
    await api.create_api_key(client, owner)
    template = await owner_db.fetchrow("select * from api_keys")
    await owner_db.execute(
        "insert into api_keys (tenant_id, id, name, prefix, key_hash, scopes)"
        " select $1, gen_random_uuid(), 'bulk', 'kiln_bulk', sha256(g::text::bytea), '{read}'"
        " from generate_series(1, 60) g", template["tenant_id"],
    )

    page = (await client.get("/api/v1/api-keys", headers=owner.headers)).json()

    assert len(page["items"]) == 50
    assert page["next_cursor"]
