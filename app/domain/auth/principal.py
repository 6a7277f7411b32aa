"""Who is calling, and what they may do.

Users act through their membership role in the token's tenant; API keys through their scopes.
Both map to the same small set of permissions, which routes require through guards.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass, field

from app.db.tenancy import TenantContext


class Permission(enum.StrEnum):
    READ = "read"  # see runs, workflows, workers, events…
    TRIGGER = "trigger"  # start runs, push events
    WORKER = "worker"  # the worker protocol
    OPERATE = "operate"  # cancel, replay
    MANAGE = "manage"  # API keys, webhooks, alert channels, limits, audit log
    MEMBERS = "members"  # invite, change roles, remove members


ROLES = ("owner", "admin", "member", "viewer")
SCOPES = ("admin", "trigger", "worker", "read")

ROLE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    "owner": frozenset(Permission),
    "admin": frozenset(Permission),
    "member": frozenset({Permission.READ, Permission.TRIGGER, Permission.WORKER,
                         Permission.OPERATE}),
    "viewer": frozenset({Permission.READ}),
}

SCOPE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    "admin": frozenset(Permission) - {Permission.MEMBERS},
    # A trigger key may read back what it started (``ref.result()``).
    "trigger": frozenset({Permission.TRIGGER, Permission.READ}),
    # Workers spawn child runs and read their results.
    "worker": frozenset({Permission.WORKER, Permission.TRIGGER, Permission.READ}),
    "read": frozenset({Permission.READ}),
}


@dataclass(frozen=True, slots=True)
class Principal:
    kind: str  # "user" or "api_key"
    tenant_id: uuid.UUID
    permissions: frozenset[Permission]
    user_id: uuid.UUID | None = None
    role: str | None = None
    session_id: uuid.UUID | None = None
    api_key_id: uuid.UUID | None = None
    scopes: tuple[str, ...] = field(default=())
    via_cookie: bool = False

    @property
    def actor_id(self) -> uuid.UUID | None:
        return self.user_id if self.kind == "user" else self.api_key_id

    def tenancy(self) -> TenantContext:
        return TenantContext(tenant_id=self.tenant_id, user_id=self.user_id)

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions


def for_user(
    tenant_id: uuid.UUID, user_id: uuid.UUID, role: str, session_id: uuid.UUID, *, via_cookie: bool
) -> Principal:
    return Principal(
        kind="user", tenant_id=tenant_id, user_id=user_id, role=role, session_id=session_id,
        permissions=ROLE_PERMISSIONS[role], via_cookie=via_cookie,
    )


def for_api_key(tenant_id: uuid.UUID, key_id: uuid.UUID, scopes: list[str]) -> Principal:
    permissions: frozenset[Permission] = frozenset().union(
        *(SCOPE_PERMISSIONS[s] for s in scopes if s in SCOPE_PERMISSIONS)
    )
    return Principal(
        kind="api_key", tenant_id=tenant_id, api_key_id=key_id, scopes=tuple(scopes),
        permissions=permissions,
    )
