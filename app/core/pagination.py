"""Cursor pagination shared by every list endpoint: ``?limit=&cursor=`` → ``{items, next_cursor}``.

Cursors are opaque to clients: base64url of the last item's sort key. Ids are UUIDv7, so ordering
by id is ordering by creation time.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from typing import Annotated, Any, Generic, TypeVar

import msgspec
from litestar.params import QueryParameter
from sqlalchemy import Select
from sqlalchemy.orm import InstrumentedAttribute

from app.core.errors import Invalid

DEFAULT_LIMIT = 50
MAX_LIMIT = 100

T = TypeVar("T")


class Page(msgspec.Struct, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


def check_limit(limit: int | None) -> int:
    if limit is None:
        return DEFAULT_LIMIT
    if not 1 <= limit <= MAX_LIMIT:
        raise Invalid(f"limit must be between 1 and {MAX_LIMIT}, got {limit}")
    return limit


def encode_cursor(last_id: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(last_id.bytes).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> uuid.UUID | None:
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        return uuid.UUID(bytes=raw)
    except (binascii.Error, ValueError) as exc:
        raise Invalid("cursor is not valid; pass the next_cursor of a previous page") from exc


def page(items: list[T], ids: list[uuid.UUID], limit: int) -> Page[T]:
    """Build a page from up to ``limit + 1`` fetched rows (the extra one says there is more)."""
    if len(items) > limit:
        return Page(items=items[:limit], next_cursor=encode_cursor(ids[limit - 1]))
    return Page(items=items)

def keyset(
    query: Select[Any], key: InstrumentedAttribute[uuid.UUID], limit: int | None,
    cursor: str | None, *, newest_first: bool = False,
) -> tuple[Select[Any], int]:
    """``query`` ordered by ``key``, starting after the cursor, fetching one row more than the
    page size (see ``page``); returns the query and the page size."""
    size = check_limit(limit)
    after = decode_cursor(cursor)
    query = query.order_by(key.desc() if newest_first else key).limit(size + 1)
    if after is not None:
        query = query.where(key < after if newest_first else key > after)
    return query, size


# Query parameters of every list endpoint.
Limit = Annotated[
    int | None,
    QueryParameter(ge=1, le=MAX_LIMIT, description=f"Page size (default {DEFAULT_LIMIT})."),
]
Cursor = Annotated[
    str | None, QueryParameter(description="The next_cursor of the previous page.")
]
