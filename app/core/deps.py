"""App-wide dependencies: the database, the caller, the client address."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide

from app.db.database import Database
from app.domain.auth.guards import current_principal
from app.domain.auth.principal import Principal
from app.domain.quotas.services import Quotas
from app.engine.runtime import Engine


def provide_db(state: State) -> Database:
    db: Database = state.db
    return db


def provide_engine(state: State) -> Engine:
    engine: Engine = state.engine
    return engine


def provide_quotas(state: State) -> Quotas:
    quotas: Quotas = state.quotas
    return quotas


def provide_principal(request: Request[Any, Any, Any]) -> Principal:
    return current_principal(request)


def provide_client_ip(request: Request[Any, Any, Any]) -> str | None:
    return request.client.host if request.client else None


DEPENDENCIES = {
    "db": Provide(provide_db, sync_to_thread=False),
    "engine": Provide(provide_engine, sync_to_thread=False),
    "quotas": Provide(provide_quotas, sync_to_thread=False),
    "principal": Provide(provide_principal, sync_to_thread=False),
    "client_ip": Provide(provide_client_ip, sync_to_thread=False),
}

# Handler parameter types: name the dependency explicitly (Litestar 3 drops inferred ones).
DB = NamedDependency[Database]
EngineDep = NamedDependency[Engine]
QuotasDep = NamedDependency[Quotas]
Caller = NamedDependency[Principal]
ClientIP = NamedDependency[str | None]
