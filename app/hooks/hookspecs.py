"""Every hook Kiln calls: the single list, each documented (``docs/plugins.md`` mirrors it).

Families, by name:

* ``register_*`` — *collect*: every implementation is called; each returns a list (or one
  item, or None) and the results are concatenated.
* ``on_*`` — *broadcast*: lifecycle notifications. Called **after** the state change committed,
  by the outbox relay, **at least once** (a crash between the call and the relay's commit calls
  it again: make implementations idempotent, e.g. on ``event.outbox_id``). Return values are
  ignored.
* ``*_for_*`` — *choose* (``firstresult``): implementations are asked in turn and the first
  non-None answer wins; None means "no opinion", and Kiln's default applies.

Any hook may be a plain function or ``async def`` (or return an awaitable). Each call is bounded
by ``KILN_PLUGIN_HOOK_TIMEOUT_SECONDS``; plain functions run in a thread so a blocking one cannot
stall the server. A hook that raises or times out is logged (``action=plugin.error`` /
``plugin.timeout``) and skipped: it never fails a run or a request. Implementations may accept
any subset of a hook's arguments, by name.
"""

from __future__ import annotations

from app.core.egress import Egress
from app.hooks import hookspec
from app.hooks.types import (
    Alert,
    AlertChannelType,
    AlertMessage,
    LifecycleEvent,
    RateLimitStrategy,
    WebhookVerifier,
)

# --- register_*: collect ---------------------------------------------------------------------


@hookspec
def register_alert_channels() -> list[AlertChannelType] | None:
    """Return the alert channel types this plugin provides.

    Called whenever channel types are needed (listing them, validating a channel's config,
    sending): keep it cheap and side-effect free. Each item satisfies
    :class:`app.hooks.types.AlertChannelType`: a unique ``type`` (``slack``), a ``title``, a
    ``description``, a JSON Schema ``config_schema`` (``writeOnly`` properties are stored
    encrypted and never returned) and ``async send(context)``. When two plugins register the same
    ``type``, the first one registered (built-ins) wins and the clash is logged.
    """


@hookspec
def register_rate_limit_strategies() -> list[RateLimitStrategy] | None:
    """Return the rate-limit strategies this plugin provides.

    Each item satisfies :class:`app.hooks.types.RateLimitStrategy`: a unique ``name``
    (``token-bucket``, ``sliding-window`` …), a ``title``, a JSON Schema ``config_schema`` and a
    pure ``decide(config, state, now, cost) -> (RateLimitDecision, new_state)`` that Kiln calls
    with the limit key's row locked, so strategies stay correct across replicas.
    """


@hookspec
def register_webhook_verifiers() -> list[WebhookVerifier] | None:
    """Return the inbound-webhook verifiers this plugin provides.

    Each item satisfies :class:`app.hooks.types.WebhookVerifier`: a unique ``name`` (what
    ``POST /api/v1/webhooks`` takes as ``verifier``), a ``title``, a ``config_schema``,
    ``generate_secret()`` and ``verify(headers=, body=, secret=, config=, now=)`` returning a
    :class:`app.hooks.types.VerificationResult`. A request that fails verification is answered
    401 and nothing is stored.
    """


# --- on_*: broadcast lifecycle events (from the outbox, after commit) ------------------------


@hookspec
def on_run_succeeded(event: LifecycleEvent, egress: Egress) -> None:
    """A workflow run finished with every task succeeded (outbox event ``run.succeeded``).

    ``event`` carries ``run_id``, ``workflow``, ``status``, ``metadata``, ``run_url`` and ``at``;
    ``egress`` is the SSRF-safe HTTP client to call other services with.
    """


@hookspec
def on_run_failed(event: LifecycleEvent, egress: Egress) -> None:
    """A workflow run failed: a task failed for good (``run.failed``).

    ``event.error`` is the failing task's last error; ``event.task`` names it when known.
    """


@hookspec
def on_run_cancelled(event: LifecycleEvent, egress: Egress) -> None:
    """A workflow run was cancelled (``run.cancelled``), by a user or a parent run."""


@hookspec
def on_task_succeeded(event: LifecycleEvent, egress: Egress) -> None:
    """A task succeeded (``task.succeeded``).

    The engine writes this event only while some plugin implements this hook (see
    :func:`app.hooks.outbox_events.wanted`): it is the most frequent event, so implementing it
    costs one outbox row per task.
    """


@hookspec
def on_task_failed(event: LifecycleEvent, egress: Egress) -> None:
    """A task failed for good: no retries left (``task.failed``). ``event.attempt`` is the
    last attempt number, ``event.error`` its error."""


@hookspec
def on_task_retrying(event: LifecycleEvent, egress: Egress) -> None:
    """An attempt of a task failed and another is scheduled (``task.retrying``).
    ``event.attempt`` is the attempt that failed."""


@hookspec
def on_task_cancelled(event: LifecycleEvent, egress: Egress) -> None:
    """A task was cancelled, usually because its run was (``task.cancelled``)."""


@hookspec
def on_task_timed_out(event: LifecycleEvent, egress: Egress) -> None:
    """An attempt of a task exceeded its execution or schedule timeout (``task.timed_out``).
    A retry may follow (then ``task.retrying`` follows too)."""


@hookspec
def on_worker_lost(event: LifecycleEvent, egress: Egress) -> None:
    """A worker stopped heartbeating and its leases were reclaimed (``worker.lost``).
    ``event.worker_id`` and ``event.worker_name`` name it; run fields are unset."""


@hookspec
def on_rate_limited(event: LifecycleEvent, egress: Egress) -> None:
    """A rate limit refused work (``rate.limited``). The payload (``event.payload``) carries the
    limit ``key``, the ``strategy`` and ``retry_after`` seconds."""


# --- *_for_*: firstresult choices ------------------------------------------------------------


@hookspec(firstresult=True)
def alert_message_for_channel(alert: Alert, channel_type: str) -> AlertMessage | None:
    """Choose the human-readable text of ``alert`` for a channel of ``channel_type``
    (``slack``, ``email``, ``webhook`` or a plugin's type).

    Return an :class:`app.hooks.types.AlertMessage` to replace Kiln's default wording, or None
    to keep it. The first non-None result wins. The webhook channel also sends it as
    ``message`` next to the structured ``data``.
    """


@hookspec(firstresult=True)
def run_url_for_event(event: LifecycleEvent, base_url: str) -> str | None:
    """Choose the link to a run used in alerts and given to ``on_*`` hooks as
    ``event.run_url``. ``base_url`` is ``KILN_PUBLIC_URL`` (or the server's address); Kiln's
    default is ``<base_url>/runs/<run_id>``. The first non-None result wins."""
