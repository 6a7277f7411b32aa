"""The plugin manager: built-ins, entry points, the KILN_PLUGINS allow-list, check_pending, and
``GET /api/v1/plugins``."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pluggy
import pytest

from app.hooks import hookspecs, outbox_events
from app.hooks.manager import PluginError, get_plugin_manager
from app.settings import Settings
from tests.plugins.helpers import registered


def install_plugin(site: Path, dist: str, module: str, source: str, entry: str) -> None:
    """Lay out an installed distribution (module + dist-info) the way pip writes one."""
    (site / f"{module}.py").write_text(textwrap.dedent(source))
    info = site / f"{dist.replace('-', '_')}-1.2.3.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.2.3\n")
    (info / "entry_points.txt").write_text(f"[kiln]\n{entry} = {module}\n")


GOOD = """
from app.hooks import hookimpl

@hookimpl
def on_task_succeeded(event):
    pass
"""


@pytest.fixture
def site(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def test_builtins_are_registered_and_every_hook_is_specified():
    pm = get_plugin_manager()
    described = {info.name: (info.source, hooks) for info, hooks in pm.describe()}
    for name in ("plugins.alerts.slack", "plugins.alerts.webhook", "plugins.alerts.email"):
        assert described[name] == ("builtin", ["register_alert_channels"])
    specified = {name for name in dir(hookspecs) if hasattr(getattr(hookspecs, name),
                                                            "kiln_spec")}
    assert specified == {name for name in dir(pm.hook) if not name.startswith("_")}
    assert set(outbox_events.EVENT_HOOKS.values()) <= specified


def test_entry_points_are_loaded_and_filtered_by_the_allow_list(site, tmp_path):
    install_plugin(site, "kiln-good", "kiln_good_plugin", GOOD, "good")
    install_plugin(site, "kiln-other", "kiln_other_plugin", GOOD, "other")
    everything = get_plugin_manager(Settings(home=tmp_path))
    assert everything.has_plugin("good")
    assert everything.has_plugin("other")
    info = everything.origins["good"]
    assert (info.source, info.distribution, info.version) == ("entry-point", "kiln-good", "1.2.3")
    assert "task.succeeded" in outbox_events.wanted(everything)

    only_good = get_plugin_manager(Settings(home=tmp_path, plugins="good, missing"))
    assert only_good.has_plugin("good")
    assert not only_good.has_plugin("other")
    nothing = get_plugin_manager(Settings(home=tmp_path, plugins=""))
    assert not nothing.has_plugin("good")
    assert nothing.has_plugin("plugins.alerts.webhook")  # built-ins always load


def test_a_misspelt_hook_fails_loudly_at_startup(site, tmp_path):
    install_plugin(site, "kiln-typo", "kiln_typo_plugin", """
        from app.hooks import hookimpl

        @hookimpl
        def on_run_faild(event):
            pass
    """, "typo")
    with pytest.raises(PluginError, match="on_run_faild"):
        get_plugin_manager(Settings(home=tmp_path, plugins="typo"))
    assert get_plugin_manager(Settings(home=tmp_path, plugins="")) is not None


def test_a_plugin_that_cannot_import_names_itself(site, tmp_path):
    install_plugin(site, "kiln-broken", "kiln_broken_plugin", "import not_a_module\n", "broken")
    with pytest.raises(PluginError, match=r"'broken'.*failed to import"):
        get_plugin_manager(Settings(home=tmp_path, plugins="broken"))


def test_managers_are_independent():
    first, second = get_plugin_manager(), get_plugin_manager()
    assert first is not second
    assert isinstance(first, pluggy.PluginManager)


async def test_plugins_endpoint_lists_plugins_and_hooks(client, app):
    from tests.support import api

    class Temporary:
        from app.hooks import hookimpl

        @hookimpl
        def on_worker_lost(self, event):
            pass

    account = await api.signup(client)
    with registered(app, Temporary(), name="temporary"):
        response = await client.get("/api/v1/plugins", headers=account.headers)
    assert response.status_code == 200, response.text
    items = {item["name"]: item for item in response.json()["items"]}
    assert items["plugins.alerts.slack"]["source"] == "builtin"
    assert items["plugins.alerts.slack"]["hooks"] == ["register_alert_channels"]
    assert items["temporary"] == {"name": "temporary", "source": "registered",
                                  "hooks": ["on_worker_lost"], "distribution": None,
                                  "version": None}
    assert (await client.get("/api/v1/plugins")).status_code == 401
