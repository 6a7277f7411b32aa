"""Sign-up, login, sessions (Bearer and cookie + CSRF), logout, and every way a credential must
be refused."""

from __future__ import annotations

import datetime as dt
import uuid
import warnings

import jwt
import pytest
from jwt.warnings import InsecureKeyLengthWarning

from app.domain.auth.tokens import SessionClaims, TokenSigner
from tests.support import api
from tests.support.databases import TEST_SECRET


def _claims(account: api.Account) -> dict[str, str]:
    return jwt.decode(account.token, options={"verify_signature": False})


async def _assert_refused(client, token: str, words: str) -> None:
    response = await client.get("/api/v1/me", headers=api.bearer(token))
    assert response.status_code == 401, response.text
    error = response.json()["error"]
    assert error["code"] == "unauthorized"
    assert words in error["message"]


async def test_signup_creates_user_tenant_and_owner_membership(client, owner_db):
    response = await client.post("/api/v1/auth/signup", json={
        "email": "Ada@Example.com", "password": api.PASSWORD, "tenant_name": "Engines Ltd",
    })

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["user"]["email"] == "Ada@Example.com"
    assert body["tenant"]["name"] == "Engines Ltd"
    assert body["role"] == "owner"
    row = await owner_db.fetchrow(
        "select m.role, u.password_hash from memberships m join users u on u.id = m.user_id"
        " where m.tenant_id = $1::uuid", body["tenant"]["id"],
    )
    assert row["role"] == "owner"
    assert row["password_hash"].startswith("$argon2id$")
    assert api.PASSWORD not in row["password_hash"]
    assert response.cookies.get("kiln_session") == body["token"]
    assert response.cookies.get("kiln_csrf")
    cookie_header = ",".join(response.headers.get_list("set-cookie"))
    assert "HttpOnly" in cookie_header.split("kiln_csrf")[0]  # the session cookie is HttpOnly


async def test_session_token_is_a_pinned_hs256_jwt_naming_a_server_side_session(client, owner_db):
    account = await api.signup(client)

    header = jwt.get_unverified_header(account.token)
    claims = _claims(account)

    assert header["alg"] == "HS256"
    assert header["kid"]
    assert claims["iss"] == "kiln"
    assert claims["aud"] == "kiln-api"
    assert claims["exp"] > claims["iat"]
    assert claims["sub"] == account.user_id
    assert claims["tid"] == account.tenant_id
    session = await owner_db.fetchrow("select * from sessions where id = $1::uuid", claims["sid"])
    assert str(session["user_id"]) == account.user_id
    assert session["revoked_at"] is None


async def test_login_with_the_right_password(client):
    account = await api.signup(client)

    again = await api.login(client, account.email.upper())

    assert again.user_id == account.user_id
    assert again.tenant_id == account.tenant_id
    me = await client.get("/api/v1/me", headers=again.headers)
    assert me.json()["user"]["id"] == account.user_id


async def test_wrong_password_and_unknown_email_get_the_same_answer(client):
    account = await api.signup(client)

    wrong = await client.post("/api/v1/auth/login",
                              json={"email": account.email, "password": "not the password"})
    unknown = await client.post("/api/v1/auth/login",
                                json={"email": "nobody@example.com", "password": api.PASSWORD})

    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["error"]["message"] == "wrong e-mail or password"
    assert "set-cookie" not in wrong.headers


async def test_protected_routes_need_credentials(client):
    response = await client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
    basic = await client.get("/api/v1/me", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert basic.status_code == 401


async def test_alg_none_token_is_refused(client):
    account = await api.signup(client)
    header = jwt.get_unverified_header(account.token)
    forged = jwt.encode(_claims(account), key=None, algorithm="none",
                        headers={"kid": header["kid"]})

    await _assert_refused(client, forged, "invalid")


async def test_token_signed_with_another_key_is_refused(client):
    account = await api.signup(client)
    claims = SessionClaims(uuid.UUID(account.user_id), uuid.UUID(account.tenant_id),
                           uuid.UUID(_claims(account)["sid"]))
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    other_signer = TokenSigner("some-other-secret")
    foreign = other_signer.issue(claims, expires)
    # Same kid as ours, but signed with another key: the signature check must catch it.
    ours_kid = jwt.get_unverified_header(account.token)["kid"]
    forged = jwt.encode(jwt.decode(foreign, options={"verify_signature": False}),
                        "another-secret-long-enough-for-hs256-keys", algorithm="HS256",
                        headers={"kid": ours_kid})

    await _assert_refused(client, foreign, "unknown key")
    await _assert_refused(client, forged, "invalid")


async def test_token_with_another_algorithm_is_refused(client):
    account = await api.signup(client)
    claims = _claims(account)
    header = jwt.get_unverified_header(account.token)
    signer = TokenSigner(TEST_SECRET)
    key = signer._verify_keys[header["kid"]]
    with warnings.catch_warnings():  # our 32-byte key is short for HS512: irrelevant to a forger
        warnings.simplefilter("ignore", InsecureKeyLengthWarning)
        other_alg = jwt.encode(claims, key, algorithm="HS512", headers={"kid": header["kid"]})

    await _assert_refused(client, other_alg, "invalid")


async def test_expired_token_is_refused(client):
    account = await api.signup(client)
    claims = SessionClaims(uuid.UUID(account.user_id), uuid.UUID(account.tenant_id),
                           uuid.UUID(_claims(account)["sid"]))
    expired = TokenSigner(TEST_SECRET).issue(
        claims, dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)
    )

    await _assert_refused(client, expired, "expired")


