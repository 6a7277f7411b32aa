"""``/api/v1/workers/{id}/durable``: durable tasks record steps and register waits."""

from __future__ import annotations

import uuid

from litestar import Controller, post
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK

from app.core.deps import Caller, EngineDep
from app.domain.auth.guards import requires
from app.domain.auth.principal import Permission
from app.domain.durable import schemas, services

WORKER = [requires(Permission.WORKER)]


class DurableController(Controller):
    path = "/api/v1/workers/{worker_id:uuid}/durable"
    tags = ["workers"]

    @post("/steps", operation_id="recordDurableStep", status_code=HTTP_200_OK, guards=WORKER,
          summary="Record a durable task's completed step (idempotent per seq)")
    async def record_step(
        self, engine: EngineDep, principal: Caller, worker_id: FromPath[uuid.UUID],
        data: JSONBody[schemas.StepRecord],
    ) -> schemas.LogEntry:
        del worker_id  # fenced on the lease
        return await services.record_step(engine, principal.tenant_id, data)

    @post("/wait", operation_id="registerDurableWait", status_code=HTTP_200_OK, guards=WORKER,
          summary="Wait for sleeps and events: satisfied at once, or the task is suspended")
    async def wait(
        self, engine: EngineDep, principal: Caller, worker_id: FromPath[uuid.UUID],
        data: JSONBody[schemas.WaitRegister],
    ) -> schemas.WaitReply:
        del worker_id  # fenced on the lease
        return await services.wait(engine, principal.tenant_id, data)
