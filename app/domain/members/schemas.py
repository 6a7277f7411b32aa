"""Request and response bodies of members and invites."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

import msgspec

from app.domain.auth.schemas import Email, Password

Role = Literal["owner", "admin", "member", "viewer"]
InviteRole = Literal["admin", "member", "viewer"]
InviteStatus = Literal["pending", "accepted", "expired"]


class Member(msgspec.Struct):
    user_id: uuid.UUID
    email: str
    name: str | None
    role: str
    joined_at: dt.datetime


class MemberUpdate(msgspec.Struct, forbid_unknown_fields=True):
    role: Role


class InviteCreate(msgspec.Struct, forbid_unknown_fields=True):
    email: Email
    role: InviteRole = "member"
    """Owners are made by promoting a member, never by invite."""


class Invite(msgspec.Struct):
    id: uuid.UUID
    email: str
    role: str
    status: InviteStatus
    invited_by: uuid.UUID | None
    created_at: dt.datetime
    expires_at: dt.datetime
    accepted_at: dt.datetime | None
    accepted_by: uuid.UUID | None


class InviteCreated(Invite):
    token: str
    """The secret the invitee accepts with. Shown in this response only; send it to them."""


class InviteAccept(msgspec.Struct, forbid_unknown_fields=True):
    """Accept an invite. Logged in: the invite joins your account to its tenant (it must be
    addressed to your e-mail). Not logged in: ``password`` creates the account for the invite's
    e-mail."""

    token: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    password: Password | None = None
    name: Annotated[str, msgspec.Meta(max_length=100)] | None = None
