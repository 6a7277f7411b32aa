"""Fixtures most integration tests share: a newly signed-up tenant and an admin API key of it."""

from __future__ import annotations

import httpx
import pytest

from tests.support import api


@pytest.fixture
async def account(client: httpx.AsyncClient) -> api.Account:
    return await api.signup(client)


@pytest.fixture
async def key(client: httpx.AsyncClient, account: api.Account) -> dict[str, str]:
    """Bearer headers of an admin-scoped API key of ``account``'s tenant."""
    created = await api.create_api_key(client, account, scopes=["admin"])
    return api.bearer(created["key"])
