"""``wf.schedule(at, input)`` through the SDK against a live server: the run starts once."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
from kiln import Kiln

from tests.e2e.conftest import make_tenant
from tests.support.live import wait_until
from tests.support.protocol import DIAMOND

pytestmark = pytest.mark.slow


def test_a_schedule_made_with_the_sdk_fires_once(live_server):
    tenant = make_tenant(live_server.url)
    httpx.post(f"{tenant.api_url}/api/v1/workflows", json=DIAMOND,
               headers=tenant.headers).raise_for_status()
    kiln = Kiln(api_url=tenant.api_url, api_key=tenant.admin_key)
    try:
        at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)
        schedule = kiln.workflow("diamond").schedule(at, {"n": 3}, metadata={"by": "sdk"})
        with pytest.raises(ValueError, match="timezone"):
            kiln.workflow("diamond").schedule(dt.datetime(2030, 1, 1), {})
    finally:
        kiln.close()

    def fired() -> dict | None:  # type: ignore[type-arg]
        body = httpx.get(f"{tenant.api_url}/api/v1/schedules/{schedule['id']}",
                         headers=tenant.headers).json()
        return body if body.get("run_id") else None
    done = wait_until(fired, 60, interval=0.2, message="the schedule to fire")
    run = httpx.get(f"{tenant.api_url}/api/v1/runs/{done['run_id']}",
                    headers=tenant.headers).json()
    assert run["input"] == {"n": 3}
    assert run["metadata"]["by"] == "sdk"
    runs = httpx.get(f"{tenant.api_url}/api/v1/runs", params={"workflow": "diamond"},
                     headers=tenant.headers).json()["items"]
    assert len(runs) == 1
