"""Pushing events: ``kiln.events.push("order:created", {"id": 7})`` starts the subscribed
workflows (``kiln.workflow(..., on_events=[...])``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from kiln import protocol

BULK_LIMIT = 1000  # the server's cap per bulk request

if TYPE_CHECKING:
    from kiln.client import Kiln


@dataclasses.dataclass(frozen=True)
class Event:
    """One event for ``bulk_push``."""

    key: str
    payload: Any = None
    metadata: Mapping[str, Any] | None = None

    def body(self) -> dict[str, Any]:
        """The JSON the events routes take."""
        if not isinstance(self.key, str) or not self.key:
            raise ValueError(f"an event key must be a non-empty string, got {self.key!r}")
        body: dict[str, Any] = {"key": self.key,
                                "payload": {} if self.payload is None else self.payload}
        if self.metadata is not None:
            body["metadata"] = dict(self.metadata)
        return body


class Events:
    """``kiln.events``: push one event or many."""

    def __init__(self, client: Kiln) -> None:
        self._client = client

    async def aio_push(self, key: str, payload: Any = None, *,
                       metadata: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Push one event; returns ``{"id": ..., "runs": [run ids it started]}``."""
        body = Event(key, payload, metadata).body()
        return await protocol.push_event(self._client.transport, body)

    async def aio_bulk_push(self, events: Sequence[Event | Mapping[str, Any]]) -> dict[str, Any]:
        """Push many events, 1,000 per request (one transaction each); each is an ``Event`` or
        a ``{key, payload, metadata?}`` mapping. Returns ``{"events": [{id, key, runs}, …]}``."""
        bodies = [(item if isinstance(item, Event) else Event(**item)).body() for item in events]
        created: list[Any] = []
        for start in range(0, len(bodies), BULK_LIMIT):
            reply = await protocol.push_events(self._client.transport,
                                               bodies[start:start + BULK_LIMIT])
            created += reply.get("events", [])
        return {"events": created}

    def push(self, key: str, payload: Any = None, *,
             metadata: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Blocking ``aio_push``."""
        return self._client.sync(lambda: self.aio_push(key, payload, metadata=metadata))

    def bulk_push(self, events: Sequence[Event | Mapping[str, Any]]) -> dict[str, Any]:
        """Blocking ``aio_bulk_push``."""
        return self._client.sync(lambda: self.aio_bulk_push(events))
