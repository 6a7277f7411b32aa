"""Request and response bodies of sign-up, login and the current caller."""

from __future__ import annotations

import uuid
from typing import Annotated

import msgspec

Email = Annotated[str, msgspec.Meta(min_length=3, max_length=254,
                                    pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
Password = Annotated[str, msgspec.Meta(min_length=10, max_length=256)]
TenantName = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


class SignupRequest(msgspec.Struct, forbid_unknown_fields=True):
    email: Email
    password: Password
    tenant_name: TenantName
    name: Annotated[str, msgspec.Meta(max_length=100)] | None = None


class LoginRequest(msgspec.Struct, forbid_unknown_fields=True):
    email: Annotated[str, msgspec.Meta(max_length=254)]
    password: Annotated[str, msgspec.Meta(max_length=256)]
    tenant_id: uuid.UUID | None = None


class SwitchTenantRequest(msgspec.Struct, forbid_unknown_fields=True):
    tenant_id: uuid.UUID


class UserOut(msgspec.Struct):
    id: uuid.UUID
    email: str
    name: str | None


class TenantOut(msgspec.Struct):
    id: uuid.UUID
    name: str


class MembershipOut(msgspec.Struct):
    tenant: TenantOut
    role: str


class SessionOut(msgspec.Struct):
    """A new session. ``token`` is also set as an HttpOnly cookie for the dashboard, with the
    ``kiln_csrf`` cookie to echo as ``X-CSRF-Token`` on unsafe requests."""

    token: str
    user: UserOut
    tenant: TenantOut
    role: str
    tenants: list[MembershipOut]
    expires_at: str


class Me(msgspec.Struct):
    kind: str
    tenant: TenantOut
    user: UserOut | None = None
    role: str | None = None
    tenants: list[MembershipOut] = msgspec.field(default_factory=list)
    api_key_id: uuid.UUID | None = None
    scopes: list[str] = msgspec.field(default_factory=list)
    permissions: list[str] = msgspec.field(default_factory=list)
