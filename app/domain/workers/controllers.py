"""``/api/v1/workers``: the worker protocol (docs/protocol.md) and the workers list."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import structlog
from litestar import Controller, Request, delete, get, post
from litestar.params import FromPath, JSONBody
from litestar.status_codes import (
    HTTP_200_OK,
    HTTP_201_CREATED,
    HTTP_202_ACCEPTED,
    HTTP_204_NO_CONTENT,
)

from app.core import pagination
from app.core.deps import DB, Caller, EngineDep, QuotasDep
from app.core.errors import Conflict
from app.domain.auth.guards import requires
from app.domain.auth.principal import Permission
from app.domain.durable import services as durable
from app.domain.quotas.services import payload_size
from app.domain.workers import schemas, services
from app.engine.queue.trigger import ChildRequest

WORKER = [requires(Permission.WORKER)]
log = structlog.get_logger("kiln.workers")


async def _until_disconnected(request: Request[Any, Any, Any], gone: asyncio.Event) -> None:
    """Set ``gone`` when the client closes the connection: the body has been read, so the next
    ASGI message is ``http.disconnect`` (a killed worker's parked poll must not claim)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass
    gone.set()


class WorkerController(Controller):
    path = "/api/v1/workers"
    tags = ["workers"]

    @post("/", operation_id="registerWorker", status_code=HTTP_201_CREATED, guards=WORKER,
          summary="Register a worker process and the actions it runs")
    async def register(
        self, db: DB, engine: EngineDep, principal: Caller,
        data: JSONBody[schemas.WorkerRegister],
    ) -> schemas.WorkerRegistered:
        return await services.register(db, engine, principal, data)

    @post("/{worker_id:uuid}/poll", operation_id="pollTasks", status_code=HTTP_200_OK,
          guards=WORKER, summary="Long-poll for up to max_tasks tasks")
    async def poll(
        self, engine: EngineDep, principal: Caller, worker_id: FromPath[uuid.UUID],
        data: JSONBody[schemas.PollRequest], request: Request[Any, Any, Any],
    ) -> schemas.PollResponse:
        gone = asyncio.Event()
        watcher = asyncio.create_task(_until_disconnected(request, gone))
        try:
            tasks = await engine.poll(principal.tenant_id, worker_id, data.max_tasks, data.wait,
                                      gone)
        finally:
            watcher.cancel()
        if gone.is_set():
            log.info("poll abandoned: the client went away", action="poll.abandoned",
                     worker_id=str(worker_id))
        logs = await durable.resumed_logs(engine, principal.tenant_id, tasks)
        return schemas.PollResponse(tasks=[schemas.Assignment(
            task_run_id=t.task_run_id, lease_id=t.lease_id, run_id=t.run_id,
            workflow=t.workflow, task=t.task, action=t.action, attempt=t.attempt,
            input=t.input, metadata=t.metadata, parents=t.parents,
            execution_timeout=t.execution_timeout, errors=t.errors,
            durable_log=logs.get(t.task_run_id, []), skipped_parents=t.skipped) for t in tasks])

    @post("/{worker_id:uuid}/heartbeat", operation_id="heartbeat", status_code=HTTP_200_OK,
          guards=WORKER, summary="Extend leases; the reply lists tasks to stop")
    async def heartbeat(
        self, engine: EngineDep, principal: Caller, worker_id: FromPath[uuid.UUID],
        data: JSONBody[schemas.HeartbeatRequest],
    ) -> schemas.HeartbeatResponse:
        held = [(t.task_run_id, t.lease_id) for t in data.tasks]
        cancel = await engine.heartbeat(principal.tenant_id, worker_id, held)
        return schemas.HeartbeatResponse(cancel=sorted(cancel))

    @post("/{worker_id:uuid}/results", operation_id="postResults", status_code=HTTP_200_OK,
          guards=WORKER, summary="Report task results (fenced on each lease)")
    async def results(
        self, engine: EngineDep, principal: Caller, worker_id: FromPath[uuid.UUID],
        data: JSONBody[schemas.ResultsRequest],
    ) -> schemas.ResultsResponse:
        accepted, rejected = await engine.complete(
            principal.tenant_id, worker_id, services.to_results(data)
        )
        return schemas.ResultsResponse(accepted=accepted, rejected=rejected)

    @post("/{worker_id:uuid}/logs", operation_id="postLogs", status_code=HTTP_202_ACCEPTED,
          guards=WORKER, summary="Append task log lines")
    async def logs(
        self, engine: EngineDep, principal: Caller, worker_id: FromPath[uuid.UUID],
        data: JSONBody[schemas.LogsRequest],
    ) -> None:
        del worker_id  # lines are fenced on their lease, which names the worker
        await engine.log(principal.tenant_id, services.to_log_lines(data))

    @post("/{worker_id:uuid}/refresh-timeout", operation_id="refreshTimeout",
          status_code=HTTP_204_NO_CONTENT, guards=WORKER,
          summary="Extend a running task's execution timeout (ctx.refresh_timeout)")
    async def refresh_timeout(
        self, engine: EngineDep, principal: Caller, worker_id: FromPath[uuid.UUID],
        data: JSONBody[schemas.RefreshTimeout],
    ) -> None:
        del worker_id  # fenced on the lease
        if not await engine.refresh_timeout(
            principal.tenant_id, data.task_run_id, data.lease_id, data.seconds
        ):
            raise Conflict("the task is no longer running under this lease")

    @post("/{worker_id:uuid}/spawn", operation_id="spawnChildren", status_code=HTTP_201_CREATED,
          guards=WORKER, summary="Start child runs of a running task (deduplicated by key)")
    async def spawn(
        self, engine: EngineDep, quotas: QuotasDep, principal: Caller,
        worker_id: FromPath[uuid.UUID], data: JSONBody[schemas.SpawnRequest],
    ) -> schemas.SpawnResponse:
        del worker_id  # fenced on the parent's lease
        await quotas.admit_runs(principal.tenant_id, [payload_size(c.input) for c in data.children])
        spawned = await engine.spawn(
            principal.tenant_id, data.task_run_id, data.lease_id, data.workflow,
            [ChildRequest(input=c.input, metadata=c.metadata, key=c.key, priority=c.priority)
             for c in data.children],
        )
        return schemas.SpawnResponse(
            runs=[schemas.SpawnedRun(id=t.run_id, created=t.created) for t in spawned]
        )

    @delete("/{worker_id:uuid}", operation_id="stopWorker", guards=WORKER,
            summary="Deregister a worker on graceful shutdown")
    async def stop(self, db: DB, principal: Caller, worker_id: FromPath[uuid.UUID]) -> None:
        await services.stop(db, principal, worker_id)

    @get("/", operation_id="listWorkers", guards=[requires(Permission.READ)],
         summary="Workers: status, slots, running tasks, labels, last heartbeat")
    async def list_workers(
        self, db: DB, principal: Caller, limit: pagination.Limit = None,
        cursor: pagination.Cursor = None,
    ) -> pagination.Page[schemas.Worker]:
        return await services.list_workers(db, principal, limit, cursor)
