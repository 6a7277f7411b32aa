"""Login throttling against password guessing.

Failed logins are counted per e-mail (5 in 15 minutes) and per client address (50 in 15
minutes) in the database, so every replica sees the same counts. Past a limit, logins answer
429 with ``Retry-After`` until the oldest failure in the window ages out — even with the right
password, so a guesser learns nothing. A successful login clears its e-mail's count.
"""

from __future__ import annotations

import hashlib

from app.core.errors import TooManyRequests
from app.db.database import Database

WINDOW_SECONDS = 15 * 60
PER_EMAIL = 5
PER_ADDRESS = 50


def _keys(email: str, ip: str | None) -> tuple[list[str], list[int]]:
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    keys, limits = [f"email:{digest}"], [PER_EMAIL]
    if ip:
        keys.append(f"ip:{ip}")
        limits.append(PER_ADDRESS)
    return keys, limits


async def check(db: Database, email: str, ip: str | None) -> None:
    assert db.pool is not None
    keys, limits = _keys(email, ip)
    wait = await db.pool.fetchval(
        "select kiln_private.login_retry_after($1, $2, $3)", keys, limits, WINDOW_SECONDS
    )
    if wait and wait > 0:
        raise TooManyRequests("too many failed logins; try again later", retry_after=wait)


async def failed(db: Database, email: str, ip: str | None) -> None:
    assert db.pool is not None
    keys, _ = _keys(email, ip)
    await db.pool.execute("select kiln_private.record_login_failure($1, $2)", keys,
                          WINDOW_SECONDS)


async def succeeded(db: Database, email: str) -> None:
    assert db.pool is not None
    (key,), _ = _keys(email, None)
    await db.pool.execute("select kiln_private.clear_login_failures($1)", key)
