"""Kiln's default alert wording (``alert_message_for_channel`` may replace it)."""

from __future__ import annotations

import html

from app.hooks.types import Alert, AlertMessage

_HEADLINES = {
    "run.succeeded": "Run succeeded",
    "run.failed": "Run failed",
    "run.cancelled": "Run cancelled",
    "task.failed": "Task failed",
    "task.retrying": "Task retrying",
    "task.cancelled": "Task cancelled",
    "task.timed_out": "Task timed out",
    "worker.lost": "Worker lost",
    "alert.test": "Test alert",
}
_PLURALS = {
    "run.failed": "run failures", "task.failed": "task failures",
    "task.timed_out": "task timeouts", "task.retrying": "task retries",
}
MAX_ERROR = 500


def _link(url: str | None, label: str, slack: bool) -> str:
    if not url:
        return label
    return f"<{url}|{label}>" if slack else f"{label} ({url})"


def _subject(alert: Alert) -> str:
    headline = _HEADLINES.get(alert.event, alert.event)
    if alert.count > 1:
        what = _PLURALS.get(alert.event, f"{alert.event} events")
        return f"Kiln: {alert.count} {what} of workflow {alert.workflow}"
    if alert.event == "worker.lost":
        return f"Kiln: {headline}: {alert.worker_name or '?'}"
    subject = f"Kiln: {headline}: {alert.workflow or '?'}"
    return f"{subject} / {alert.task}" if alert.task else subject


def _lines(alert: Alert, slack: bool) -> list[str]:
    if alert.count > 1:
        lines = [f"{alert.count} events since {alert.runs[0].at if alert.runs else '?'}:"]
        for run in alert.runs:
            where = f" task {run.task}" if run.task else ""
            error = f": {run.error[:120]}" if run.error else ""
            lines.append(f"• {_link(run.run_url, run.run_id or '?', slack)}{where}{error}")
        if alert.count > len(alert.runs):
            lines.append(f"… and {alert.count - len(alert.runs)} more")
        return lines
    lines = []
    if alert.workflow:
        lines.append(f"Workflow: {alert.workflow}")
    if alert.task:
        attempt = f" (attempt {alert.attempt})" if alert.attempt else ""
        lines.append(f"Task: {alert.task}{attempt}")
    if alert.worker_name:
        lines.append(f"Worker: {alert.worker_name}")
    if alert.status:
        lines.append(f"Status: {alert.status}")
    if alert.error:
        lines.append(f"Error: {alert.error[:MAX_ERROR]}")
    if alert.run_id:
        lines.append(f"Run: {_link(alert.run_url, alert.run_id, slack)}")
    if alert.test:
        lines.append("This is a test alert sent from the channel's settings.")
    return lines


def _html(alert: Alert, subject: str) -> str:
    rows = []
    for line in _lines(alert, slack=False):
        rows.append(f"<li>{html.escape(line)}</li>")
    link = ""
    if alert.run_url and alert.count == 1:
        link = f'<p><a href="{html.escape(alert.run_url)}">Open the run in Kiln</a></p>'
    return (
        f"<html><body><h2>{html.escape(subject)}</h2><ul>{''.join(rows)}</ul>{link}"
        f"<p style=\"color:#888\">{html.escape(alert.at.isoformat())}</p></body></html>"
    )


def default_message(alert: Alert, channel_type: str) -> AlertMessage:
    slack = channel_type == "slack"
    subject = _subject(alert)
    return AlertMessage(
        title=subject, text="\n".join(_lines(alert, slack)), html=_html(alert, subject)
    )
