"""Time-ordered UUIDs (RFC 9562 version 7): index-friendly keys and natural cursor order."""

from __future__ import annotations

import os
import threading
import time
import uuid

_lock = threading.Lock()
_last = (0, 0)  # (unix ms, 12-bit sequence) of the previous id, to stay monotonic within one ms


def uuid7() -> uuid.UUID:
    """A version-7 UUID, strictly increasing within this process."""
    global _last
    with _lock:
        ms = time.time_ns() // 1_000_000
        last_ms, seq = _last
        if ms <= last_ms:
            ms, seq = last_ms, seq + 1
            if seq > 0xFFF:  # sequence exhausted within one millisecond: borrow the next one
                ms, seq = ms + 1, 0
        else:
            seq = int.from_bytes(os.urandom(2), "big") & 0x3FF  # leave headroom for increments
        _last = (ms, seq)
    rand_b = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
    value = (ms & ((1 << 48) - 1)) << 80 | 0x7 << 76 | seq << 64 | 0b10 << 62 | rand_b
    return uuid.UUID(int=value)
