"""``/api/v1/webhooks`` (manage endpoints) and the public receiver ``POST /hooks/{id}``."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, delete, get, patch, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody
from litestar.status_codes import (
    HTTP_200_OK,
    HTTP_201_CREATED,
    HTTP_202_ACCEPTED,
    HTTP_204_NO_CONTENT,
)

from app.core import crypto, pagination
from app.core.deps import DB, Caller, ClientIP, EngineDep, QuotasDep
from app.domain.auth.guards import requires
from app.domain.auth.principal import Permission
from app.domain.webhooks import receiver, schemas, services
from app.hooks.manager import KilnPluginManager

MANAGE = [requires(Permission.MANAGE)]
RECEIVER_MAX_BODY_BYTES = 1024 * 1024
"""Largest request the public receiver reads (also the largest event payload it makes)."""


def provide_plugins(state: State) -> KilnPluginManager:
    plugins: KilnPluginManager = state.plugins
    return plugins


def provide_box(state: State) -> crypto.SecretBox:
    return crypto.box_for(state.settings)


def provide_base_url(state: State, request: Request[Any, Any, Any]) -> str:
    """``KILN_PUBLIC_URL``, else the address this request reached us at."""
    configured: str | None = state.settings.public_url
    return (configured or str(request.base_url)).rstrip("/")


Plugins = NamedDependency[KilnPluginManager]
Box = NamedDependency[crypto.SecretBox]
BaseUrl = NamedDependency[str]
DEPENDENCIES = {
    "plugins": Provide(provide_plugins, sync_to_thread=False),
    "box": Provide(provide_box, sync_to_thread=False),
    "base_url": Provide(provide_base_url, sync_to_thread=False),
}


class WebhookController(Controller):
    path = "/api/v1/webhooks"
    tags = ["webhooks"]
    guards = MANAGE
    dependencies = DEPENDENCIES

    @get("/verifiers", operation_id="listWebhookVerifiers",
         summary="Verifiers from the loaded plugins, with their config JSON Schema")
    async def list_verifiers(self, plugins: Plugins) -> schemas.VerifierList:
        return await services.verifier_list(plugins)

    @post("/", operation_id="createWebhook", status_code=HTTP_201_CREATED,
          summary="Create an inbound webhook (its secret is in this response only)")
    async def create(
        self, db: DB, principal: Caller, plugins: Plugins, box: Box, base_url: BaseUrl,
        data: JSONBody[schemas.WebhookCreate], client_ip: ClientIP, quotas: QuotasDep,
    ) -> schemas.WebhookCreated:
        return await services.create(db, principal, plugins, box, base_url, data, client_ip,
                                     quotas)

    @get("/", operation_id="listWebhooks", summary="Webhooks with their counters, no secrets")
    async def list_webhooks(
        self, db: DB, principal: Caller, base_url: BaseUrl,
        limit: pagination.Limit = None, cursor: pagination.Cursor = None,
    ) -> pagination.Page[schemas.Webhook]:
        return await services.list_webhooks(db, principal, base_url, limit, cursor)

    @get("/{webhook_id:uuid}", operation_id="getWebhook", summary="One webhook, no secret")
    async def get_webhook(
        self, db: DB, principal: Caller, base_url: BaseUrl, webhook_id: FromPath[uuid.UUID]
    ) -> schemas.Webhook:
        return await services.get(db, principal, base_url, webhook_id)

    @patch("/{webhook_id:uuid}", operation_id="updateWebhook",
           summary="Change a webhook: name, event key or expression, config, enabled")
    async def update_webhook(
        self, db: DB, principal: Caller, plugins: Plugins, base_url: BaseUrl,
        webhook_id: FromPath[uuid.UUID], data: JSONBody[schemas.WebhookUpdate],
        client_ip: ClientIP,
    ) -> schemas.Webhook:
        return await services.update(db, principal, plugins, base_url, webhook_id, data,
                                     client_ip)

    @post("/{webhook_id:uuid}/rotate-secret", operation_id="rotateWebhookSecret",
          status_code=HTTP_200_OK,
          summary="Replace the secret (shown once); the old one may stay valid a while")
    async def rotate_secret(
        self, db: DB, principal: Caller, plugins: Plugins, box: Box,
        webhook_id: FromPath[uuid.UUID], data: JSONBody[schemas.SecretRotate],
        client_ip: ClientIP,
    ) -> schemas.SecretRotated:
        return await services.rotate_secret(db, principal, plugins, box, webhook_id, data,
                                            client_ip)

    @delete("/{webhook_id:uuid}", operation_id="deleteWebhook", status_code=HTTP_204_NO_CONTENT,
            summary="Delete a webhook and its deliveries log (its events stay)")
    async def delete_webhook(
        self, db: DB, principal: Caller, webhook_id: FromPath[uuid.UUID], client_ip: ClientIP
    ) -> None:
        await services.delete(db, principal, webhook_id, client_ip)

    @get("/{webhook_id:uuid}/deliveries", operation_id="listWebhookDeliveries",
         summary="Recent accepted deliveries, newest first, with the event each created")
    async def deliveries(
        self, db: DB, principal: Caller, webhook_id: FromPath[uuid.UUID],
        limit: pagination.Limit = None, cursor: pagination.Cursor = None,
    ) -> pagination.Page[schemas.Delivery]:
        return await services.deliveries(db, principal, webhook_id, limit, cursor)


class HookReceiver(Controller):
    """Public: senders authenticate with the webhook's verifier, not with Kiln credentials."""

    path = "/hooks"
    tags = ["webhooks"]
    dependencies = DEPENDENCIES

    @post("/{webhook_id:uuid}", operation_id="receiveWebhook", status_code=HTTP_202_ACCEPTED,
          request_max_body_size=RECEIVER_MAX_BODY_BYTES, security=[{}],
          summary="Receive a delivery: verified on the raw body, then stored as an event")
    async def receive(
        self, request: Request[Any, Any, Any], engine: EngineDep, plugins: Plugins, box: Box,
        webhook_id: FromPath[uuid.UUID],
    ) -> schemas.Accepted:
        body = await request.body()  # the exact bytes: verification comes before any parsing
        headers: dict[str, str] = {}
        for name, value in request.headers.multi_items():
            name = name.lower()
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
        event_id = await receiver.receive(
            engine, plugins, box, receiver.Request(webhook_id, headers, body),
            max_payload=RECEIVER_MAX_BODY_BYTES)
        return schemas.Accepted(event_id)
