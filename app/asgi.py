"""``create_app(settings)``: the Litestar application. Nothing happens at import time."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.config.cors import CORSConfig
from litestar.datastructures import State
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme

from app import __version__, loops, spa
from app.core import deps, error_docs, request_ids, tracing
from app.core.errors import EXCEPTION_HANDLERS
from app.core.leader import LeaderElection
from app.db import urls
from app.db.database import Database
from app.domain import routes
from app.domain.auth import authenticate
from app.domain.auth.middleware import authentication_middleware
from app.domain.auth.services import AuthConfig
from app.domain.auth.tokens import TokenSigner
from app.domain.metrics.collector import DatabaseCollector, Metrics
from app.domain.quotas.services import Limits, Quotas
from app.engine.config import EngineConfig
from app.engine.runtime import Engine
from app.hooks import outbox_events
from app.hooks.manager import get_plugin_manager
from app.settings import Settings


def create_app(settings: Settings) -> Litestar:
    """Build the app for ``settings``; ``settings.database_url`` must name the owner URL (the CLI
    fills it in with the embedded server's when unset)."""
    if not settings.database_url:
        raise ValueError("create_app needs settings.database_url (the CLI sets the embedded one)")
    secret = settings.resolved_secret_key()
    password = urls.authenticator_password(secret, settings.authenticator_password)
    login_url = urls.authenticator_url(urls.owner_url(settings.database_url), password)
    # LISTEN and the leader's advisory lock need a session: never through a transaction pooler.
    session_dsn = urls.asyncpg_dsn(urls.authenticator_url(
        urls.owner_url(settings.direct_database_url or settings.database_url), password))
    db = Database(login_url, pool_size=settings.pool_size)
    plugins = get_plugin_manager(settings)
    engine = Engine(db, EngineConfig(
        lease_seconds=settings.lease_seconds, heartbeat_interval=settings.lease_seconds / 3,
        max_poll_wait=settings.max_poll_wait, max_rescues=settings.max_rescues,
        worker_lost_after=max(settings.lease_seconds, settings.max_poll_wait) * 2,
    ), events=outbox_events.wanted(plugins), listen_dsn=session_dsn)
    leader = LeaderElection(session_dsn, [])
    quotas = Quotas(db, Limits(
        runs_per_minute=settings.quota_runs_per_minute, max_queued=settings.quota_max_queued,
        max_workflows=settings.quota_max_workflows,
        max_webhook_endpoints=settings.quota_max_webhook_endpoints,
        max_alert_channels=settings.quota_max_alert_channels,
        max_payload_bytes=settings.quota_max_payload_bytes,
    ))
    metrics = Metrics()
    metrics.registry.register(DatabaseCollector(db, metrics))
    engine.metrics = metrics
    engine.tracing = tracing.load(settings.otel_enabled)
    engine.use_plugins(plugins, settings.plugin_hook_timeout_seconds)  # rate-limit strategies
    signer = TokenSigner(secret, settings.previous_secret_keys)
    keys = authenticate.KeyCache(settings.api_key_cache_seconds,
                                 listening=engine.dispatcher.connected.is_set)
    engine.dispatcher.key_listeners.append(keys.clear)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        await db.connect()
        await engine.start()
        running = loops.build(app.state) if settings.run_loops else loops.LoopSet([], [])
        for loop in running.everywhere:
            loop.start()
        leader.loops = running.singleton
        if settings.run_loops:
            leader.start()
        try:
            yield
        finally:
            await leader.stop()
            for loop in running.everywhere:
                await loop.stop()
            await engine.stop()
            await db.close()
            if engine.tracing is not None:
                engine.tracing.close()

    state = State({
        "settings": settings,
        "db": db,
        "engine": engine,
        "leader": leader,
        "quotas": quotas,
        "metrics": metrics,
        "plugins": plugins,
        "signer": signer,
        "api_key_cache": keys,
        "auth": AuthConfig(
            signer=signer, session_ttl=dt.timedelta(hours=settings.session_ttl_hours)
        ),
    })
    app = Litestar(
        route_handlers=[*routes.HANDLERS, *spa.handlers(settings)],
        dependencies=deps.DEPENDENCIES,
        exception_handlers=EXCEPTION_HANDLERS,
        # POST /hooks/{id} authenticates with the webhook's verifier, not Kiln credentials.
        middleware=[request_ids.request_id_middleware,
                    *([engine.tracing.middleware] if engine.tracing is not None else []),
                    authentication_middleware, request_ids.tenant_context_middleware],
        lifespan=[lifespan],
        before_send=[request_ids.send_request_id],
        state=state,
        request_max_body_size=settings.max_body_bytes,
        cors_config=CORSConfig(allow_origins=settings.cors_origins, allow_credentials=True)
        if settings.cors_origins else None,
        openapi_config=OpenAPIConfig(
            title="Kiln API",
            version=__version__,
            path="/schema",
            render_plugins=[ScalarRenderPlugin()],
            components=Components(security_schemes={
                "bearer": SecurityScheme(type="http", scheme="bearer",
                                         description="API key (kiln_…) or session token"),
            }),
            security=[{"bearer": []}],
        ),
        debug=False,
    )
    error_docs.declare(app)
    return app
