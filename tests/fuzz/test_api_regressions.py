"""Minimal reproductions of what API fuzzing found, each against a fresh app in-process.

The generic ones stay here as regression tests once fixed: a NUL character (U+0000) in any
string reaching Postgres — which stores neither NUL in ``text`` nor ``\\u0000`` in ``jsonb`` —
and malformed pagination cursors must be answered 4xx, never 500.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support import api
from tests.support.protocol import DIAMOND, register_workflow

NUL = "\u0000"
# A NUL character (U+0000) reaches Postgres, which refuses it (text cannot hold NUL, jsonb
# cannot hold \u0000): the API must answer a 4xx, never a 500 (it used to, everywhere).

# (method, path, body) — one string of each body carries a NUL.
NUL_REQUESTS: list[tuple[str, str, dict[str, Any]]] = [
    ("POST", "/api/v1/auth/signup", {"email": f"x{NUL}@example.com",
                                     "password": api.PASSWORD, "tenant_name": "t"}),
    ("POST", "/api/v1/auth/signup", {"email": "nul-tenant@example.com",
                                     "password": api.PASSWORD, "tenant_name": f"t{NUL}"}),
    ("POST", "/api/v1/auth/login", {"email": f"x{NUL}@example.com", "password": api.PASSWORD}),
    ("POST", "/api/v1/workflows/diamond/runs", {"input": {"x": f"a{NUL}b"}}),
    ("POST", "/api/v1/workflows/diamond/runs", {"input": {}, "metadata": {f"k{NUL}": "v"}}),
    ("POST", "/api/v1/events", {"key": f"k{NUL}", "payload": {}}),
    ("POST", "/api/v1/events", {"key": "k", "payload": {"a": NUL}}),
    ("POST", "/api/v1/api-keys", {"name": f"n{NUL}"}),
    ("POST", "/api/v1/webhooks", {"name": f"n{NUL}", "event_key": "e",
                                  "verifier": "hmac-sha256"}),
    ("POST", "/api/v1/workflows", {"name": "w", "description": f"d{NUL}",
                                   "tasks": [{"name": "a"}]}),
    ("POST", "/api/v1/members/invites", {"email": f"a{NUL}b@example.com"}),
    ("POST", "/api/v1/crons", {"workflow": "diamond", "expression": "0 0 1 1 *",
                               "input": {"a": NUL}}),
]


@pytest.fixture
async def owner(client: httpx.AsyncClient) -> api.Account:
    account = await api.signup(client)
    await register_workflow(client, account.headers, DIAMOND)
    return account


@pytest.mark.parametrize(("method", "path", "body"), NUL_REQUESTS,
                         ids=[f"{m} {p} {i}" for i, (m, p, _) in enumerate(NUL_REQUESTS)])
async def test_a_nul_character_is_refused_not_a_server_error(
    client: httpx.AsyncClient, owner: api.Account, method: str, path: str, body: dict[str, Any]
) -> None:
    response = await client.request(method, path, json=body, headers=owner.headers)
    assert response.status_code in (400, 401, 422), response.text


async def test_a_non_ascii_rate_limit_cursor_is_refused(
    client: httpx.AsyncClient, owner: api.Account
) -> None:
    response = await client.get("/api/v1/rate-limits", params={"cursor": "é"},
                                headers=owner.headers)
    assert response.status_code == 422, response.text


async def test_a_malformed_cursor_is_refused(
    client: httpx.AsyncClient, owner: api.Account
) -> None:
    for path in ("/api/v1/runs", "/api/v1/workers", "/api/v1/api-keys", "/api/v1/workflows",
                 "/api/v1/events", "/api/v1/audit", "/api/v1/webhooks", "/api/v1/crons"):
        for cursor in ("é", "!!", "AAAA", "a" * 200):
            response = await client.get(path, params={"cursor": cursor}, headers=owner.headers)
            # 200: the junk happens to decode to some position
            assert response.status_code in (200, 422), f"{path}?cursor={cursor}: {response.text}"
