"""docs/operations.md documents every setting, and the generated secret key is safe."""

from __future__ import annotations

from pathlib import Path

from app.settings import Settings

OPERATIONS = Path(__file__).resolve().parents[2] / "docs" / "operations.md"


def test_every_setting_is_documented():
    text = OPERATIONS.read_text()
    missing = [f"KILN_{name.upper()}" for name in Settings.model_fields
               if f"KILN_{name.upper()}" not in text]
    assert missing == [], "document these in docs/operations.md"


def test_generated_secret_key_is_private_stable_and_never_empty(tmp_path):
    home = tmp_path / "home"
    first = Settings(home=home, secret_key=None).resolved_secret_key()
    path = home / "secret_key"

    assert len(first) >= 32
    assert path.stat().st_mode & 0o777 == 0o600
    assert Settings(home=home, secret_key=None).resolved_secret_key() == first
    path.write_text("")  # what a crash between create and write used to leave
    regenerated = Settings(home=home, secret_key=None).resolved_secret_key()
    assert regenerated
    assert regenerated != first
    assert [p.name for p in home.iterdir()] == ["secret_key"]
    assert path.stat().st_mode & 0o777 == 0o600
