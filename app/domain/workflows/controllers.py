"""``/api/v1/workflows``: register definitions (workers) and browse them."""

from __future__ import annotations

from litestar import Controller, Response, get, post
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from app.core import pagination
from app.core.deps import DB, Caller, QuotasDep
from app.domain.auth.guards import requires
from app.domain.auth.principal import Permission
from app.domain.workflows import schemas, services


class WorkflowController(Controller):
    path = "/api/v1/workflows"
    tags = ["workflows"]

    @post("/", operation_id="registerWorkflow", guards=[requires(Permission.WORKER)],
          summary="Register a workflow definition (a new version when it changed)")
    async def register(
        self, db: DB, quotas: QuotasDep, principal: Caller,
        data: JSONBody[schemas.WorkflowDefinition],
    ) -> Response[schemas.Registered]:
        out = await services.register(db, principal, data, quotas)
        return Response(out, status_code=HTTP_201_CREATED if out.created else HTTP_200_OK)

    @get("/", operation_id="listWorkflows", guards=[requires(Permission.READ)],
         summary="Registered workflows with their current version's tasks")
    async def list_workflows(
        self, db: DB, principal: Caller, limit: pagination.Limit = None,
        cursor: pagination.Cursor = None,
    ) -> pagination.Page[schemas.Workflow]:
        return await services.list_workflows(db, principal, limit, cursor)

    @get("/{name:str}", operation_id="getWorkflow", guards=[requires(Permission.READ)],
         summary="One workflow: tasks, triggers and every version")
    async def get_workflow(
        self, db: DB, principal: Caller, name: FromPath[str]
    ) -> schemas.WorkflowDetail:
        return await services.get_workflow(db, principal, name)
