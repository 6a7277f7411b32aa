"""Every controller of the API, in one list ``create_app`` mounts."""

from __future__ import annotations

from litestar.types import ControllerRouterHandler

from app.domain.api_keys.controllers import ApiKeyController
from app.domain.audit.controllers import AuditController
from app.domain.auth.controllers import AuthController, MeController
from app.domain.members.controllers import InvitesController, MembersController
from app.domain.system.controllers import SystemController

HANDLERS: list[ControllerRouterHandler] = [
    SystemController,
    AuthController,
    MeController,
    ApiKeyController,
    MembersController,
    InvitesController,
    AuditController,
]
