"""What the relay, the sender and the test endpoint share: channel types from the plugins, the
egress client, the secret box, and one delivery attempt."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import structlog

from app.core import crypto
from app.core.egress import Egress, EgressPolicy
from app.domain.alerts import configs, messages
from app.hooks.manager import KilnPluginManager
from app.hooks.types import (
    Alert,
    AlertChannelType,
    AlertMessage,
    DeliveryContext,
    DeliveryFailed,
    GroupedRun,
    LifecycleEvent,
    SmtpConfig,
)
from app.settings import Settings

log = structlog.get_logger("kiln.alerts")

DEFAULT_BASE_URL = "http://127.0.0.1:8080"
MAX_GROUPED_RUNS = 20


@dataclass(frozen=True, slots=True)
class DeliveryPolicy:
    """Retry and auto-disable rules of alert deliveries (``docs/alerts.md``)."""

    base_delay: float = 10.0
    """Seconds before the first retry; doubles per attempt (with jitter)."""
    max_delay: float = 3600.0
    """Cap of one retry delay, ``Retry-After`` included."""
    max_attempts: int = 10
    """A delivery is given up (``failed``) after this many attempts."""
    disable_after_failures: int = 10
    """Auto-disable: at least this many consecutive failed attempts of a channel…"""
    disable_after_seconds: float = 24 * 3600.0
    """…spanning at least this long (no success in between)."""

    def backoff(self, attempt: int, retry_after: float | None = None) -> float:
        """Delay after failed attempt number ``attempt`` (1-based): exponential with "equal
        jitter" (half fixed, half random), at least ``retry_after``, at most ``max_delay``."""
        ceiling = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        delay = ceiling / 2 + random.uniform(0, ceiling / 2)  # noqa: S311 (jitter, not crypto)
        if retry_after:
            delay = max(delay, retry_after)
        return float(min(delay, self.max_delay))


@dataclass(frozen=True, slots=True)
class Outcome:
    """The result of one attempt, as recorded in ``alert_attempts``."""

    succeeded: bool
    status_code: int | None = None
    detail: str | None = None
    retry_after: float | None = None
    gone: bool = False


