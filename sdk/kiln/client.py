"""``Kiln``: the one entry object — declares tasks and workflows, makes workers, triggers."""

from __future__ import annotations

import os
import types
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from kiln import _portal, conditions, durations, errors, events, flow, runs, transport
from kiln.standalone import Standalone, StandaloneDecorator
from kiln.workflow import Workflow, make_task, mark_durable

if TYPE_CHECKING:
    from kiln.worker import Worker

T = TypeVar("T")
DEFAULT_API_URL = "http://127.0.0.1:8080"


class Kiln:
    """The SDK's entry object.

    ``Kiln()`` reads ``KILN_API_URL`` (default ``http://127.0.0.1:8080``) and ``KILN_API_KEY``;
    arguments win over the environment. It does no I/O and needs no key until it first talks to
    the server, so modules that declare tasks import cleanly in unit tests.
    """

    def __init__(
        self, api_url: str | None = None, api_key: str | None = None, *, timeout: float = 30.0,
        retry: transport.RetryPolicy | None = None,
        http_transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.api_url = _check_url(api_url or os.environ.get("KILN_API_URL") or DEFAULT_API_URL)
        key = api_key if api_key is not None else os.environ.get("KILN_API_KEY")
        self.transport = transport.Transport(self.api_url, key, timeout=timeout, retry=retry,
                                             http_transport=http_transport)
        self.events = events.Events(self)
        self._portal = _portal.Portal()

    def workflow(self, name: str, *, description: str | None = None,
                 on_events: Sequence[str] = (), on_crons: Sequence[str] = (),
                 event_filter: str | None = None,
                 concurrency: int | flow.Concurrency | Sequence[flow.Concurrency] | None = None,
                 default_priority: int | None = None,
                 sticky: flow.StickyStrategy | str | None = None) -> Workflow:
        """A new, empty workflow; add tasks with ``@wf.task()``.

        ``on_events`` lists event keys that start it, ``on_crons`` 5-field cron expressions;
        ``event_filter`` is a CEL expression over ``payload``, ``metadata`` and ``key`` that an
        event must satisfy to start a run. Flow control (docs/flow-control.md):
        ``concurrency`` limits unfinished runs per key, ``default_priority`` (1-3) orders runs
        triggered without one, ``sticky`` keeps a run's tasks on one worker.
        """
        return Workflow(name, client=self, description=description, on_events=on_events,
                        on_crons=on_crons, event_filter=event_filter, concurrency=concurrency,
                        default_priority=default_priority, sticky=sticky)

    def task(self, *, name: str | None = None, description: str | None = None,
             on_events: Sequence[str] = (), on_crons: Sequence[str] = (),
             event_filter: str | None = None, retries: int = 0, backoff_factor: float = 2.0,
             backoff_max_seconds: durations.Duration = 3600,
             execution_timeout: durations.Duration = 60,
             schedule_timeout: durations.Duration | None = None,
             concurrency: int | flow.Concurrency | Sequence[flow.Concurrency] | None = None,
             rate_limits: Sequence[flow.RateLimit] = (),
             desired_labels: Mapping[str, flow.DesiredLabel | str | int | float | bool]
             | None = None,
             sticky: flow.StickyStrategy | str | None = None,
             default_priority: int | None = None,
             wait_for: Sequence[conditions.Condition | conditions.OrGroup] = (),
             skip_if: Sequence[conditions.Condition | conditions.OrGroup] = (),
             cancel_if: Sequence[conditions.Condition | conditions.OrGroup] = (),
             ) -> StandaloneDecorator:
        """Declare a standalone task: ``@kiln.task(retries=2, execution_timeout="30s")``.

        It is registered as a one-task workflow named after the task; ``task.run(input)``
        returns the task's own output (None when its conditions skipped it). Flow control
        (docs/flow-control.md): ``concurrency`` (runs per key, any strategy), ``rate_limits``,
        ``desired_labels``, ``sticky``, ``default_priority``. Conditions (docs/durable.md):
        ``wait_for``, ``skip_if``, ``cancel_if`` (sleep and event conditions).
        """
        options = {"retries": retries, "backoff_factor": backoff_factor,
                   "backoff_max_seconds": backoff_max_seconds,
                   "execution_timeout": execution_timeout, "schedule_timeout": schedule_timeout,
                   "rate_limits": rate_limits, "desired_labels": desired_labels,
                   "wait_for": wait_for, "skip_if": skip_if, "cancel_if": cancel_if}

        def decorate(fn: Callable[..., Any]) -> Standalone[Any, Any]:
            wf = self.workflow(str(name or getattr(fn, "__name__", "")), description=description,
                               on_events=on_events, on_crons=on_crons, event_filter=event_filter,
                               concurrency=concurrency, default_priority=default_priority,
                               sticky=sticky)
            task = make_task(fn, wf, wf.name, (), options, factory=Standalone)
            wf.tasks[task.name] = task
            assert isinstance(task, Standalone)
            return task
        return decorate

    def durable_task(self, *, name: str | None = None, **options: Any) -> StandaloneDecorator:
        """Declare a standalone durable task (an ``async def``): like ``task``, with a
        ``DurableContext`` whose steps, sleeps and event waits are logged and replayed."""
        add = self.task(name=name, **options)

        def decorate(fn: Callable[..., Any]) -> Standalone[Any, Any]:
            task = add(mark_durable(fn))
            task.durable = True
            return task
        return decorate

    def worker(
        self, name: str, workflows: Sequence[Workflow | Standalone[Any, Any]], slots: int = 10,
        labels: Mapping[str, str | int | float | bool] | None = None, *,
        drain_timeout: durations.Duration = 20, poll_wait: durations.Duration | None = None,
    ) -> Worker:
        """A worker that runs the tasks of ``workflows``, up to ``slots`` at a time.

        ``worker.start()`` blocks until SIGINT/SIGTERM; ``await worker.astart()`` is the async
        form. On shutdown it stops polling and lets running tasks finish for ``drain_timeout``.
        """
        from kiln.worker import Worker  # the worker machinery loads only when a worker is made

        return Worker(self, name, workflows, slots=slots, labels=labels,
                      drain_timeout=drain_timeout, poll_wait=poll_wait)

    def run_ref(self, run_id: str, workflow: str = "") -> runs.RunRef[dict[str, Any]]:
        """A ``RunRef`` for a run started elsewhere (its ``result()`` is ``{leaf: output}``)."""
        return runs.RunRef(self, run_id, workflow, runs.workflow_output)

    @property
    def testing(self) -> types.ModuleType:
        """The ``kiln.testing`` module, reachable even where ``kiln`` names this object."""
        import kiln.testing

        return kiln.testing

    def sync(self, factory: Callable[[], Awaitable[T]]) -> T:
        """Run an async SDK call to completion from sync code (the sync facade's one path)."""
        return self._portal.call(factory)

    def close(self) -> None:
        """Release the sync facade's thread and connections (safe to call twice)."""
        self._portal.close(self.transport.aclose)

    async def aclose(self) -> None:
        """Close the HTTP connections this event loop opened."""
        await self.transport.aclose()

    def __enter__(self) -> Kiln:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Kiln(api_url={self.api_url!r})"


def _check_url(url: str) -> str:
    try:
        parsed = httpx.URL(url) if "://" in url else None
    except httpx.InvalidURL:
        parsed = None
    if parsed is None or parsed.scheme not in ("http", "https") or not parsed.host:
        raise errors.ConfigurationError(
            f"Kiln API URL {url!r} is not an http(s) URL; set KILN_API_URL or "
            f"Kiln(api_url=...) to e.g. {DEFAULT_API_URL}")
    base = url.rstrip("/")
    # Accept the URL with the API prefix too: routes are added to it below.
    return base.removesuffix("/api/v1")
