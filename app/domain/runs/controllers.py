"""``/api/v1/runs`` and triggering under ``/api/v1/workflows/{name}/runs``."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from litestar import Controller, Response, get, post
from litestar.params import FromPath, HeaderParameter, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from app.core import pagination
from app.core.deps import DB, Caller, EngineDep, QuotasDep
from app.domain.auth.guards import requires
from app.domain.auth.principal import Permission
from app.domain.quotas.services import payload_size
from app.domain.runs import queries, schemas, services


class TriggerController(Controller):
    path = "/api/v1/workflows/{name:str}/runs"
    tags = ["runs"]
    guards = [requires(Permission.TRIGGER)]

    @post("/", operation_id="triggerRun", summary="Start a run of a workflow")
    async def trigger(
        self, db: DB, engine: EngineDep, quotas: QuotasDep, principal: Caller,
        name: FromPath[str], data: JSONBody[schemas.RunCreate],
        idempotency_key: Annotated[str | None, HeaderParameter(
            name="Idempotency-Key", description="Same key and body → the same run")] = None,
    ) -> Response[schemas.Run]:
        await quotas.admit_runs(principal.tenant_id, [payload_size(data.input)])
        triggered = await services.trigger_one(engine, principal, name, data, idempotency_key)
        run = await services.get_run(db, engine, principal, triggered.run_id)
        return Response(run, status_code=HTTP_201_CREATED if triggered.created else HTTP_200_OK)

    @post("/bulk", operation_id="triggerRuns", status_code=HTTP_201_CREATED,
          summary="Start many runs of a workflow in one transaction")
    async def trigger_bulk(
        self, engine: EngineDep, quotas: QuotasDep, principal: Caller, name: FromPath[str],
        data: JSONBody[schemas.BulkRunCreate],
    ) -> schemas.BulkRunsCreated:
        await quotas.admit_runs(principal.tenant_id, [payload_size(r.input) for r in data.runs])
        return schemas.BulkRunsCreated(
            ids=await services.trigger_bulk(engine, principal, name, data)
        )


WorkflowFilter = Annotated[str | None, QueryParameter(description="Workflow name")]
Since = Annotated[dt.datetime | None, QueryParameter(description="Created at or after (ISO-8601)")]
Until = Annotated[dt.datetime | None, QueryParameter(description="Created before (ISO-8601)")]
MetadataFilter = Annotated[list[str] | None, QueryParameter(
    description="key:value, repeatable; all must match")]


def _filters(
    workflow: str | None, since: dt.datetime | None, until: dt.datetime | None,
    metadata: list[str] | None, status: list[str] | None = None,
) -> queries.RunFilters:
    return queries.RunFilters(
        statuses=queries.parse_statuses(status), workflow=workflow, since=since, until=until,
        metadata=queries.parse_metadata_filters(metadata or []))


class RunController(Controller):
    path = "/api/v1/runs"
    tags = ["runs"]
    guards = [requires(Permission.READ)]

    @get("/", operation_id="listRuns", summary="Runs, newest first, with filters")
    async def list_runs(
        self, db: DB, principal: Caller,
        status: Annotated[list[str] | None, QueryParameter(
            description="Run status; repeat it or give a comma list for any of several")] = None,
        workflow: WorkflowFilter = None, since: Since = None, until: Until = None,
        metadata: MetadataFilter = None,
        limit: pagination.Limit = None,
        cursor: pagination.Cursor = None,
    ) -> pagination.Page[schemas.RunSummary]:
        filters = _filters(workflow, since, until, metadata, status)
        return await queries.list_runs(db, principal, filters, limit, cursor)

    @get("/counts", operation_id="countRuns",
         summary="How many runs there are per status, under the list's other filters")
    async def count_runs(
        self, db: DB, principal: Caller, workflow: WorkflowFilter = None, since: Since = None,
        until: Until = None, metadata: MetadataFilter = None,
    ) -> schemas.RunCounts:
        return await queries.count_runs(db, principal, _filters(workflow, since, until, metadata))

    @post("/{run_id:uuid}/cancel", operation_id="cancelRun", status_code=HTTP_200_OK,
          guards=[requires(Permission.OPERATE)],
          summary="Cancel a run and its child runs (running tasks are told to stop)")
    async def cancel(
        self, db: DB, engine: EngineDep, principal: Caller, run_id: FromPath[uuid.UUID]
    ) -> schemas.Run:
        return await services.cancel_one(db, engine, principal, run_id)

    @post("/cancel", operation_id="cancelRuns", status_code=HTTP_200_OK,
          guards=[requires(Permission.OPERATE)], summary="Cancel runs by ids or by filter")
    async def cancel_many(
        self, db: DB, engine: EngineDep, principal: Caller,
        data: JSONBody[schemas.BulkSelection],
    ) -> schemas.Affected:
        return await services.cancel_many(db, engine, principal, data)

    @post("/{run_id:uuid}/replay", operation_id="replayRun", status_code=HTTP_200_OK,
          guards=[requires(Permission.OPERATE)],
          summary="Re-run a finished run, whole or from one task on")
    async def replay(
        self, db: DB, engine: EngineDep, principal: Caller, run_id: FromPath[uuid.UUID],
        data: JSONBody[schemas.Replay | None] = None,
    ) -> schemas.Run:
        await engine.replay(principal.tenant_id, run_id, data.from_task if data else None)
        return await services.get_run(db, engine, principal, run_id)

    @post("/replay", operation_id="replayRuns", status_code=HTTP_200_OK,
          guards=[requires(Permission.OPERATE)], summary="Replay finished runs by ids or filter")
    async def replay_many(
        self, db: DB, engine: EngineDep, principal: Caller, data: JSONBody[schemas.BulkReplay],
    ) -> schemas.Affected:
        return await services.replay_many(db, engine, principal, data)

    @get("/{run_id:uuid}", operation_id="getRun", summary="A run with its tasks and attempts")
    async def get_run(
        self, db: DB, engine: EngineDep, principal: Caller, run_id: FromPath[uuid.UUID]
    ) -> schemas.Run:
        return await services.get_run(db, engine, principal, run_id)

    @get("/{run_id:uuid}/tasks/{task:str}/logs", operation_id="listTaskLogs",
         summary="Log lines of one task of a run, oldest first")
    async def logs(
        self, db: DB, principal: Caller, run_id: FromPath[uuid.UUID], task: FromPath[str],
        limit: pagination.Limit = None, cursor: pagination.Cursor = None,
    ) -> pagination.Page[schemas.LogLine]:
        return await services.task_logs(db, principal, run_id, task, limit, cursor)
