"""The API key format: ``kiln_`` + 256 random bits in base62 + a CRC32 checksum."""

from __future__ import annotations

import hashlib
import math

from hypothesis import given
from hypothesis import strategies as st

from app.domain.api_keys import secrets

BODY = 43
CHECK = 6


def test_generated_keys_have_the_documented_shape():
    key = secrets.generate()

    assert key.startswith("kiln_")
    assert len(key) == len("kiln_") + BODY + CHECK
    assert all(c.isascii() and c.isalnum() for c in key.removeprefix("kiln_"))
    assert secrets.well_formed(key)


def test_the_random_part_carries_at_least_128_bits():
    assert BODY * math.log2(62) >= 256 > 128
    keys = {secrets.generate() for _ in range(2000)}
    assert len(keys) == 2000
    # Every base62 digit shows up in the random part: no narrowed alphabet.
    assert set("".join(k[5:5 + BODY] for k in keys)) == set(secrets._ALPHABET)


@given(st.data())
def test_any_single_character_change_is_caught_by_the_checksum(data):
    key = secrets.generate()
    position = data.draw(st.integers(min_value=len("kiln_"), max_value=len(key) - 1))
    replacement = data.draw(st.sampled_from(secrets._ALPHABET).filter(lambda c: c != key[position]))

    changed = key[:position] + replacement + key[position + 1:]

    assert not secrets.well_formed(changed)


def test_swapped_neighbours_are_caught():
    key = secrets.generate()
    body = key[5:]
    for i in range(len(body) - 1):
        if body[i] != body[i + 1]:
            swapped = body[:i] + body[i + 1] + body[i] + body[i + 2:]
            assert not secrets.well_formed("kiln_" + swapped)


def test_wrong_prefix_length_or_alphabet_is_rejected():
    key = secrets.generate()
    for bad in (
        "kiLn_" + key[5:], "kiln-" + key[5:], key[:-1], key + "A", "", "kiln_",
        key[:10] + "-" + key[11:], key[:10] + "é" + key[11:], " " + key[1:],
    ):
        assert not secrets.well_formed(bad), bad


def test_only_a_hash_and_a_short_prefix_are_derived_for_storage():
    key = secrets.generate()

    assert secrets.digest(key) == hashlib.sha256(key.encode()).digest()
    prefix = secrets.display_prefix(key)
    assert prefix == key[:13]
    assert len(prefix) - len("kiln_") == 8  # 8 of 43 random characters: the rest stays secret
