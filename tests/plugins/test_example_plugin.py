"""The example third-party plugin (examples/plugin), installed with pip into a separate
directory, is discovered through its ``kiln`` entry point by a fresh server process and receives
``on_run_failed`` from the outbox relay.

Offline-safe: pip comes from the interpreter's bundled ``ensurepip`` (a throw-away venv), and
the wheel is assembled here from the example's ``pyproject.toml`` (the build backend it names,
setuptools, would otherwise have to be downloaded); pip then installs that wheel with
``--no-index --no-deps --target``.
"""

from __future__ import annotations

import asyncio
import base64
import csv
import hashlib
import io
import json
import os
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from tests.plugins.helpers import emit
from tests.support import api
from tests.support.databases import TEST_SECRET

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "plugin"


def build_wheel(project: Path, out: Path) -> Path:
    """A standard wheel (PEP 427) of ``project``: its packages, metadata and entry points."""
    meta = tomllib.loads((project / "pyproject.toml").read_text())
    name, version = meta["project"]["name"], meta["project"]["version"]
    dist = name.replace("-", "_")
    info = f"{dist}-{version}.dist-info"
    files: dict[str, bytes] = {}
    for package in meta["tool"]["setuptools"]["packages"]:
        for path in sorted((project / package).rglob("*.py")):
            files[path.relative_to(project).as_posix()] = path.read_bytes()
    entry_points = "".join(
        f"[{group}]\n" + "".join(f"{k} = {v}\n" for k, v in items.items())
        for group, items in meta["project"]["entry-points"].items()
    )
    files[f"{info}/METADATA"] = (
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
        f"Summary: {meta['project']['description']}\n"
    ).encode()
    files[f"{info}/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: kiln-tests\nRoot-Is-Purelib: true\n" \
        b"Tag: py3-none-any\n"
    files[f"{info}/entry_points.txt"] = entry_points.encode()
    record = io.StringIO()
    writer = csv.writer(record, lineterminator="\n")
    for path, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        writer.writerow([path, f"sha256={digest}", len(data)])
    writer.writerow([f"{info}/RECORD", "", ""])
    files[f"{info}/RECORD"] = record.getvalue().encode()
    wheel = out / f"{dist}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, data in files.items():
            archive.writestr(path, data)
    return wheel


SERVER_PROCESS = """
import asyncio, json, sys
from app.asgi import create_app
from app.settings import Settings
from tests.plugins.helpers import alert_loops_of

async def main():
    settings = Settings(database_url=sys.argv[1], secret_key=sys.argv[2], home=sys.argv[3],
                        run_loops=False, plugins="example")
    app = create_app(settings)
    pm = app.state.plugins
    info = pm.origins["example"]
    hooks = dict((i.name, h) for i, h in pm.describe())["example"]
    async with alert_loops_of(app) as (relay, _):
        relayed = await relay.run_once()
    print(json.dumps({"source": info.source, "distribution": info.distribution,
                      "version": info.version, "hooks": hooks, "relayed": relayed}))

asyncio.run(main())
"""


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A directory the example plugin was pip-installed into (``pip install --target``)."""
    venv, site = tmp_path / "venv", tmp_path / "site"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=60)
    wheel = build_wheel(EXAMPLE, tmp_path)
    subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--no-index",
         "--no-deps", "--disable-pip-version-check", "--target", str(site), str(wheel)],
        check=True, timeout=60,
    )
    assert (site / "kiln_example_plugin" / "__init__.py").exists()
    return site


@pytest.mark.slow
async def test_example_plugin_installed_with_pip_receives_on_run_failed(
    client, login_db, database_url, tmp_path, site
):
    account = await api.signup(client)
    payload = await emit(login_db, account.tenant_id, "run.failed", error="exploded")
    log = tmp_path / "failures.jsonl"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)]),
           "KILN_EXAMPLE_PLUGIN_LOG": str(log)}
    env.pop("KILN_PLUGINS", None)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", SERVER_PROCESS, database_url, TEST_SECRET, str(tmp_path / "home"),
        env=env, cwd=tmp_path, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, stderr.decode()
    report = json.loads(stdout.decode().strip().splitlines()[-1])
    assert report == {"source": "entry-point", "distribution": "kiln-example-plugin",
                      "version": "0.1.0", "hooks": ["alert_message_for_channel", "on_run_failed"],
                      "relayed": 1}
    [line] = log.read_text().splitlines()
    record = json.loads(line)
    assert record["run_id"] == payload["run_id"]
    assert record["error"] == "exploded"
    assert record["tenant_id"] == account.tenant_id
