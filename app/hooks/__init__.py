"""Kiln's plugin system (pluggy, project name ``kiln``).

Plugins mark their functions with :data:`hookimpl`; the specifications are in
:mod:`app.hooks.hookspecs`, the objects hooks receive and return in :mod:`app.hooks.types`, and
:func:`app.hooks.manager.get_plugin_manager` builds the manager. See ``docs/plugins.md``.
"""

from __future__ import annotations

import pluggy

PROJECT = "kiln"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

__all__ = ["PROJECT", "hookimpl", "hookspec"]
