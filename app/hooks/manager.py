"""``get_plugin_manager(settings)``: build the plugin manager of one app.

No module-level manager: each app (and each test) builds its own. Built-ins (listed in
``plugins.BUILTIN_PLUGINS``) are registered exactly like third-party plugins, which come from
the ``kiln`` entry-point group, filtered by ``KILN_PLUGINS``. ``check_pending()`` then makes a
misspelt hook name fail loudly at startup instead of never being called.
"""

from __future__ import annotations

import importlib
import importlib.metadata
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pluggy
import structlog

import plugins
from app.hooks import PROJECT, calls, hookspecs

if TYPE_CHECKING:
    from app.settings import Settings

log = structlog.get_logger("kiln.plugins")

ENTRY_POINT_GROUP = "kiln"


class PluginError(Exception):
    """A plugin could not be loaded or implements a hook that does not exist."""


@dataclass(frozen=True, slots=True)
class PluginInfo:
    """Where a registered plugin came from (``GET /api/v1/plugins`` lists these)."""

    name: str
    source: str
    """``builtin``, ``entry-point`` or ``registered`` (added at run time, e.g. by a test)."""
    distribution: str | None = None
    version: str | None = None


class KilnPluginManager(pluggy.PluginManager):
    """A pluggy manager plus Kiln's safe async callers (:mod:`app.hooks.calls`)."""

    def __init__(self, hook_timeout: float = 5.0) -> None:
        super().__init__(PROJECT)
        self.hook_timeout = hook_timeout
        self.origins: dict[str, PluginInfo] = {}

    def describe(self) -> list[tuple[PluginInfo, list[str]]]:
        """Every registered plugin with the hooks it implements, in registration order."""
        described = []
        for name, plugin in self.list_name_plugin():
            if plugin is None:
                continue  # blocked
            info = self.origins.get(name) or PluginInfo(name=name, source="registered")
            hooks = sorted(caller.name for caller in self.get_hookcallers(plugin) or [])
            described.append((info, hooks))
        return described

    async def broadcast(self, hook: str, **kwargs: Any) -> list[Any]:
        """Call every implementation of an ``on_*`` hook; see :func:`calls.broadcast`."""
        return await calls.broadcast(self, hook, kwargs, self.hook_timeout)

    async def collect(self, hook: str, **kwargs: Any) -> list[Any]:
        """Concatenate the results of a ``register_*`` hook; see :func:`calls.collect`."""
        return await calls.collect(self, hook, kwargs, self.hook_timeout)

    async def collect_by_plugin(self, hook: str, **kwargs: Any) -> list[tuple[str, list[Any]]]:
        """Results of a ``register_*`` hook per plugin, in registration order."""
        return await calls.collect_by_plugin(self, hook, kwargs, self.hook_timeout)

    async def first(self, hook: str, **kwargs: Any) -> Any:
        """The first non-None result of a ``*_for_*`` hook; see :func:`calls.first`."""
        return await calls.first(self, hook, kwargs, self.hook_timeout)


def _register_builtins(pm: KilnPluginManager) -> None:
    for module_name in plugins.BUILTIN_PLUGINS:
        module = importlib.import_module(module_name)
        pm.register(module, name=module_name)
        pm.origins[module_name] = PluginInfo(name=module_name, source="builtin")


def _load_entry_points(pm: KilnPluginManager, allow: list[str] | None) -> None:
    found = set()
    for entry_point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        found.add(entry_point.name)
        if allow is not None and entry_point.name not in allow:
            log.info("plugin skipped (not in KILN_PLUGINS)", action="plugin.skipped",
                     plugin=entry_point.name)
            continue
        if pm.has_plugin(entry_point.name) or pm.is_blocked(entry_point.name):
            continue
        try:
            plugin = entry_point.load()
        except Exception as exc:
            raise PluginError(
                f"plugin {entry_point.name!r} ({entry_point.value}) failed to import: {exc}; "
                "fix or uninstall it, or leave it out of KILN_PLUGINS"
            ) from exc
        pm.register(plugin, name=entry_point.name)
        dist = entry_point.dist
        pm.origins[entry_point.name] = PluginInfo(
            name=entry_point.name, source="entry-point",
            distribution=dist.name if dist else None, version=dist.version if dist else None,
        )
        log.info("plugin loaded", action="plugin.loaded", plugin=entry_point.name)
    for missing in sorted(set(allow or []) - found):
        log.warning("plugin in KILN_PLUGINS is not installed", action="plugin.missing",
                    plugin=missing)


def get_plugin_manager(settings: Settings | None = None) -> KilnPluginManager:
    """Build a manager: hookspecs, built-ins, allowed entry points, then ``check_pending()``."""
    pm = KilnPluginManager(
        hook_timeout=settings.plugin_hook_timeout_seconds if settings else 5.0
    )
    pm.add_hookspecs(hookspecs)
    try:
        _register_builtins(pm)
        _load_entry_points(pm, settings.plugins if settings else None)
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise PluginError(f"invalid plugin {exc.plugin!r}: {exc}") from exc
    return pm
