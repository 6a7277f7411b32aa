"""``GET /api/v1/plugins``: what is loaded, and which hooks each plugin implements."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, get

from app.domain.auth.guards import requires
from app.domain.auth.principal import Permission
from app.hooks.manager import KilnPluginManager


class Plugin(msgspec.Struct):
    name: str
    source: str
    """``builtin``, ``entry-point`` or ``registered``."""
    hooks: list[str]
    distribution: str | None = None
    version: str | None = None


class PluginList(msgspec.Struct):
    items: list[Plugin]


class PluginController(Controller):
    path = "/api/v1/plugins"
    tags = ["plugins"]
    guards = [requires(Permission.READ)]

    @get("/", operation_id="listPlugins", summary="Loaded plugins and the hooks they implement")
    async def list_plugins(self, request: Request[Any, Any, Any]) -> PluginList:
        pm: KilnPluginManager = request.app.state.plugins
        return PluginList(items=[
            Plugin(name=info.name, source=info.source, hooks=hooks,
                   distribution=info.distribution, version=info.version)
            for info, hooks in pm.describe()
        ])