async def test_logout_revokes_the_session(client, owner_db):
    account = await api.signup(client)

    response = await client.post("/api/v1/auth/logout", headers=account.headers)

    assert response.status_code == 204
    await _assert_refused(client, account.token, "session has ended")
    revoked = await owner_db.fetchval(
        "select revoked_at from sessions where id = $1::uuid", _claims(account)["sid"]
    )
    assert revoked is not None
    # Other sessions of the same user are untouched.
    again = await api.login(client, account.email)
    assert (await client.get("/api/v1/me", headers=again.headers)).status_code == 200


async def test_session_expired_server_side_is_refused(client, owner_db):
    account = await api.signup(client)
    await owner_db.execute(
        "update sessions set expires_at = now() - interval '1 second' where id = $1::uuid",
        _claims(account)["sid"],
    )
    await _assert_refused(client, account.token, "session has ended")


async def test_cookie_session_needs_the_csrf_header_on_unsafe_requests(client):
    response = await client.post("/api/v1/auth/signup", json={
        "email": "cookie@example.com", "password": api.PASSWORD, "tenant_name": "Cookies",
    })
    assert response.status_code == 201
    csrf = client.cookies["kiln_csrf"]

    me = await client.get("/api/v1/me")  # safe method: the cookie alone is enough
    without = await client.post("/api/v1/api-keys", json={"name": "k"})
    wrong = await client.post("/api/v1/api-keys", json={"name": "k"},
                              headers={"X-CSRF-Token": "not-the-token"})
    with_header = await client.post("/api/v1/api-keys", json={"name": "k"},
                                    headers={"X-CSRF-Token": csrf})

    assert me.status_code == 200
    assert me.json()["user"]["email"] == "cookie@example.com"
    assert without.status_code == 403
    assert "CSRF" in without.json()["error"]["message"]
    assert wrong.status_code == 403
    assert with_header.status_code == 201, with_header.text
    listed = await client.get("/api/v1/api-keys")
    assert len(listed.json()["items"]) == 1  # only the request with the header created a key


async def test_cookie_logout_clears_cookies_and_ends_the_session(client):
    response = await client.post("/api/v1/auth/signup", json={
        "email": "bye@example.com", "password": api.PASSWORD, "tenant_name": "Bye",
    })
    token = response.json()["token"]

    out = await client.post("/api/v1/auth/logout",
                            headers={"X-CSRF-Token": client.cookies["kiln_csrf"]})

    assert out.status_code == 204
    assert "kiln_session" not in client.cookies
    client.cookies.clear()
    await _assert_refused(client, token, "session has ended")


async def test_api_key_cannot_log_out_or_switch(client):
    account = await api.signup(client)
    key = await api.create_api_key(client, account)

    logout = await client.post("/api/v1/auth/logout", headers=api.bearer(key["key"]))
    switch = await client.post("/api/v1/auth/switch", json={"tenant_id": account.tenant_id},
                               headers=api.bearer(key["key"]))

    assert logout.status_code == 403
    assert switch.status_code == 403


@pytest.mark.parametrize("tenant_choice", ["first", "explicit"])
async def test_login_chooses_a_tenant(client, tenant_choice):
    owner = await api.signup(client, tenant_name="First")
    other = await api.signup(client, tenant_name="Second")
    invite = await api.create_invite(client, other, email=owner.email)
    assert (await api.accept_invite(client, invite["token"], headers=owner.headers)
            ).status_code == 201

    chosen = None if tenant_choice == "first" else other.tenant_id
    session = await api.login(client, owner.email, tenant_id=chosen)

    expected = owner.tenant_id if tenant_choice == "first" else other.tenant_id
    assert session.tenant_id == expected
