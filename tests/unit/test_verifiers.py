"""The six built-in webhook verifiers as pure functions: correct signatures pass; wrong ones,
stale or future timestamps, malformed and missing headers fail with a reason; delivery ids."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
from typing import Any

import pytest
import standardwebhooks

from app.hooks.manager import get_plugin_manager
from app.hooks.types import WebhookVerifier
from plugins.verifiers import api_key, basic, github, hmac_sha256, standard_webhooks, stripe

NOW = 1_800_000_000
BODY = b'{"id":"evt_1","n":1}'


def hexmac(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def check(verifier: Any, headers: dict[str, str], secret: str | None, *,
          body: bytes = BODY, config: dict[str, Any] | None = None, now: float = NOW) -> Any:
    return verifier.verify(headers={k.lower(): v for k, v in headers.items()}, body=body,
                           secret=secret, config=config or {}, now=now)


def test_the_builtins_are_registered_like_plugins():
    pm = get_plugin_manager()
    names = {
        item.name
        for impl in pm.hook.register_webhook_verifiers.get_hookimpls()
        for item in impl.function()
    }
    assert names == {"standard-webhooks", "github", "stripe", "hmac-sha256", "api-key", "basic"}
    for module in (standard_webhooks, github, stripe, hmac_sha256, api_key, basic):
        (verifier,) = module.register_webhook_verifiers()
        assert isinstance(verifier, WebhookVerifier)
        assert verifier.config_schema["type"] == "object"


class TestStandardWebhooks:
    verifier = standard_webhooks.StandardWebhooks()

    def headers(self, secret: str, msg_id: str = "msg_1", ts: int = NOW,
                body: bytes = BODY) -> dict[str, str]:
        signature = standardwebhooks.Webhook(secret).sign(
            msg_id, dt.datetime.fromtimestamp(ts, dt.UTC), body.decode())
        return {"webhook-id": msg_id, "webhook-timestamp": str(ts),
                "webhook-signature": signature}

    def test_agrees_with_the_reference_implementation_both_ways(self):
        secret = self.verifier.generate_secret()
        assert secret is not None
        assert secret.startswith("whsec_")
        assert check(self.verifier, self.headers(secret), secret).ok
        # The reference verifier accepts what a sender signs with our generated secret.
        reference = standardwebhooks.Webhook(secret)
        now = int(dt.datetime.now(dt.UTC).timestamp())
        signed = self.headers(secret, ts=now)
        assert reference.verify(BODY, signed) == json.loads(BODY)

    def test_any_of_several_signatures_may_match(self):
        secret = self.verifier.generate_secret()
        assert secret is not None
        good = self.headers(secret)["webhook-signature"]
        headers = {**self.headers(secret),
                   "webhook-signature": f"v1,{base64.b64encode(b'x' * 32).decode()} v2,zz {good}"}
        assert check(self.verifier, headers, secret).ok

    @pytest.mark.parametrize(("change", "reason"), [
        ({"webhook-signature": "v1,AAAA"}, "no matching"),
        ({"webhook-id": "msg_2"}, "no matching"),  # the id is signed
        ({"webhook-timestamp": str(NOW - 301)}, "too old"),
        ({"webhook-timestamp": str(NOW + 301)}, "future"),
        ({"webhook-timestamp": "yesterday"}, "malformed"),
        ({"webhook-timestamp": "nan"}, "malformed"),
        ({"webhook-signature": ""}, "missing"),
    ])
    def test_refusals(self, change, reason):
        secret = self.verifier.generate_secret()
        assert secret is not None
        result = check(self.verifier, {**self.headers(secret), **change}, secret)
        assert not result.ok
        assert reason in (result.reason or "")

    def test_tolerance_is_configurable_and_the_secret_format_checked(self):
        secret = self.verifier.generate_secret()
        assert secret is not None
        old = self.headers(secret, ts=NOW - 500)
        assert not check(self.verifier, old, secret).ok
        assert check(self.verifier, old, secret, config={"tolerance_seconds": 600}).ok
        assert self.verifier.validate_secret("whsec_not base64!") is not None
        assert self.verifier.validate_secret(secret) is None
        assert not check(self.verifier, self.headers(secret), "whsec_!!!").ok

    def test_the_delivery_id_is_the_webhook_id(self):
        assert self.verifier.delivery_id(headers={"webhook-id": "msg_9"}, body=b"",
                                         config={}) == "msg_9"


class TestGitHub:
    verifier = github.GitHub()
    secret = "It's a Secret to Everybody"

    def test_githubs_documented_example(self):
        # https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries
        signature = ("sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17")
        headers = {"x-hub-signature-256": signature, "x-github-delivery": "d1"}
        assert check(self.verifier, headers, self.secret, body=b"Hello, World!").ok

    @pytest.mark.parametrize(("headers", "reason"), [
        ({"x-hub-signature-256": "sha256=" + "0" * 64, "x-github-delivery": "d"}, "mismatch"),
        ({"x-hub-signature-256": "sha1=abc", "x-github-delivery": "d"}, "mismatch"),
        ({"x-github-delivery": "d"}, "missing X-Hub-Signature-256"),
        ({"x-hub-signature-256": "sha256=" + hexmac(secret, BODY)}, "missing X-GitHub-Delivery"),
    ])
    def test_refusals(self, headers, reason):
        result = check(self.verifier, headers, self.secret)
        assert not result.ok
        assert reason in (result.reason or "")

    def test_uppercase_hex_and_the_delivery_header(self):
        headers = {"x-hub-signature-256": "sha256=" + hexmac(self.secret, BODY).upper(),
                   "x-github-delivery": "guid-1"}
        assert check(self.verifier, headers, self.secret).ok
        assert self.verifier.delivery_id(headers=headers, body=BODY, config={}) == "guid-1"


class TestStripe:
    verifier = stripe.Stripe()
    secret = "whsec_test_secret"

    def header(self, ts: int = NOW, *signatures: str) -> dict[str, str]:
        sigs = signatures or (hexmac(self.secret, f"{ts}.".encode() + BODY),)
        return {"stripe-signature": f"t={ts}," + ",".join(f"v1={s}" for s in sigs) + ",v0=old"}

    def test_a_valid_signature_among_several(self):
        assert check(self.verifier, self.header(), self.secret).ok
        good = hexmac(self.secret, f"{NOW}.".encode() + BODY)
        assert check(self.verifier, self.header(NOW, "0" * 64, good), self.secret).ok

    @pytest.mark.parametrize(("headers", "reason"), [
        ({"stripe-signature": f"t={NOW},v1={'0' * 64}"}, "no matching"),
        ({"stripe-signature": f"t={NOW - 400},v1=" + hexmac("whsec_test_secret",
                                                             f"{NOW - 400}.".encode() + BODY)},
         "too old"),
        ({"stripe-signature": "v1=abc"}, "lacks t="),
        ({"stripe-signature": f"t={NOW}"}, "lacks t= or v1="),
        ({}, "missing Stripe-Signature"),
    ])
    def test_refusals(self, headers, reason):
        result = check(self.verifier, headers, self.secret)
        assert not result.ok
        assert reason in (result.reason or "")

    def test_the_delivery_id_is_the_event_id_else_the_signature(self):
        assert self.verifier.delivery_id(headers={}, body=BODY, config={}) == "evt_1"
        headers = self.header()
        assert self.verifier.delivery_id(headers=headers, body=b"[]", config={}) == (
            headers["stripe-signature"])


class TestHmacSha256:
    verifier = hmac_sha256.HmacSha256()
    secret = "shared"

    def test_defaults_hex_in_x_signature(self):
        assert check(self.verifier, {"x-signature": hexmac(self.secret, BODY)}, self.secret).ok
        assert not check(self.verifier, {"x-signature": hexmac("other", BODY)}, self.secret).ok
        assert "missing x-signature" in (check(self.verifier, {}, self.secret).reason or "")

    def test_custom_header_prefix_base64_and_timestamp(self):
        config = {"header": "X-Hook-Sig", "prefix": "sha256=", "encoding": "base64",
                  "timestamp_header": "X-Hook-Time", "tolerance_seconds": 60}
        digest = hmac.new(self.secret.encode(), f"{NOW}.".encode() + BODY,
                          hashlib.sha256).digest()
        headers = {"x-hook-sig": "sha256=" + base64.b64encode(digest).decode(),
                   "x-hook-time": str(NOW)}
        assert check(self.verifier, headers, self.secret, config=config).ok
        stale = check(self.verifier, headers, self.secret, config=config, now=NOW + 61)
        assert not stale.ok
        assert "too old" in (stale.reason or "")
        missing = check(self.verifier, {"x-hook-sig": headers["x-hook-sig"]}, self.secret,
                        config=config)
        assert not missing.ok
        assert "missing timestamp" in (missing.reason or "")

    def test_delivery_id_header_is_configurable(self):
        assert self.verifier.delivery_id(headers={"x-delivery-id": "a"}, body=b"",
                                         config={}) == "a"
        assert self.verifier.delivery_id(headers={"x-req": "b"}, body=b"",
                                         config={"delivery_id_header": "X-Req"}) == "b"


class TestApiKey:
    verifier = api_key.ApiKey()

    def test_header_and_bearer(self):
        secret = self.verifier.generate_secret()
        assert secret is not None
        assert len(secret) >= 32
        assert check(self.verifier, {"x-api-key": secret}, secret).ok
        assert not check(self.verifier, {"x-api-key": secret + "x"}, secret).ok
        assert not check(self.verifier, {}, secret).ok
        bearer = {"authorization": f"Bearer {secret}"}
        assert check(self.verifier, bearer, secret, config={"header": "Authorization"}).ok
        basic_auth = {"authorization": f"Basic {secret}"}
        assert not check(self.verifier, basic_auth, secret,
                         config={"header": "authorization"}).ok


class TestBasic:
    verifier = basic.Basic()

    @staticmethod
    def auth(user: str, password: str) -> dict[str, str]:
        return {"authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode())
                .decode()}

    def test_user_and_password_both_checked(self):
        assert check(self.verifier, self.auth("kiln", "pw:with:colons"), "pw:with:colons").ok
        assert not check(self.verifier, self.auth("root", "pw"), "pw").ok
        assert not check(self.verifier, self.auth("kiln", "nope"), "pw").ok
        assert check(self.verifier, self.auth("acme", "pw"), "pw",
                     config={"username": "acme"}).ok

    @pytest.mark.parametrize("value", ["Bearer abc", "Basic !!!", "Basic " +
                                       base64.b64encode(b"no-colon").decode()])
    def test_malformed_credentials(self, value):
        result = check(self.verifier, {"authorization": value}, "pw")
        assert not result.ok
        assert result.reason


def test_verifiers_refuse_when_the_webhook_has_no_secret():
    for verifier, headers in (
        (github.GitHub(), {"x-hub-signature-256": "sha256=00", "x-github-delivery": "d"}),
        (stripe.Stripe(), {"stripe-signature": f"t={NOW},v1=00"}),
        (hmac_sha256.HmacSha256(), {"x-signature": "00"}),
        (api_key.ApiKey(), {"x-api-key": ""}),
        (basic.Basic(), TestBasic.auth("kiln", "")),
        (standard_webhooks.StandardWebhooks(), {"webhook-id": "m", "webhook-timestamp": str(NOW),
                                                "webhook-signature": "v1,AA=="}),
    ):
        assert not check(verifier, headers, None).ok, verifier.name
