"""The audit log records every security-relevant action and lists it at GET /api/v1/audit."""

from __future__ import annotations

import uuid

import pytest

from tests.support import api


async def _every_recorded_action(client) -> tuple[api.Account, list[str]]:
    """Drive each audited action once, in an order we can check; return the expected actions."""
    owner = await api.signup(client)
    session = await api.login(client, owner.email)
    key = await api.create_api_key(client, owner)
    await client.delete(f"/api/v1/api-keys/{key['id']}", headers=owner.headers)
    revoked = await api.create_invite(client, owner)
    await client.delete(f"/api/v1/members/invites/{revoked['id']}", headers=owner.headers)
    member = await api.add_member(client, owner, role="viewer")
    await client.patch(f"/api/v1/members/{member.user_id}", json={"role": "member"},
                       headers=owner.headers)
    await client.delete(f"/api/v1/members/{member.user_id}", headers=owner.headers)
    await client.post("/api/v1/auth/logout", headers=session.headers)
    expected = [
        "auth.signup", "auth.session_created", "auth.login", "api_key.created",
        "api_key.revoked", "invite.created", "invite.revoked", "invite.created",
        "invite.accepted", "auth.session_created", "member.role_changed", "member.removed",
        "auth.logout",
    ]
    return owner, expected


async def test_every_action_is_listed_newest_first(client):
    owner, expected = await _every_recorded_action(client)

    response = await client.get("/api/v1/audit", headers=owner.headers)

    assert response.status_code == 200, response.text
    entries = response.json()["items"]
    assert [e["action"] for e in entries] == expected[::-1]
    assert response.json()["next_cursor"] is None
    for entry in entries:
        assert set(entry) == {"id", "at", "action", "actor_type", "actor_id", "target_type",
                              "target_id", "details", "ip"}
        assert entry["actor_type"] == "user"
    by_action = {e["action"]: e for e in entries}
    assert by_action["member.role_changed"]["details"] == {"from": "viewer", "to": "member"}
    assert by_action["member.removed"]["actor_id"] == owner.user_id
    assert by_action["api_key.created"]["target_type"] == "api_key"
    assert by_action["invite.accepted"]["details"]["new_account"] is True
    assert by_action["auth.logout"]["ip"]


async def test_actions_by_an_api_key_name_the_key(client):
    owner = await api.signup(client)
    admin_key = await api.create_api_key(client, owner, scopes=["admin"])
    made = await client.post("/api/v1/api-keys", json={"name": "made by key"},
                             headers=api.bearer(admin_key["key"]))
    assert made.status_code == 201

    entries = (await client.get("/api/v1/audit?action=api_key.created",
                                headers=owner.headers)).json()["items"]

    assert [(e["actor_type"], e["actor_id"]) for e in entries] == [
        ("api_key", admin_key["id"]), ("user", owner.user_id),
    ]


async def test_filter_by_action(client):
    owner, _ = await _every_recorded_action(client)

    response = await client.get("/api/v1/audit?action=invite.created", headers=owner.headers)
    nothing = await client.get("/api/v1/audit?action=no.such.action", headers=owner.headers)

    assert [e["action"] for e in response.json()["items"]] == ["invite.created"] * 2
    assert nothing.json() == {"items": [], "next_cursor": None}


async def test_pages_cover_everything_once_in_order(client):
    owner, expected = await _every_recorded_action(client)
    seen: list[dict] = []
    cursor = None
    pages = 0

    while True:
        query = "/api/v1/audit?limit=5" + (f"&cursor={cursor}" if cursor else "")
        body = (await client.get(query, headers=owner.headers)).json()
        seen.extend(body["items"])
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break

    assert pages == 3
    assert [e["action"] for e in seen] == expected[::-1]
    ids = [uuid.UUID(e["id"]) for e in seen]
    assert ids == sorted(ids, reverse=True)
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize("role", ["member", "viewer"])
async def test_reading_the_audit_log_needs_the_manage_permission(client, role):
    owner = await api.signup(client)
    caller = await api.add_member(client, owner, role=role)
    admin = await api.add_member(client, owner, role="admin")

    refused = await client.get("/api/v1/audit", headers=caller.headers)
    allowed = await client.get("/api/v1/audit", headers=admin.headers)

    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden"
    assert allowed.status_code == 200
    assert allowed.json()["items"]
