"""``/api/v1/auth/*`` and ``/api/v1/me``."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie, State
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from app.core.deps import DB, Caller, ClientIP
from app.domain.auth import schemas, services
from app.domain.auth.authenticate import CSRF_COOKIE, SESSION_COOKIE


def session_response(
    request: Request[Any, Any, Any], body: schemas.SessionOut, status: int
) -> Response[schemas.SessionOut]:
    """``body`` plus the HttpOnly session cookie and the CSRF cookie the dashboard echoes."""
    secure = request.url.scheme == "https"
    max_age = int(
        (dt.datetime.fromisoformat(body.expires_at) - dt.datetime.now(dt.UTC)).total_seconds()
    )
    return Response(body, status_code=status, cookies=[
        Cookie(key=SESSION_COOKIE, value=body.token, httponly=True, samesite="lax",
               secure=secure, path="/", max_age=max_age),
        # Readable by the SPA, which echoes it as X-CSRF-Token (double-submit).
        Cookie(key=CSRF_COOKIE, value=secrets.token_urlsafe(24), httponly=False,
               samesite="lax", secure=secure, path="/", max_age=max_age),
    ])


def _config(state: State) -> services.AuthConfig:
    config: services.AuthConfig = state.auth
    return config


class AuthController(Controller):
    path = "/api/v1/auth"
    tags = ["auth"]

    @post("/signup", operation_id="signup", status_code=HTTP_201_CREATED,
          summary="Create an account and its first tenant")
    async def signup(
        self, request: Request[Any, Any, Any], db: DB, data: JSONBody[schemas.SignupRequest],
        client_ip: ClientIP,
    ) -> Response[schemas.SessionOut]:
        out = await services.signup(db, _config(request.app.state), data, client_ip)
        return session_response(request, out, HTTP_201_CREATED)

    @post("/login", operation_id="login", status_code=HTTP_200_OK, summary="Open a session")
    async def login(
        self, request: Request[Any, Any, Any], db: DB, data: JSONBody[schemas.LoginRequest],
        client_ip: ClientIP,
    ) -> Response[schemas.SessionOut]:
        out = await services.login(db, _config(request.app.state), data, client_ip)
        return session_response(request, out, HTTP_200_OK)

    @post("/switch", operation_id="switchTenant", status_code=HTTP_200_OK,
          summary="Open a session in another tenant you belong to")
    async def switch(
        self, request: Request[Any, Any, Any], db: DB, principal: Caller,
        data: JSONBody[schemas.SwitchTenantRequest], client_ip: ClientIP,
    ) -> Response[schemas.SessionOut]:
        out = await services.switch_tenant(
            db, _config(request.app.state), principal, data.tenant_id, client_ip
        )
        return session_response(request, out, HTTP_200_OK)

    @post("/logout", operation_id="logout", status_code=HTTP_204_NO_CONTENT,
          summary="End the current session")
    async def logout(
        self, db: DB, principal: Caller, client_ip: ClientIP
    ) -> Response[None]:
        await services.logout(db, principal, client_ip)
        return Response(None, status_code=HTTP_204_NO_CONTENT, cookies=[
            Cookie(key=SESSION_COOKIE, value="", max_age=0, path="/"),
            Cookie(key=CSRF_COOKIE, value="", max_age=0, path="/"),
        ])


class MeController(Controller):
    path = "/api/v1/me"
    tags = ["auth"]

    @get("/", operation_id="getMe", summary="The caller: user or API key, tenant, permissions")
    async def me(self, db: DB, principal: Caller) -> schemas.Me:
        return await services.me(db, principal)
