"""Calling plugins safely from async code.

pluggy's own ``pm.hook.x()`` calls implementations synchronously, one after the other: one slow
or raising plugin would stall the event loop or fail the caller. These helpers call each
implementation themselves, in pluggy's order:

* ``async def`` implementations are awaited; plain functions run in a daemon thread (a blocking
  one cannot stall the loop, and a hung one cannot keep the process alive at exit); an awaitable
  a plain function returns is awaited too;
* each call is bounded by ``limit`` seconds, then abandoned;
* exceptions and timeouts are logged with ``action=plugin.error|plugin.timeout`` and swallowed.

Old-style ``hookwrapper``/``wrapper`` implementations are not called by these helpers.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import threading
from collections.abc import Callable
from typing import Any

import pluggy
import structlog

log = structlog.get_logger("kiln.plugins")


class _Failed:
    """Marker of an implementation that raised or timed out."""


FAILED = _Failed()


def _in_daemon_thread(function: Callable[..., Any], kwargs: dict[str, Any]) -> asyncio.Future[Any]:
    loop = asyncio.get_running_loop()
    future: asyncio.Future[Any] = loop.create_future()

    def settle(result: Any, error: BaseException | None) -> None:
        if future.done():
            return  # the caller gave up (timeout)
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)

    def run() -> None:
        try:
            result, error = function(**kwargs), None
        except BaseException as exc:
            result, error = None, exc
        with contextlib.suppress(RuntimeError):  # the loop closed while the plugin still ran
            loop.call_soon_threadsafe(settle, result, error)

    threading.Thread(target=run, name="kiln-plugin-hook", daemon=True).start()
    return future


async def call_impl(
    impl: pluggy.HookImpl, hook: str, kwargs: dict[str, Any], limit: float
) -> Any:
    """Call one implementation with the arguments it asks for; FAILED when it raised/timed out."""
    arguments = {name: kwargs[name] for name in impl.argnames if name in kwargs}
    function = impl.function
    try:
        async with asyncio.timeout(limit):
            if inspect.iscoroutinefunction(function):
                result = await function(**arguments)
            else:
                result = await _in_daemon_thread(function, arguments)
            if inspect.isawaitable(result):
                result = await result
            return result
    except TimeoutError:
        log.warning("plugin hook timed out", action="plugin.timeout", hook=hook,
                    plugin=impl.plugin_name, timeout=limit)
    except Exception:
        log.exception("plugin hook raised", action="plugin.error", hook=hook,
                      plugin=impl.plugin_name)
    return FAILED


def _impls(pm: pluggy.PluginManager, hook: str) -> list[pluggy.HookImpl]:
    caller = getattr(pm.hook, hook, None)
    if caller is None:
        raise ValueError(f"no hook named {hook!r} (see app/hooks/hookspecs.py)")
    # pluggy calls the last registered first (tryfirst/trylast already applied): same order.
    return [
        impl for impl in reversed(caller.get_hookimpls())
        if not (impl.hookwrapper or impl.wrapper)
    ]


async def broadcast(
    pm: pluggy.PluginManager, hook: str, kwargs: dict[str, Any], limit: float
) -> list[Any]:
    """Call every implementation concurrently; return the results of those that succeeded."""
    results = await asyncio.gather(
        *(call_impl(impl, hook, kwargs, limit) for impl in _impls(pm, hook))
    )
    return [result for result in results if result is not FAILED]


async def collect(
    pm: pluggy.PluginManager, hook: str, kwargs: dict[str, Any], limit: float
) -> list[Any]:
    """Call every implementation and concatenate what they return (lists are flattened, None
    skipped), in pluggy's order."""
    items: list[Any] = []
    for result in await broadcast(pm, hook, kwargs, limit):
        if result is None:
            continue
        if isinstance(result, list | tuple):
            items.extend(result)
        else:
            items.append(result)
    return items


async def collect_by_plugin(
    pm: pluggy.PluginManager, hook: str, kwargs: dict[str, Any], limit: float
) -> list[tuple[str, list[Any]]]:
    """Like :func:`collect`, but per plugin and in *registration* order (built-ins first)."""
    impls = list(reversed(_impls(pm, hook)))
    results = await asyncio.gather(*(call_impl(impl, hook, kwargs, limit) for impl in impls))
    grouped = []
    for impl, result in zip(impls, results, strict=True):
        if result is FAILED or result is None:
            continue
        items = list(result) if isinstance(result, list | tuple) else [result]
        grouped.append((impl.plugin_name, items))
    return grouped


async def first(
    pm: pluggy.PluginManager, hook: str, kwargs: dict[str, Any], limit: float
) -> Any:
    """Ask implementations in turn; return the first non-None answer (None when none has one)."""
    for impl in _impls(pm, hook):
        result = await call_impl(impl, hook, kwargs, limit)
        if result is not None and result is not FAILED:
            return result
    return None
