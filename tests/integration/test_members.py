"""Members, roles and the invite flow, through the HTTP API."""

from __future__ import annotations

import base64
import hashlib

import pytest

from tests.support import api


async def test_invite_token_is_shown_once_and_only_its_hash_is_stored(client, owner_db):
    owner = await api.signup(client)
    invite = await api.create_invite(client, owner, role="member")

    token = invite["token"]
    assert token.startswith("kinv_")
    random_part = base64.urlsafe_b64decode(token.removeprefix("kinv_") + "==")
    assert len(random_part) * 8 >= 128
    assert invite["status"] == "pending"
    stored = await owner_db.fetchrow("select * from invites where id = $1::uuid", invite["id"])
    assert bytes(stored["token_hash"]) == hashlib.sha256(token.encode()).digest()
    assert token not in str(dict(stored))

    listed = await client.get("/api/v1/members/invites", headers=owner.headers)
    assert listed.status_code == 200
    assert [i["id"] for i in listed.json()["items"]] == [invite["id"]]
    assert "token" not in listed.json()["items"][0]
    assert token not in listed.text


async def test_new_user_accepts_invite_with_a_password(client, owner_db):
    owner = await api.signup(client, tenant_name="Acme")
    invite = await api.create_invite(client, owner, role="member")

    response = await api.accept_invite(client, invite["token"])

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["user"]["email"] == invite["email"]
    assert body["tenant"] == {"id": owner.tenant_id, "name": "Acme"}
    assert body["role"] == "member"
    me = await client.get("/api/v1/me", headers=api.bearer(body["token"]))
    assert me.status_code == 200
    assert [t["tenant"]["id"] for t in me.json()["tenants"]] == [owner.tenant_id]
    # The account exists and can log in with the password it chose.
    again = await api.login(client, invite["email"])
    assert again.tenant_id == owner.tenant_id
    members = await client.get("/api/v1/members", headers=owner.headers)
    assert {m["email"]: m["role"] for m in members.json()["items"]} == {
        owner.email: "owner", invite["email"]: "member",
    }
    listed = (await client.get("/api/v1/members/invites", headers=owner.headers)).json()
    assert listed["items"][0]["status"] == "accepted"
    assert listed["items"][0]["accepted_by"] == body["user"]["id"]
    hashed = await owner_db.fetchval(
        "select password_hash from users where id = $1::uuid", body["user"]["id"]
    )
    assert hashed.startswith("$argon2id$")


async def test_logged_in_user_accepts_invite_then_switches_between_tenants(client):
    owner = await api.signup(client, tenant_name="Acme")
    other = await api.signup(client, tenant_name="Other Co")
    invite = await api.create_invite(client, owner, email=other.email.upper(), role="viewer")

    response = await api.accept_invite(client, invite["token"], password=None,
                                       headers=other.headers)

    assert response.status_code == 201, response.text
    joined = response.json()
    assert joined["tenant"]["id"] == owner.tenant_id
    assert joined["role"] == "viewer"
    assert joined["user"]["id"] == other.user_id
    switched = await client.post("/api/v1/auth/switch", json={"tenant_id": other.tenant_id},
                                 headers=api.bearer(joined["token"]))
    assert switched.status_code == 200, switched.text
    assert switched.json()["tenant"]["id"] == other.tenant_id
    assert switched.json()["role"] == "owner"
    client.cookies.clear()
    me = await client.get("/api/v1/me", headers=api.bearer(switched.json()["token"]))
    assert me.json()["tenant"]["id"] == other.tenant_id
    assert {t["tenant"]["id"]: t["role"] for t in me.json()["tenants"]} == {
        other.tenant_id: "owner", owner.tenant_id: "viewer",
    }


async def test_switch_to_a_tenant_you_do_not_belong_to_is_refused(client):
    owner = await api.signup(client)
    stranger = await api.signup(client)
    response = await client.post("/api/v1/auth/switch", json={"tenant_id": stranger.tenant_id},
                                 headers=owner.headers)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


async def test_invite_for_another_address_cannot_be_used_by_a_logged_in_user(client):
    owner = await api.signup(client)
    other = await api.signup(client)
    invite = await api.create_invite(client, owner)

    response = await api.accept_invite(client, invite["token"], headers=other.headers)

    assert response.status_code == 403
    assert invite["email"] in response.json()["error"]["message"]
    listed = (await client.get("/api/v1/members/invites", headers=owner.headers)).json()
    assert listed["items"][0]["status"] == "pending"


