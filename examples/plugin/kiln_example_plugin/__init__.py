"""An example third-party Kiln plugin.

On every failed run it appends one JSON line to the file named by ``KILN_EXAMPLE_PLUGIN_LOG``
and, when ``KILN_EXAMPLE_PLUGIN_URL`` is set, posts a summary there through Kiln's SSRF-safe
``egress`` client. It also adds its own wording to e-mail alerts.

Install it next to the server (``pip install ./examples/plugin``); Kiln discovers it through the
``kiln`` entry point declared in ``pyproject.toml``. ``GET /api/v1/plugins`` then lists it as
``example``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from pathlib import Path

from app.core.egress import Egress, EgressError
from app.hooks import hookimpl
from app.hooks.types import Alert, AlertMessage, LifecycleEvent

log = logging.getLogger("kiln_example_plugin")


@hookimpl
async def on_run_failed(event: LifecycleEvent, egress: Egress) -> None:
    """Called once per failed run, after the failure is committed (at least once: a
    re-delivery has the same ``event.outbox_id``)."""
    record = {
        "outbox_id": event.outbox_id, "tenant_id": str(event.tenant_id), "run_id": event.run_id,
        "workflow": event.workflow, "error": event.error, "run_url": event.run_url,
        "at": event.at.isoformat(),
    }
    log_path = os.environ.get("KILN_EXAMPLE_PLUGIN_LOG")
    if log_path:  # file I/O off the event loop: hooks share it with the whole server
        await asyncio.to_thread(_append, Path(log_path), json.dumps(record))
    url = os.environ.get("KILN_EXAMPLE_PLUGIN_URL")
    if url:
        try:
            response = await egress.post_json(url, record)
        except EgressError as exc:  # refused by the SSRF guard, unreachable, timed out
            log.warning("could not report run %s: %s", event.run_id, exc)
            return
        if not response.ok:
            log.warning("report of run %s answered HTTP %s", event.run_id, response.status_code)


def _append(path: Path, line: str) -> None:
    with path.open("a", encoding="utf-8") as file:
        file.write(line + "\n")


@hookimpl
def alert_message_for_channel(alert: Alert, channel_type: str) -> AlertMessage | None:
    """Reword e-mail alerts of failed runs; None keeps Kiln's default everywhere else."""
    if channel_type != "email" or alert.event != "run.failed" or alert.count > 1:
        return None
    return AlertMessage(
        title=f"[{alert.workflow}] failed",
        text=f"The workflow {alert.workflow} failed: {alert.error}\n\n{alert.run_url or ''}",
    )
