"""Bad input gets a clear ``{"error": {"code", "message"}}`` with the right status, and nothing is
written."""

from __future__ import annotations

import json

import pytest

from tests.support import api, sql

SIGNUP = "/api/v1/auth/signup"
LISTS = ["/api/v1/api-keys", "/api/v1/audit", "/api/v1/members", "/api/v1/members/invites"]


def _signup(**changes: object) -> dict[str, object]:
    body: dict[str, object] = {
        "email": "new@example.com", "password": api.PASSWORD, "tenant_name": "New",
    }
    body.update(changes)
    return body


def _assert_error(response, status: int, code: str, *words: str) -> None:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str)
    assert error["message"]
    for word in words:
        assert word in error["message"], error["message"]


@pytest.mark.parametrize(("body", "field"), [
    (_signup(email="not-an-email"), "email"),
    (_signup(email="two@@example.com"), "email"),
    (_signup(email="spaces in@example.com"), "email"),
    (_signup(password="short"), "password"),
    (_signup(tenant_name=""), "tenant_name"),
    (_signup(tenant_name="x" * 101), "tenant_name"),
    ({"email": "new@example.com", "password": api.PASSWORD}, "tenant_name"),
    (_signup(password=12345678901), "password"),
])
async def test_invalid_signup_fields_are_422_and_write_nothing(client, owner_db, body, field):
    before = await sql.row_counts(owner_db)

    response = await client.post(SIGNUP, json=body)

    _assert_error(response, 422, "validation_error", field)
    assert await sql.row_counts(owner_db) == before


async def test_duplicate_email_is_409_and_writes_nothing(client, owner_db):
    account = await api.signup(client)
    before = await sql.row_counts(owner_db)

    response = await client.post(SIGNUP, json=_signup(email=account.email.upper()))

    _assert_error(response, 409, "conflict", "already exists")
    assert await sql.row_counts(owner_db) == before


@pytest.mark.parametrize(("path", "body"), [
    (SIGNUP, _signup(is_admin=True)),
    ("/api/v1/auth/login", {"email": "a@example.com", "password": "x" * 10, "remember": True}),
    ("/api/v1/api-keys", {"name": "k", "secret": "mine"}),
    ("/api/v1/members/invites", {"email": "b@example.com", "tenant_id": "x"}),
])
async def test_unknown_fields_are_422_and_write_nothing(client, owner_db, path, body):
    owner = await api.signup(client)
    before = await sql.row_counts(owner_db)

    response = await client.post(path, json=body, headers=owner.headers)

    _assert_error(response, 422, "validation_error")
    assert "unknown" in response.json()["error"]["message"].lower()
    assert await sql.row_counts(owner_db) == before


async def test_oversize_body_is_413_and_writes_nothing(client, owner_db, settings):
    before = await sql.row_counts(owner_db)
    body = json.dumps(_signup(name="x" * settings.max_body_bytes))

    response = await client.post(SIGNUP, content=body,
                                 headers={"Content-Type": "application/json"})

    _assert_error(response, 413, "payload_too_large")
    assert await sql.row_counts(owner_db) == before


@pytest.mark.parametrize("raw", ['{"email": ', "not json at all", '{"email": "a"}}', ""])
async def test_invalid_json_is_400_and_writes_nothing(client, owner_db, raw):
    before = await sql.row_counts(owner_db)

    response = await client.post(SIGNUP, content=raw, headers={"Content-Type": "application/json"})

    _assert_error(response, 400, "bad_request")
    assert await sql.row_counts(owner_db) == before


@pytest.mark.parametrize("body", [[], "a string", 42, None])
async def test_json_that_is_not_an_object_is_refused(client, owner_db, body):
    before = await sql.row_counts(owner_db)

    response = await client.post(SIGNUP, content=json.dumps(body),
                                 headers={"Content-Type": "application/json"})

    assert response.status_code in (400, 422)
    assert set(response.json()["error"]) >= {"code", "message"}
    assert await sql.row_counts(owner_db) == before


@pytest.mark.parametrize("query", [
    "limit=0", "limit=101", "limit=-1", "limit=ten", "cursor=%%%", "cursor=bm90LWEtdXVpZA",
    "cursor=" + "A" * 200, "cursor=é",
])
async def test_bad_cursor_or_limit_is_422(client, query):
    owner = await api.signup(client)

    for path in LISTS:
        response = await client.get(f"{path}?{query}", headers=owner.headers)

        _assert_error(response, 422, "validation_error")
        name = query.partition("=")[0]
        assert name in response.json()["error"]["message"]


async def test_limit_at_the_bounds_is_accepted(client):
    owner = await api.signup(client)
    for path in LISTS:
        for limit in (1, 100):
            response = await client.get(f"{path}?limit={limit}", headers=owner.headers)
            assert response.status_code == 200, response.text


async def test_malformed_ids_in_paths_are_not_found(client):
    owner = await api.signup(client)
    response = await client.delete("/api/v1/api-keys/not-a-uuid", headers=owner.headers)
    assert response.status_code in (400, 404)
    assert set(response.json()["error"]) >= {"code", "message"}


async def test_unknown_api_route_is_a_json_404(client):
    response = await client.get("/api/v1/no-such-thing")
    _assert_error(response, 404, "not_found")


async def test_bad_invite_accept_bodies_write_nothing(client, owner_db):
    owner = await api.signup(client)
    invite = await api.create_invite(client, owner)
    before = await sql.row_counts(owner_db)

    short = await client.post("/api/v1/members/invites/accept",
                              json={"token": invite["token"], "password": "short"})
    empty = await client.post("/api/v1/members/invites/accept", json={"token": ""})

    _assert_error(short, 422, "validation_error", "password")
    _assert_error(empty, 422, "validation_error", "token")
    assert await sql.row_counts(owner_db) == before


async def test_openapi_names_every_operation_explicitly(client):
    response = await client.get("/schema/openapi.json")

    assert response.status_code == 200
    schema = response.json()
    operations = {
        f"{method.upper()} {path}": op.get("operationId")
        for path, item in schema["paths"].items()
        for method, op in item.items() if method in ("get", "post", "put", "patch", "delete")
    }
    assert operations, "no operations documented"
    missing = [name for name, op_id in operations.items() if not op_id]
    assert missing == []
    ids = list(operations.values())
    assert len(set(ids)) == len(ids), "operation ids must be unique"
    # Litestar's generated ids read like 'ApiV1MembersListMembers'; ours are short camelCase.
    generated = [op_id for op_id in ids if not op_id[0].islower() or "ApiV1" in op_id]
    assert generated == []
    for foundation in ("signup", "login", "getMe", "createApiKey", "listMembers", "createInvite",
                       "acceptInvite", "listAuditEntries", "getHealth"):
        assert foundation in ids
