"""``/api/v1/crons`` and ``/api/v1/schedules``: time triggers."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, delete, get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from app.core import pagination
from app.core.deps import DB, Caller
from app.domain.auth.guards import requires
from app.domain.auth.principal import Permission
from app.domain.schedules import crons, schemas, services

READ, TRIGGER = [requires(Permission.READ)], [requires(Permission.TRIGGER)]
WorkflowFilter = Annotated[str | None, QueryParameter(description="Workflow name")]


class CronController(Controller):
    path = "/api/v1/crons"
    tags = ["crons"]

    @post("/", operation_id="createCron", guards=TRIGGER, status_code=HTTP_201_CREATED,
          summary="Run a workflow on a cron schedule (5 fields, IANA time zone)")
    async def create(
        self, db: DB, principal: Caller, data: JSONBody[schemas.CronCreate]
    ) -> schemas.Cron:
        return await crons.create(db, principal, data)

    @get("/", operation_id="listCrons", guards=READ,
         summary="Crons (API-made and from on_crons) with their next fire times")
    async def list_crons(
        self, db: DB, principal: Caller, workflow: WorkflowFilter = None,
        limit: pagination.Limit = None, cursor: pagination.Cursor = None,
    ) -> pagination.Page[schemas.Cron]:
        return await crons.list_crons(db, principal, workflow, limit, cursor)

    @get("/{cron_id:uuid}", operation_id="getCron", guards=READ, summary="One cron")
    async def get_cron(
        self, db: DB, principal: Caller, cron_id: FromPath[uuid.UUID]
    ) -> schemas.Cron:
        return await crons.get(db, principal, cron_id)

    @patch("/{cron_id:uuid}", operation_id="updateCron", guards=TRIGGER,
           summary="Change a cron (on_crons ones: only enabled)")
    async def update_cron(
        self, db: DB, principal: Caller, cron_id: FromPath[uuid.UUID],
        data: JSONBody[schemas.CronUpdate],
    ) -> schemas.Cron:
        return await crons.update(db, principal, cron_id, data)

    @delete("/{cron_id:uuid}", operation_id="deleteCron", guards=TRIGGER,
            status_code=HTTP_204_NO_CONTENT, summary="Delete a cron made through the API")
    async def delete_cron(
        self, db: DB, principal: Caller, cron_id: FromPath[uuid.UUID]
    ) -> None:
        await crons.delete(db, principal, cron_id)


class ScheduleController(Controller):
    path = "/api/v1/schedules"
    tags = ["schedules"]

    @post("/", operation_id="createSchedule", guards=TRIGGER, status_code=HTTP_201_CREATED,
          summary="Run a workflow once at a given time")
    async def create(
        self, db: DB, principal: Caller, data: JSONBody[schemas.ScheduleCreate]
    ) -> schemas.Schedule:
        return await services.create(db, principal, data)

    @get("/", operation_id="listSchedules", guards=READ, summary="One-off schedules")
    async def list_schedules(
        self, db: DB, principal: Caller, workflow: WorkflowFilter = None,
        status: Annotated[str | None, QueryParameter(
            description="pending, fired or failed")] = None,
        limit: pagination.Limit = None, cursor: pagination.Cursor = None,
    ) -> pagination.Page[schemas.Schedule]:
        return await services.list_schedules(db, principal, workflow, status, limit, cursor)

    @get("/{schedule_id:uuid}", operation_id="getSchedule", guards=READ,
         summary="One schedule (with its run once fired)")
    async def get_schedule(
        self, db: DB, principal: Caller, schedule_id: FromPath[uuid.UUID]
    ) -> schemas.Schedule:
        return await services.get(db, principal, schedule_id)

    @patch("/{schedule_id:uuid}", operation_id="updateSchedule", guards=TRIGGER,
           summary="Reschedule (or change the input of) a pending schedule")
    async def update_schedule(
        self, db: DB, principal: Caller, schedule_id: FromPath[uuid.UUID],
        data: JSONBody[schemas.ScheduleUpdate],
    ) -> schemas.Schedule:
        return await services.update(db, principal, schedule_id, data)

    @delete("/{schedule_id:uuid}", operation_id="deleteSchedule", guards=TRIGGER,
            status_code=HTTP_204_NO_CONTENT,
            summary="Delete a schedule (a pending one then never fires)")
    async def delete_schedule(
        self, db: DB, principal: Caller, schedule_id: FromPath[uuid.UUID]
    ) -> None:
        await services.delete(db, principal, schedule_id)
