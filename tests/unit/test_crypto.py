from __future__ import annotations

import pytest

from app.core import crypto
from app.settings import Settings


def test_round_trip_and_format():
    box = crypto.SecretBox("k1")
    sealed = box.encrypt("whsec_abc", b"ctx")
    version, key_id, _ = sealed.split(".", 2)
    assert (version, key_id) == ("v1", box.key_id)
    assert "whsec_abc" not in sealed
    assert box.decrypt(sealed, b"ctx") == "whsec_abc"


def test_each_seal_uses_a_fresh_nonce():
    box = crypto.SecretBox("k1")
    assert box.encrypt("same") != box.encrypt("same")


def test_context_binds_the_value_to_its_row():
    box = crypto.SecretBox("k1")
    sealed = box.encrypt("secret", b"alert_channel:a")
    with pytest.raises(crypto.DecryptionError, match="authentication"):
        box.decrypt(sealed, b"alert_channel:b")


def test_tampering_is_detected():
    box = crypto.SecretBox("k1")
    sealed = box.encrypt("secret")
    flipped = sealed[:-2] + ("A" if sealed[-2] != "A" else "B") + sealed[-1]
    with pytest.raises(crypto.DecryptionError):
        box.decrypt(flipped)


def test_rotation_opens_old_values_and_flags_them():
    old = crypto.SecretBox("old-key")
    sealed = old.encrypt("secret")
    rotated = crypto.SecretBox("new-key", ["old-key"])
    assert rotated.decrypt(sealed) == "secret"
    assert rotated.needs_rotation(sealed)
    assert not rotated.needs_rotation(rotated.encrypt("secret"))


def test_unknown_key_and_garbage_are_refused():
    sealed = crypto.SecretBox("old-key").encrypt("secret")
    with pytest.raises(crypto.DecryptionError, match="unknown key"):
        crypto.SecretBox("new-key").decrypt(sealed)
    with pytest.raises(crypto.DecryptionError, match="not a sealed value"):
        crypto.SecretBox("k").decrypt("plain")
    with pytest.raises(crypto.DecryptionError, match="version"):
        crypto.SecretBox("k").decrypt("v9.x.y")


def test_box_for_settings_uses_current_and_previous_keys(tmp_path):
    old = crypto.box_for(Settings(secret_key="one", home=tmp_path))
    sealed = old.encrypt("s")
    new = crypto.box_for(Settings(secret_key="two", previous_secret_keys="one", home=tmp_path))
    assert new.decrypt(sealed) == "s"


def test_empty_key_is_refused():
    with pytest.raises(ValueError, match="non-empty"):
        crypto.SecretBox("")