async def test_existing_account_must_log_in_to_accept(client):
    owner = await api.signup(client)
    other = await api.signup(client)
    invite = await api.create_invite(client, owner, email=other.email)

    without_password = await api.accept_invite(client, invite["token"], password=None)
    with_password = await api.accept_invite(client, invite["token"])

    assert without_password.status_code == 401
    assert with_password.status_code == 409
    assert "log in" in with_password.json()["error"]["message"]


async def test_used_expired_revoked_and_unknown_invites_are_refused(client, owner_db):
    owner = await api.signup(client)
    used = await api.create_invite(client, owner)
    assert (await api.accept_invite(client, used["token"])).status_code == 201
    expired = await api.create_invite(client, owner)
    await owner_db.execute(
        "update invites set expires_at = now() - interval '1 second' where id = $1::uuid",
        expired["id"],
    )
    revoked = await api.create_invite(client, owner)
    response = await client.delete(f"/api/v1/members/invites/{revoked['id']}",
                                   headers=owner.headers)
    assert response.status_code == 204
    members_before = await owner_db.fetchval("select count(*) from memberships")

    cases = {
        used["token"]: (409, "already been used"),
        expired["token"]: (410, "expired"),
        revoked["token"]: (404, "revoked"),
        "kinv_not-a-real-token": (404, "not found"),
    }
    for token, (status, words) in cases.items():
        response = await api.accept_invite(client, token, password="another password 1")
        assert response.status_code == status, response.text
        error = response.json()["error"]
        assert words in error["message"]
        assert set(error) >= {"code", "message"}
    assert await owner_db.fetchval("select count(*) from memberships") == members_before
    listed = (await client.get("/api/v1/members/invites", headers=owner.headers)).json()
    assert {i["id"]: i["status"] for i in listed["items"]} == {
        used["id"]: "accepted", expired["id"]: "expired",
    }


async def test_revoking_an_accepted_invite_is_a_conflict(client):
    owner = await api.signup(client)
    invite = await api.create_invite(client, owner)
    assert (await api.accept_invite(client, invite["token"])).status_code == 201

    response = await client.delete(f"/api/v1/members/invites/{invite['id']}",
                                   headers=owner.headers)

    assert response.status_code == 409


async def test_duplicate_invites_and_inviting_members_are_conflicts(client):
    owner = await api.signup(client)
    invite = await api.create_invite(client, owner)

    again = await client.post("/api/v1/members/invites",
                              json={"email": invite["email"].upper()}, headers=owner.headers)
    member = await client.post("/api/v1/members/invites", json={"email": owner.email},
                               headers=owner.headers)

    assert again.status_code == 409
    assert member.status_code == 409
    assert "already a member" in member.json()["error"]["message"]


async def test_invites_cannot_make_owners(client):
    owner = await api.signup(client)
    response = await client.post("/api/v1/members/invites",
                                 json={"email": "x@example.com", "role": "owner"},
                                 headers=owner.headers)
    assert response.status_code == 422


@pytest.mark.parametrize("role", ["member", "viewer"])
async def test_only_owners_and_admins_manage_members(client, role):
    owner = await api.signup(client)
    caller = await api.add_member(client, owner, role=role)
    target = await api.add_member(client, owner, role="viewer")

    attempts = [
        await client.post("/api/v1/members/invites", json={"email": "new@example.com"},
                          headers=caller.headers),
        await client.get("/api/v1/members/invites", headers=caller.headers),
        await client.patch(f"/api/v1/members/{target.user_id}", json={"role": "admin"},
                           headers=caller.headers),
        await client.delete(f"/api/v1/members/{target.user_id}", headers=caller.headers),
    ]

    assert [r.status_code for r in attempts] == [403, 403, 403, 403]
    assert all(r.json()["error"]["code"] == "forbidden" for r in attempts)
    listed = await client.get("/api/v1/members", headers=caller.headers)
    assert listed.status_code == 200  # reading the member list is allowed
    assert {m["user_id"]: m["role"] for m in listed.json()["items"]}[target.user_id] == "viewer"


async def test_api_keys_cannot_manage_members(client):
    owner = await api.signup(client)
    key = await api.create_api_key(client, owner, scopes=["admin"])
    response = await client.post("/api/v1/members/invites", json={"email": "new@example.com"},
                                 headers=api.bearer(key["key"]))
    assert response.status_code == 403


