"""Login throttling: repeated wrong passwords end in 429 with Retry-After, even for the right
password, per e-mail and across the app's replicas (the counts live in the database)."""

from __future__ import annotations

from app.domain.auth import throttle
from tests.support import api


async def test_five_failures_lock_the_email_with_retry_after(client, owner_db):
    account = await api.signup(client)
    for _ in range(throttle.PER_EMAIL):
        wrong = await client.post("/api/v1/auth/login",
                                  json={"email": account.email, "password": "wrong password!"})
        assert wrong.status_code == 401
    locked = await client.post("/api/v1/auth/login",
                               json={"email": account.email, "password": api.PASSWORD})
    assert locked.status_code == 429
    assert locked.json()["error"]["code"] == "rate_limited"
    assert 0 < int(locked.headers["Retry-After"]) <= throttle.WINDOW_SECONDS

    # Another account is unaffected; the window passing (aged rows) unlocks the first one.
    other = await api.signup(client)
    ok = await client.post("/api/v1/auth/login",
                           json={"email": other.email, "password": api.PASSWORD})
    assert ok.status_code == 200, ok.text
    await owner_db.execute("update kiln_private.login_failures set at = at - interval '16 min'")
    again = await client.post("/api/v1/auth/login",
                              json={"email": account.email, "password": api.PASSWORD})
    assert again.status_code == 200


async def test_a_success_clears_the_count(client, owner_db):
    account = await api.signup(client)
    for _ in range(throttle.PER_EMAIL - 1):
        await client.post("/api/v1/auth/login",
                          json={"email": account.email, "password": "wrong password!"})
    ok = await client.post("/api/v1/auth/login",
                           json={"email": account.email, "password": api.PASSWORD})
    assert ok.status_code == 200
    rows = await owner_db.fetchval(
        "select count(*) from kiln_private.login_failures where key like 'email:%'")
    assert rows == 0
