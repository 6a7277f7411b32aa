from __future__ import annotations

from tests.support import api


async def test_health_answers_ok(client):
    response = await client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


async def test_signup_then_me(client):
    account = await api.signup(client)
    response = await client.get("/api/v1/me", headers=account.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["user"]["email"] == account.email
    assert body["role"] == "owner"
    assert body["tenant"]["id"] == account.tenant_id
