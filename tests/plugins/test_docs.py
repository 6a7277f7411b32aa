"""docs/plugins.md documents every hook: one ``### `name` `` section per hookspec."""

from __future__ import annotations

import re
from pathlib import Path

from app.hooks import hookspecs

DOC = Path(__file__).resolve().parents[2] / "docs" / "plugins.md"


def specified_hooks() -> set[str]:
    return {name for name in dir(hookspecs) if hasattr(getattr(hookspecs, name), "kiln_spec")}


def documented_hooks() -> set[str]:
    return set(re.findall(r"^### `(\w+)`", DOC.read_text(), flags=re.MULTILINE))


def test_every_hook_is_documented():
    missing = specified_hooks() - documented_hooks()
    assert not missing, f"add a '### `name`' section to docs/plugins.md for: {missing}"


def test_no_documented_hook_is_stale():
    stale = documented_hooks() - specified_hooks()
    assert not stale, f"docs/plugins.md documents hooks that do not exist: {stale}"


def test_the_docs_show_the_complete_example_plugin():
    text = DOC.read_text()
    assert "[project.entry-points.kiln]" in text
    assert "examples/plugin" in text
