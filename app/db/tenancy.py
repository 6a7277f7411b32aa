"""Tenant context → row-level security.

Authentication sets :data:`current` for the duration of a request; every transaction a session
begins then switches to the ``kiln_tenant`` role and sets ``app.tenant_id``/``app.user_id`` in one
round trip (see :func:`install`). A transaction begun with no context stays on the
``kiln_authenticator`` login role, which owns no privileges: forgetting to set a tenant fails closed
with "permission denied" instead of leaking rows.
"""

from __future__ import annotations

import contextlib
import contextvars
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

TENANT_ROLE = "kiln_tenant"
ENGINE_ROLE = "kiln_engine"
_ROLES = frozenset({TENANT_ROLE, ENGINE_ROLE})

# One statement, one round trip: the role and both settings are transaction-local (is_local=true),
# so they revert at COMMIT/ROLLBACK and never leak to the next user of a pooled connection.
SWITCH_SQL = (
    "select set_config('role', $1, true), set_config('app.tenant_id', $2, true),"
    " set_config('app.user_id', $3, true)"
)


@dataclass(frozen=True, slots=True)
class TenantContext:
    """Who the current transaction acts for. ``tenant_id`` None means "no tenant": a tenant-role
    transaction that sees no tenant rows (sign-up and login use it before a tenant is known)."""

    tenant_id: uuid.UUID | None
    user_id: uuid.UUID | None = None
    role: str = TENANT_ROLE

    def parameters(self) -> tuple[str, str, str]:
        return (self.role, str(self.tenant_id or ""), str(self.user_id or ""))

    def begin_script(self) -> str:
        """``BEGIN`` and the switch as one simple-protocol script: one round trip for both (the
        raw pool's transactions). Values are rendered as literals, so they are checked first:
        the role is one of ours and the ids are UUIDs."""
        if self.role not in _ROLES:
            raise ValueError(f"unknown role {self.role!r}")
        tenant, user = (str(uuid.UUID(str(v))) if v else "" for v in (self.tenant_id, self.user_id))
        return (f"BEGIN; select set_config('role', '{self.role}', true),"
                f" set_config('app.tenant_id', '{tenant}', true),"
                f" set_config('app.user_id', '{user}', true)")


ENGINE = TenantContext(tenant_id=None, role=ENGINE_ROLE)
"""Cross-tenant context of the engine loops (never used by request handlers)."""

current: contextvars.ContextVar[TenantContext | None] = contextvars.ContextVar(
    "kiln_tenant_context", default=None
)


@contextlib.contextmanager
def acting_as(context: TenantContext) -> Iterator[TenantContext]:
    """Run the enclosed block's transactions as ``context``; restores the previous one after."""
    token = current.set(context)
    try:
        yield context
    finally:
        current.reset(token)


def _switch_on_begin(session: Session, transaction: Any, connection: Any) -> None:
    context = current.get()
    if context is None:
        return  # fail closed: the login role has no table privileges
    connection.exec_driver_sql(SWITCH_SQL, context.parameters())


def install(session_class: type[Session]) -> None:
    """Attach the role switch to the session class the sessionmaker really uses.

    Listening on a class that is later swapped out silently disables RLS switching (FACTS.md), so
    :mod:`app.db.database` calls this with its own class and a test checks the setting applies.
    """
    if not event.contains(session_class, "after_begin", _switch_on_begin):
        event.listen(session_class, "after_begin", _switch_on_begin)
