"""The webhook verifiers of the loaded plugins (``register_webhook_verifiers``).

Collected once per plugin manager and per set of registered plugins (calling every plugin for
each incoming request would cost a thread per plugin), first registration of a name winning.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from typing import Any

import structlog

from app.core.errors import Invalid
from app.domain.alerts import configs
from app.hooks.manager import KilnPluginManager
from app.hooks.types import VerificationResult, WebhookVerifier

log = structlog.get_logger("kiln.webhooks")

_cache: weakref.WeakKeyDictionary[
    KilnPluginManager, tuple[tuple[str, ...], dict[str, WebhookVerifier]]
] = weakref.WeakKeyDictionary()


async def registry(plugins: KilnPluginManager) -> dict[str, WebhookVerifier]:
    signature = tuple(name for name, plugin in plugins.list_name_plugin() if plugin is not None)
    cached = _cache.get(plugins)
    if cached is not None and cached[0] == signature:
        return cached[1]
    found: dict[str, WebhookVerifier] = {}
    for verifier in await plugins.collect("register_webhook_verifiers"):
        if not isinstance(verifier, WebhookVerifier):
            log.warning("not a webhook verifier", action="plugin.invalid", item=repr(verifier))
        elif verifier.name in found:
            log.warning("webhook verifier registered twice; the first wins",
                        action="plugin.clash", verifier=verifier.name)
        else:
            found[verifier.name] = verifier
    _cache[plugins] = (signature, found)
    return found


async def get(plugins: KilnPluginManager, name: str) -> WebhookVerifier:
    known = await registry(plugins)
    if name not in known:
        raise Invalid(f"unknown verifier {name!r}; available: {', '.join(sorted(known))}")
    return known[name]


def check_config(verifier: WebhookVerifier, config: Mapping[str, Any]) -> None:
    problems = configs.errors({"type": "object", **verifier.config_schema}, dict(config))
    if problems:
        raise Invalid(f"invalid config for verifier {verifier.name!r}: " + "; ".join(problems),
                      details=problems)


def check_secret(verifier: WebhookVerifier, secret: str) -> None:
    """Refuse a caller's secret the verifier says cannot work (optional ``validate_secret``)."""
    validate = getattr(verifier, "validate_secret", None)
    problem = validate(secret) if callable(validate) else None
    if problem:
        raise Invalid(f"secret: {problem}")


def verify(
    verifier: WebhookVerifier, *, headers: Mapping[str, str], body: bytes,
    secrets: list[str | None], config: Mapping[str, Any], now: float,
) -> VerificationResult:
    """Try each secret (current first, then a rotated-out one still in its grace period)."""
    result = VerificationResult(ok=False, reason="no secret to verify with")
    for secret in secrets:
        try:
            result = verifier.verify(headers=headers, body=body, secret=secret, config=config,
                                     now=now)
        except Exception as exc:  # a plugin's bug refuses the request, it does not 500
            log.exception("webhook verifier raised", action="plugin.error",
                          verifier=verifier.name)
            return VerificationResult(ok=False, reason=f"verifier error: {exc!r}"[:300])
        if result.ok:
            return result
    return result


def delivery_id(
    verifier: WebhookVerifier, *, headers: Mapping[str, str], body: bytes,
    config: Mapping[str, Any],
) -> str | None:
    """The sender's delivery id: the verifier's optional ``delivery_id``, else the
    ``webhook-id``/``x-delivery-id``/``idempotency-key`` header, else None."""
    extract = getattr(verifier, "delivery_id", None)
    if callable(extract):
        try:
            found = extract(headers=headers, body=body, config=config)
        except Exception:
            log.exception("webhook verifier raised", action="plugin.error",
                          verifier=verifier.name)
            found = None
        return str(found)[:255] if found else None
    for name in ("webhook-id", "x-delivery-id", "idempotency-key"):
        if headers.get(name):
            return headers[name][:255]
    return None
