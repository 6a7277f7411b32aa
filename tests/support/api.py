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


async def admin_key(client: httpx.AsyncClient, tenant_name: str = "Acme") -> dict[str, str]:
    """Bearer headers of an admin-scoped API key of a newly signed-up tenant."""
    account = await signup(client, tenant_name)
    return bearer((await create_api_key(client, account, scopes=["admin"]))["key"])


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


async def login(
    client: httpx.AsyncClient, email: str, password: str = PASSWORD,
    tenant_id: str | None = None,
) -> Account:
    payload = {"email": email, "password": password}
    if tenant_id is not None:
        payload["tenant_id"] = tenant_id
    response = await client.post("/api/v1/auth/login", json=payload)
    assert response.status_code == 200, response.text
    body = response.json()
    client.cookies.clear()
    return Account(body["token"], body["user"]["id"], body["tenant"]["id"], email)


async def create_invite(
    client: httpx.AsyncClient, account: Account, email: str | None = None, role: str = "member"
) -> dict[str, Any]:
    email = email or f"invitee-{uuid.uuid4().hex[:8]}@example.com"
    response = await client.post(
        "/api/v1/members/invites", json={"email": email, "role": role}, headers=account.headers
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def accept_invite(
    client: httpx.AsyncClient, token: str, *, password: str | None = PASSWORD,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    payload: dict[str, Any] = {"token": token}
    if password is not None:
        payload["password"] = password
    response = await client.post(
        "/api/v1/members/invites/accept", json=payload, headers=headers or {}
    )
    client.cookies.clear()
    return response


async def add_member(client: httpx.AsyncClient, owner: Account, role: str = "member") -> Account:
    """Invite a new address into ``owner``'s tenant and accept it as a new account."""
    invite = await create_invite(client, owner, role=role)
    response = await accept_invite(client, invite["token"])
    assert response.status_code == 201, response.text
    body = response.json()
    return Account(body["token"], body["user"]["id"], body["tenant"]["id"], invite["email"])
