"""Small helpers that drive the real HTTP API in tests."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx

PASSWORD = "correct horse battery"


@dataclass
class Account:
    token: str
    user_id: str
    tenant_id: str
    email: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def signup(client: httpx.AsyncClient, tenant_name: str = "Acme") -> Account:
    email = f"user-{uuid.uuid4().hex[:8]}@example.com"
    response = await client.post("/api/v1/auth/signup", json={
        "email": email, "password": PASSWORD, "tenant_name": tenant_name,
    })
    assert response.status_code == 201, response.text
    body = response.json()
    client.cookies.clear()  # tests authenticate with explicit headers unless they test cookies
    return Account(body["token"], body["user"]["id"], body["tenant"]["id"], email)


async def create_api_key(
    client: httpx.AsyncClient, account: Account, scopes: list[str] | None = None, **extra: Any
) -> dict[str, Any]:
    payload: dict[str, Any] = {"name": "test key", **extra}
    if scopes is not None:
        payload["scopes"] = scopes
    response = await client.post("/api/v1/api-keys", json=payload, headers=account.headers)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}