class Alerting:
    """Per-process alerting services. Close with :meth:`aclose` (it owns an HTTP client)."""

    def __init__(
        self, settings: Settings, pm: KilnPluginManager, policy: DeliveryPolicy | None = None
    ) -> None:
        self.pm = pm
        self.policy = policy or DeliveryPolicy()
        self.box = crypto.box_for(settings)
        self.timeout = settings.alert_timeout_seconds
        self.group_window = settings.alert_group_window_seconds
        self.base_url = (settings.public_url or DEFAULT_BASE_URL).rstrip("/")
        self.egress = Egress(EgressPolicy(
            allow_private=settings.allow_private_egress, timeout=settings.alert_timeout_seconds,
            max_response_bytes=settings.alert_max_response_bytes,
        ))
        self.smtp = SmtpConfig(
            host=settings.smtp_host, port=settings.smtp_port, username=settings.smtp_username,
            password=settings.smtp_password, sender=settings.smtp_from,
            starttls=settings.smtp_starttls,
        )

    async def aclose(self) -> None:
        await self.egress.aclose()

    async def channel_types(self) -> dict[str, tuple[str, AlertChannelType]]:
        """``type → (plugin name, channel type)``; on a clash the first registered wins."""
        found: dict[str, tuple[str, AlertChannelType]] = {}
        for plugin, items in await self.pm.collect_by_plugin("register_alert_channels"):
            for item in items:
                if not isinstance(item, AlertChannelType):
                    log.warning("not an alert channel type", action="plugin.invalid",
                                plugin=plugin, item=repr(item)[:100])
                elif item.type in found:
                    log.warning("duplicate alert channel type", action="plugin.duplicate",
                                plugin=plugin, type=item.type, kept=found[item.type][0])
                else:
                    found[item.type] = (plugin, item)
        return found

    async def with_run_url(self, event: LifecycleEvent) -> LifecycleEvent:
        if not event.run_id:
            return event
        chosen = await self.pm.first("run_url_for_event", event=event, base_url=self.base_url)
        url = chosen if isinstance(chosen, str) else f"{self.base_url}/runs/{event.run_id}"
        return dataclasses.replace(event, run_url=url)

    async def message(self, alert: Alert, channel_type: str) -> AlertMessage:
        chosen = await self.pm.first(
            "alert_message_for_channel", alert=alert, channel_type=channel_type
        )
        if isinstance(chosen, AlertMessage):
            return chosen
        return messages.default_message(alert, channel_type)

    def channel_config(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """A channel row's config with its secrets opened."""
        opened = configs.unseal(self.box, row["tenant_id"], row["channel_id"], row["secrets"])
        return {**(row["config"] or {}), **opened}

    async def attempt(
        self, channel_type: AlertChannelType | None, alert: Alert, config: Mapping[str, Any],
        attempt: int,
    ) -> Outcome:
        """Run one delivery attempt; never raises."""
        if channel_type is None:
            return Outcome(False, detail="unknown channel type (is its plugin still loaded?)")
        try:
            message = await self.message(alert, channel_type.type)
            context = DeliveryContext(
                alert=alert, message=message, config=config, egress=self.egress, smtp=self.smtp,
                attempt=attempt, deadline=self.timeout,
            )
            async with asyncio.timeout(self.timeout * 2):  # a plugin that ignores its deadline
                result = await channel_type.send(context)
            return Outcome(True, status_code=result.status_code, detail=result.detail)
        except DeliveryFailed as exc:
            return Outcome(False, status_code=exc.status_code, detail=exc.message[:500],
                           retry_after=exc.retry_after, gone=exc.gone)
        except TimeoutError:
            return Outcome(False, detail=f"no answer within {self.timeout * 2:g}s")
        except Exception as exc:
            log.exception("alert channel raised", action="alert.error", type=channel_type.type)
            return Outcome(False, detail=f"{type(exc).__name__}: {exc}"[:500])


def delivery_payload(event: LifecycleEvent) -> dict[str, Any]:
    """What a delivery row stores: the first event, and the list grouped events extend."""
    return {"event": dict(event.payload), "run_url": event.run_url, "runs": [grouped_run(event)]}


def grouped_run(event: LifecycleEvent) -> dict[str, Any]:
    return {"run_id": event.run_id, "run_url": event.run_url, "at": event.at.isoformat(),
            "error": (event.error or "")[:500] or None, "task": event.task}


def alert_from_row(row: Mapping[str, Any]) -> Alert:
    """Rebuild the :class:`Alert` of a delivery row (``alert_deliveries`` columns)."""
    payload = row["payload"]
    first = LifecycleEvent.from_outbox(
        row["tenant_id"], 0, row["event"], payload.get("event") or {}, payload.get("run_url")
    )
    runs = tuple(GroupedRun(**run) for run in payload.get("runs") or [])
    return Alert(
        event=row["event"], tenant_id=row["tenant_id"],
        at=first.at if row["event_count"] == 1 else dt.datetime.now(dt.UTC),
        delivery_id=str(row["id"]), webhook_id=row["webhook_id"], workflow=first.workflow,
        status=first.status, run_id=first.run_id, run_url=first.run_url, task=first.task,
        attempt=first.attempt, error=first.error, worker_name=first.worker_name,
        metadata=first.metadata, count=row["event_count"], runs=runs,
        test=bool(payload.get("test")),
    )


def test_payload() -> dict[str, Any]:
    """The sample event of ``POST /alerts/channels/{id}/test``."""
    now = dt.datetime.now(dt.UTC).isoformat()
    event = {"event": "alert.test", "workflow": "example", "status": "failed",
             "error": "This is a test alert from Kiln.", "at": now}
    return {"event": event, "run_url": None, "runs": [], "test": True}
