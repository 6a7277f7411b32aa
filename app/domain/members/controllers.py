"""``/api/v1/members`` and ``/api/v1/members/invites``."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from app.core import pagination
from app.core.deps import DB, Caller, ClientIP
from app.domain.auth import services as auth
from app.domain.auth.controllers import session_response
from app.domain.auth.guards import requires
from app.domain.auth.principal import Permission, Principal
from app.domain.auth.schemas import SessionOut
from app.domain.members import invites, schemas, services
from app.settings import Settings


class MembersController(Controller):
    path = "/api/v1/members"
    tags = ["members"]

    @get("/", operation_id="listMembers", guards=[requires(Permission.READ)],
         summary="Members of the tenant and their roles")
    async def list_members(
        self, db: DB, principal: Caller,
        limit: pagination.Limit = None,
        cursor: pagination.Cursor = None,
    ) -> pagination.Page[schemas.Member]:
        return await services.list_members(db, principal, limit, cursor)

    @patch("/{user_id:uuid}", operation_id="updateMember", guards=[requires(Permission.MEMBERS)],
           summary="Change a member's role (the last owner cannot be demoted)")
    async def update_member(
        self, db: DB, principal: Caller, user_id: FromPath[uuid.UUID],
        data: JSONBody[schemas.MemberUpdate], client_ip: ClientIP,
    ) -> schemas.Member:
        return await services.change_role(db, principal, user_id, data.role, client_ip)

    @delete("/{user_id:uuid}", operation_id="removeMember", status_code=HTTP_204_NO_CONTENT,
            guards=[requires(Permission.MEMBERS)],
            summary="Remove a member; their sessions in this tenant end at once")
    async def remove_member(
        self, db: DB, principal: Caller, user_id: FromPath[uuid.UUID], client_ip: ClientIP,
    ) -> None:
        await services.remove(db, principal, user_id, client_ip)


def _optional_principal(request: Request[Any, Any, Any]) -> Principal | None:
    principal = request.scope.get("user")
    return principal if isinstance(principal, Principal) else None


class InvitesController(Controller):
    path = "/api/v1/members/invites"
    tags = ["members"]

    @post("/", operation_id="createInvite", status_code=HTTP_201_CREATED,
          guards=[requires(Permission.MEMBERS)],
          summary="Invite an e-mail address (the token is in this response only)")
    async def create_invite(
        self, request: Request[Any, Any, Any], db: DB, principal: Caller,
        data: JSONBody[schemas.InviteCreate], client_ip: ClientIP,
    ) -> schemas.InviteCreated:
        settings: Settings = request.app.state.settings
        ttl = dt.timedelta(hours=settings.invite_ttl_hours)
        return await invites.create(db, principal, data, ttl, client_ip)

    @get("/", operation_id="listInvites", guards=[requires(Permission.MEMBERS)],
         summary="Invites of the tenant, newest first, without tokens")
    async def list_invites(
        self, db: DB, principal: Caller,
        limit: pagination.Limit = None,
        cursor: pagination.Cursor = None,
    ) -> pagination.Page[schemas.Invite]:
        return await invites.list_invites(db, principal, limit, cursor)

    @delete("/{invite_id:uuid}", operation_id="revokeInvite", status_code=HTTP_204_NO_CONTENT,
            guards=[requires(Permission.MEMBERS)], summary="Revoke a pending invite")
    async def revoke_invite(
        self, db: DB, principal: Caller, invite_id: FromPath[uuid.UUID], client_ip: ClientIP,
    ) -> None:
        await invites.revoke(db, principal, invite_id, client_ip)

    @post("/accept", operation_id="acceptInvite", status_code=HTTP_201_CREATED,
          security=[{}, {"bearer": []}],
          summary="Accept an invite: into your account if logged in, else into a new account")
    async def accept_invite(
        self, request: Request[Any, Any, Any], db: DB, data: JSONBody[schemas.InviteAccept],
        client_ip: ClientIP,
    ) -> Response[SessionOut]:
        config: auth.AuthConfig = request.app.state.auth
        out = await invites.accept(db, config, data, _optional_principal(request), client_ip)
        return session_response(request, out, HTTP_201_CREATED)
