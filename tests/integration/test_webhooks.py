"""Inbound webhooks through the real API: every built-in verifier accepts a correctly signed
delivery (202, an event, a run) and refuses a wrong signature, a stale timestamp, a replayed
delivery id and a missing header (401, nothing stored, a counter the tenant sees). Plus the
management API: secrets shown once and stored sealed, rotation, disable, delete, deliveries."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
import standardwebhooks

from app.db.tenancy import ENGINE
from app.domain.webhooks.retention import DeliveryJanitor
from tests.support import api
from tests.support import protocol as p

Signer = Callable[[str, bytes, str, int], dict[str, str]]


def _hex(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign_standard(secret: str, body: bytes, delivery: str, ts: int) -> dict[str, str]:
    # The reference implementation signs; Kiln's verifier must agree with it.
    signature = standardwebhooks.Webhook(secret).sign(
        delivery, dt.datetime.fromtimestamp(ts, dt.UTC), body.decode())
    return {"webhook-id": delivery, "webhook-timestamp": str(ts), "webhook-signature": signature}


def sign_github(secret: str, body: bytes, delivery: str, ts: int) -> dict[str, str]:
    return {"X-Hub-Signature-256": "sha256=" + _hex(secret, body),
            "X-GitHub-Delivery": delivery, "X-GitHub-Event": "push"}


def sign_stripe(secret: str, body: bytes, delivery: str, ts: int) -> dict[str, str]:
    return {"Stripe-Signature": f"t={ts},v1={_hex(secret, f'{ts}.'.encode() + body)}"}


def sign_hmac(secret: str, body: bytes, delivery: str, ts: int) -> dict[str, str]:
    return {"X-Signature": "sha256=" + _hex(secret, f"{ts}.".encode() + body),
            "X-Timestamp": str(ts), "X-Delivery-Id": delivery}


def sign_api_key(secret: str, body: bytes, delivery: str, ts: int) -> dict[str, str]:
    return {"X-Api-Key": secret, "X-Delivery-Id": delivery}


def sign_basic(secret: str, body: bytes, delivery: str, ts: int) -> dict[str, str]:
    credentials = base64.b64encode(f"kiln:{secret}".encode()).decode()
    return {"Authorization": f"Basic {credentials}", "X-Delivery-Id": delivery}


# verifier → (config, signer, the header whose absence must fail, signs a timestamp)
VERIFIERS: dict[str, tuple[dict[str, Any], Signer, str, bool]] = {
    "standard-webhooks": ({}, sign_standard, "webhook-signature", True),
    "github": ({}, sign_github, "X-Hub-Signature-256", False),
    "stripe": ({}, sign_stripe, "Stripe-Signature", True),
    "hmac-sha256": ({"header": "x-signature", "prefix": "sha256=",
                     "timestamp_header": "x-timestamp"}, sign_hmac, "X-Signature", True),
    "api-key": ({}, sign_api_key, "X-Api-Key", False),
    "basic": ({}, sign_basic, "Authorization", False),
}


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"run_loops": False})


@pytest.fixture
async def worker(client, account):
    key = api.bearer((await api.create_api_key(client, account, scopes=["worker"]))["key"])
    await p.register_workflow(client, key, {
        "name": "on-hook", "tasks": [{"name": "t"}], "on_events": ["hook:*"]})
    return key


async def create_webhook(client, account, verifier: str, **extra: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/webhooks", headers=account.headers, json={
        "name": f"{verifier}-{uuid.uuid4().hex[:6]}", "event_key": "hook:received",
        "verifier": verifier, **extra})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def body_for(delivery: str) -> bytes:
    # Stripe's delivery id is the event id in the body; compact JSON like senders send.
    return json.dumps({"id": delivery, "type": "thing.happened", "n": 1},
                      separators=(",", ":")).encode()


async def deliver(client, hook, headers: dict[str, str], body: bytes):
    path = "/hooks/" + hook["url"].rsplit("/hooks/", 1)[1]
    return await client.post(path, content=body,
                             headers={"Content-Type": "application/json", **headers})


async def stored(owner_db) -> dict[str, int]:
    return {table: await owner_db.fetchval(f"select count(*) from {table}")
            for table in ("events", "webhook_deliveries", "workflow_runs")}


async def failures(client, account, hook) -> int:
    found = (await client.get(f"/api/v1/webhooks/{hook['id']}", headers=account.headers)).json()
    count: int = found["failed_verifications"]
    return count


@pytest.mark.parametrize("verifier", VERIFIERS)
async def test_a_correctly_signed_delivery_becomes_an_event_and_a_run(
    client, account, worker, verifier
):
    config, sign, _, _ = VERIFIERS[verifier]
    hook = await create_webhook(client, account, verifier, config=config)
    assert hook["url"].endswith(f"/hooks/{hook['id']}")
    delivery = f"evt_{uuid.uuid4().hex}"
    body = body_for(delivery)

    response = await deliver(client, hook, sign(hook["secret"], body, delivery, int(time.time())),
                             body)

    assert response.status_code == 202, response.text
    event_id = response.json()["event_id"]
    event = (await client.get(f"/api/v1/events/{event_id}", headers=account.headers)).json()
    assert event["key"] == "hook:received"
    assert event["source"] == "webhook"
    assert event["webhook_id"] == hook["id"]
    assert event["payload"] == json.loads(body)
    (run,) = event["triggered"]
    assert run["workflow"] == "on-hook"
    assert (await p.get_run(client, account.headers, run["id"]))["input"] == json.loads(body)
    deliveries = (await client.get(f"/api/v1/webhooks/{hook['id']}/deliveries",
                                   headers=account.headers)).json()["items"]
    assert [(d["event_id"], d["run_count"], d["body_bytes"]) for d in deliveries] == [
        (event_id, 1, len(body))]


def _refusals(verifier: str) -> list[str]:
    kinds = ["wrong signature", "replayed delivery id", "missing header"]
    return [*kinds, "stale timestamp"] if VERIFIERS[verifier][3] else kinds


@pytest.mark.parametrize(("verifier", "kind"), [
    (verifier, kind) for verifier in VERIFIERS for kind in _refusals(verifier)])
async def test_a_refused_delivery_answers_401_and_stores_nothing(
    client, account, worker, owner_db, verifier, kind
):
    config, sign, required, _ = VERIFIERS[verifier]
    hook = await create_webhook(client, account, verifier, config=config)
    delivery = f"evt_{uuid.uuid4().hex}"
    body = body_for(delivery)
    now = int(time.time())
    headers = sign(hook["secret"], body, delivery, now)
    if kind == "replayed delivery id":
        first = await deliver(client, hook, headers, body)
        assert first.status_code == 202, first.text
    before = await stored(owner_db)

    if kind == "wrong signature":
        headers = sign("not-the-secret-" + hook["secret"], body, delivery, now)
    elif kind == "stale timestamp":
        headers = sign(hook["secret"], body, delivery, now - 600)
    elif kind == "missing header":
        headers = {k: v for k, v in headers.items() if k.lower() != required.lower()}
    response = await deliver(client, hook, headers, body)

    assert response.status_code == 401, response.text
    assert response.json()["error"]["message"] == "webhook verification failed"
    assert await stored(owner_db) == before
    assert await failures(client, account, hook) == 1


async def test_a_tampered_body_is_refused(client, account, worker, owner_db):
    hook = await create_webhook(client, account, "github")
    body = body_for("d1")
    headers = sign_github(hook["secret"], body, "d1", 0)
    response = await deliver(client, hook, headers, body.replace(b'"n":1', b'"n":2'))
    assert response.status_code == 401
    assert (await stored(owner_db))["events"] == 0


async def test_standard_webhooks_accepts_any_listed_signature_during_rotation(
    client, account, worker
):
    hook = await create_webhook(client, account, "standard-webhooks")
    old = standardwebhooks.Webhook("whsec_" + base64.b64encode(b"o" * 32).decode())
    body, now = b'{"n":1}', int(time.time())
    good = sign_standard(hook["secret"], body, "msg_1", now)
    stale = old.sign("msg_1", dt.datetime.fromtimestamp(now, dt.UTC), body.decode())
    good["webhook-signature"] = f"{stale} {good['webhook-signature']}"
    assert (await deliver(client, hook, good, body)).status_code == 202


async def test_secrets_are_shown_once_and_stored_sealed(client, account, owner_db):
    hook = await create_webhook(client, account, "github")
    assert len(hook["secret"]) >= 32
    sealed = await owner_db.fetchval("select secret from webhooks where id = $1",
                                     uuid.UUID(hook["id"]))
    assert sealed.startswith("v1.")
    assert hook["secret"] not in sealed
    listed = await client.get("/api/v1/webhooks", headers=account.headers)
    one = await client.get(f"/api/v1/webhooks/{hook['id']}", headers=account.headers)
    for response in (listed, one):
        assert response.status_code == 200
        assert hook["secret"] not in response.text
        assert "secret" not in (response.json().get("items") or [response.json()])[0]
    given = await create_webhook(client, account, "hmac-sha256", secret="my-own-secret-123")
    assert given["secret"] == "my-own-secret-123"


async def test_rotating_the_secret_retires_the_old_one(client, account, worker):
    hook = await create_webhook(client, account, "github")
    body = b'{"n":1}'
    old_headers = sign_github(hook["secret"], body, "before", 0)

    rotated = await client.post(f"/api/v1/webhooks/{hook['id']}/rotate-secret",
                                headers=account.headers, json={})
    assert rotated.status_code == 200, rotated.text
    new_secret = rotated.json()["secret"]
    assert new_secret != hook["secret"]
    assert (await deliver(client, hook, old_headers, body)).status_code == 401
    assert (await deliver(client, hook, sign_github(new_secret, body, "after", 0),
                          body)).status_code == 202

    # With a grace period, the secret before the rotation keeps working for a while.
    graced = await client.post(f"/api/v1/webhooks/{hook['id']}/rotate-secret",
                               headers=account.headers, json={"keep_previous_seconds": 3600})
    assert graced.json()["previous_secret_expires_at"] is not None
    assert (await deliver(client, hook, sign_github(new_secret, body, "grace", 0),
                          body)).status_code == 202
    newest = graced.json()["secret"]
    assert (await deliver(client, hook, sign_github(newest, body, "newest", 0),
                          body)).status_code == 202


async def test_disabled_and_deleted_webhooks_receive_nothing(client, account, worker, owner_db):
    hook = await create_webhook(client, account, "api-key")
    headers = {"x-api-key": hook["secret"]}
    disabled = await client.patch(f"/api/v1/webhooks/{hook['id']}", headers=account.headers,
                                  json={"enabled": False})
    assert disabled.json()["enabled"] is False
    assert (await deliver(client, hook, headers, b"{}")).status_code == 404
    await client.patch(f"/api/v1/webhooks/{hook['id']}", headers=account.headers,
                       json={"enabled": True})
    assert (await deliver(client, hook, headers, b"{}")).status_code == 202
    deleted = await client.delete(f"/api/v1/webhooks/{hook['id']}", headers=account.headers)
    assert deleted.status_code == 204
    assert (await deliver(client, hook, headers, b"{}")).status_code == 404
    assert await owner_db.fetchval("select count(*) from webhook_deliveries") == 0
    assert await owner_db.fetchval("select count(*) from events") == 1  # events outlive it
    unknown = await client.post(f"/hooks/{uuid.uuid4()}", content=b"{}")
    assert unknown.status_code == 404


async def test_the_event_key_may_come_from_an_expression(client, account, worker):
    hook = await create_webhook(client, account, "github",
                                key_expression='"hook:" + headers["x-github-event"]')
    body = b'{"ref":"main"}'
    accepted = await deliver(client, hook, sign_github(hook["secret"], body, "d1", 0), body)
    event = (await client.get(f"/api/v1/events/{accepted.json()['event_id']}",
                              headers=account.headers)).json()
    assert event["key"] == "hook:push"
    assert event["metadata"] == {"webhook_id": hook["id"], "webhook": hook["name"],
                                 "delivery_id": "d1"}

    broken = await create_webhook(client, account, "github", key_expression="body.missing.x")
    response = await deliver(client, broken, sign_github(broken["secret"], body, "d2", 0), body)
    assert response.status_code == 202
    (delivery,) = (await client.get(f"/api/v1/webhooks/{broken['id']}/deliveries",
                                    headers=account.headers)).json()["items"]
    assert delivery["event_key"] == "hook:received"
    assert "key_expression failed" in delivery["note"]


async def test_a_non_json_body_is_kept_as_text(client, account, worker):
    hook = await create_webhook(client, account, "api-key")
    response = await deliver(client, hook, {"x-api-key": hook["secret"],
                                            "content-type": "text/plain"}, b"plain words")
    event = (await client.get(f"/api/v1/events/{response.json()['event_id']}",
                              headers=account.headers)).json()
    assert event["payload"] == {"raw": "plain words"}


async def test_deliveries_without_an_id_are_not_deduplicated(client, account, worker):
    hook = await create_webhook(client, account, "api-key")
    for _ in range(2):
        response = await deliver(client, hook, {"x-api-key": hook["secret"]}, b"{}")
        assert response.status_code == 202
    deliveries = (await client.get(f"/api/v1/webhooks/{hook['id']}/deliveries",
                                   headers=account.headers)).json()["items"]
    assert [d["sender_delivery_id"] for d in deliveries] == [False, False]


async def test_the_janitor_forgets_deliveries_after_the_retention(
    app, client, account, worker, owner_db
):
    hook = await create_webhook(client, account, "api-key")
    headers = {"x-api-key": hook["secret"], "x-delivery-id": "once"}
    assert (await deliver(client, hook, headers, b"{}")).status_code == 202
    janitor = DeliveryJanitor(app.state.db)
    assert await janitor.run_once() == 0
    await owner_db.execute("update webhook_deliveries set received_at = now() - interval '8 days'")
    assert await janitor.run_once() == 1
    assert (await deliver(client, hook, headers, b"{}")).status_code == 202
    async with app.state.db.raw(ENGINE) as conn:  # the janitor's role sees every tenant
        assert await conn.fetchval("select count(*) from webhook_deliveries") == 1


@pytest.mark.parametrize(("body", "says"), [
    ({"verifier": "carrier-pigeon"}, "unknown verifier 'carrier-pigeon'"),
    ({"verifier": "github", "config": {"tolerance": 1}}, "config.tolerance: unknown setting"),
    ({"verifier": "standard-webhooks", "secret": "not-whsec-base64!"}, "whsec_"),
    ({"verifier": "github", "event_key": "k" * 256}, "event_key"),
    ({"verifier": "github", "key_expression": "headers["}, "key_expression"),
])
async def test_bad_webhooks_are_refused_with_a_clear_message(client, account, body, says):
    payload = {"name": "bad", "event_key": "hook:x", **body}
    response = await client.post("/api/v1/webhooks", headers=account.headers, json=payload)
    assert response.status_code == 422, response.text
    assert says in response.json()["error"]["message"]


async def test_verifiers_are_listed_and_management_needs_the_manage_permission(
    client, account
):
    names = [v["name"] for v in (await client.get("/api/v1/webhooks/verifiers",
                                                  headers=account.headers)).json()["items"]]
    assert set(names) >= set(VERIFIERS)
    trigger = api.bearer((await api.create_api_key(client, account, scopes=["trigger"]))["key"])
    refused = await client.post("/api/v1/webhooks", headers=trigger, json={
        "name": "x", "event_key": "k", "verifier": "github"})
    assert refused.status_code == 403
    hook = await create_webhook(client, account, "github")
    other = await api.signup(client, tenant_name="Other")
    for method, path in (("GET", ""), ("PATCH", ""), ("DELETE", ""), ("GET", "/deliveries"),
                         ("POST", "/rotate-secret")):
        response = await client.request(method, f"/api/v1/webhooks/{hook['id']}{path}",
                                        headers=other.headers,
                                        json={} if method in ("PATCH", "POST") else None)
        assert response.status_code == 404, (method, path, response.text)
    taken = await client.post("/api/v1/webhooks", headers=account.headers, json={
        "name": hook["name"], "event_key": "k", "verifier": "github"})
    assert taken.status_code == 409
