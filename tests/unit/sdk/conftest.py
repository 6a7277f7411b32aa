"""Fixtures for SDK unit tests: a Kiln client wired to the in-memory fake server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from kiln import Kiln, RetryPolicy

from tests.unit.sdk.fake_server import FakeServer

FAST_RETRY = RetryPolicy(attempts=3, base_delay=0.001, max_delay=0.005)


@pytest.fixture
def server() -> FakeServer:
    return FakeServer()


@pytest.fixture
async def kiln(server: FakeServer) -> AsyncIterator[Kiln]:
    client = Kiln(api_url="http://kiln.test", api_key=server.api_key, retry=FAST_RETRY,
                  http_transport=server.transport())
    yield client
    await client.aclose()
    client.close()
