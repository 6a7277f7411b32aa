"""Health and version: what load balancers and `kiln` clients probe."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, get
from sqlalchemy import text

from app import __version__


class Health(msgspec.Struct):
    status: str
    version: str
    database: str
    leader: bool
    """Whether this replica runs the singleton loops (crons, outbox relay, retention)."""


class SystemController(Controller):
    path = "/api/v1"
    tags = ["system"]

    @get("/health", operation_id="getHealth", summary="Liveness and database reachability")
    async def health(self, request: Request[Any, Any, Any]) -> Health:
        db = request.app.state.db
        async with db.engine.connect() as connection:
            await connection.execute(text("select 1"))
        return Health(status="ok", version=__version__, database="ok",
                      leader=request.app.state.leader.is_leader)