async def test_admin_manages_members_but_not_owners(client):
    owner = await api.signup(client)
    admin = await api.add_member(client, owner, role="admin")
    member = await api.add_member(client, owner, role="member")

    promoted = await client.patch(f"/api/v1/members/{member.user_id}", json={"role": "viewer"},
                                  headers=admin.headers)
    to_owner = await client.patch(f"/api/v1/members/{member.user_id}", json={"role": "owner"},
                                  headers=admin.headers)
    demote_owner = await client.patch(f"/api/v1/members/{owner.user_id}",
                                      json={"role": "member"}, headers=admin.headers)
    remove_owner = await client.delete(f"/api/v1/members/{owner.user_id}",
                                       headers=admin.headers)

    assert promoted.status_code == 200
    assert promoted.json()["role"] == "viewer"
    assert [to_owner.status_code, demote_owner.status_code, remove_owner.status_code] == [
        403, 403, 403,
    ]


async def test_role_change_applies_to_the_next_request(client):
    owner = await api.signup(client)
    member = await api.add_member(client, owner, role="member")
    assert (await client.get("/api/v1/members/invites", headers=member.headers)).status_code == 403

    response = await client.patch(f"/api/v1/members/{member.user_id}", json={"role": "admin"},
                                  headers=owner.headers)

    assert response.status_code == 200
    assert (await client.get("/api/v1/members/invites", headers=member.headers)).status_code == 200
    me = await client.get("/api/v1/me", headers=member.headers)
    assert me.json()["role"] == "admin"


async def test_last_owner_cannot_be_demoted_or_removed(client, owner_db):
    owner = await api.signup(client)

    demote = await client.patch(f"/api/v1/members/{owner.user_id}", json={"role": "admin"},
                                headers=owner.headers)
    remove = await client.delete(f"/api/v1/members/{owner.user_id}", headers=owner.headers)

    assert demote.status_code == 409
    assert remove.status_code == 409
    assert "last owner" in demote.json()["error"]["message"]
    role = await owner_db.fetchval(
        "select role from memberships where user_id = $1::uuid", owner.user_id
    )
    assert role == "owner"


async def test_with_two_owners_one_may_step_down_but_not_the_second(client):
    owner = await api.signup(client)
    second = await api.add_member(client, owner, role="admin")
    promote = await client.patch(f"/api/v1/members/{second.user_id}", json={"role": "owner"},
                                 headers=owner.headers)
    assert promote.status_code == 200

    first_steps_down = await client.patch(f"/api/v1/members/{owner.user_id}",
                                          json={"role": "member"}, headers=owner.headers)
    second_steps_down = await client.patch(f"/api/v1/members/{second.user_id}",
                                           json={"role": "member"}, headers=second.headers)

    assert first_steps_down.status_code == 200
    assert second_steps_down.status_code == 409


async def test_removed_member_loses_access_at_once(client):
    owner = await api.signup(client)
    member = await api.add_member(client, owner, role="member")
    assert (await client.get("/api/v1/me", headers=member.headers)).status_code == 200

    response = await client.delete(f"/api/v1/members/{member.user_id}", headers=owner.headers)

    assert response.status_code == 204
    me = await client.get("/api/v1/me", headers=member.headers)
    assert me.status_code == 401
    listed = await client.get("/api/v1/members", headers=owner.headers)
    assert [m["user_id"] for m in listed.json()["items"]] == [owner.user_id]
    gone = await client.delete(f"/api/v1/members/{member.user_id}", headers=owner.headers)
    assert gone.status_code == 404


async def test_member_list_is_paginated(client):
    owner = await api.signup(client)
    for _ in range(2):
        await api.add_member(client, owner, role="viewer")

    first = (await client.get("/api/v1/members?limit=2", headers=owner.headers)).json()
    second = (await client.get(f"/api/v1/members?limit=2&cursor={first['next_cursor']}",
                               headers=owner.headers)).json()

    assert len(first["items"]) == 2
    assert first["next_cursor"]
    assert len(second["items"]) == 1
    assert second["next_cursor"] is None
    ids = [m["user_id"] for m in first["items"] + second["items"]]
    assert len(set(ids)) == 3
    assert first["items"][0]["user_id"] == owner.user_id
