"""``/api/v1/alerts``: channel types, channels, test sends, the deliveries log."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Literal

from litestar import Controller, delete, get, patch, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from app.core import pagination
from app.core.deps import DB, Caller, ClientIP, QuotasDep
from app.domain.alerts import runtime, schemas, services
from app.domain.auth.guards import requires
from app.domain.auth.principal import Permission


async def provide_alerting(state: State) -> AsyncIterator[runtime.Alerting]:
    alerting = runtime.Alerting(state.settings, state.plugins)
    try:
        yield alerting
    finally:
        await alerting.aclose()


Alerting = NamedDependency[runtime.Alerting]
READ, MANAGE = [requires(Permission.READ)], [requires(Permission.MANAGE)]
DeliveryStatus = Literal["pending", "succeeded", "failed", "cancelled"]


class AlertController(Controller):
    path = "/api/v1/alerts"
    tags = ["alerts"]
    dependencies = {"alerting": Provide(provide_alerting)}

    @get("/channel-types", operation_id="listAlertChannelTypes",
         guards=READ,
         summary="Alert channel types from the loaded plugins, with their config JSON Schema")
    async def channel_types(self, alerting: Alerting) -> schemas.ChannelTypeList:
        return await services.channel_types(alerting)

    @post("/channels", operation_id="createAlertChannel", guards=MANAGE,
          status_code=HTTP_201_CREATED,
          summary="Create an alert channel (generated secrets are in this response only)")
    async def create(
        self, db: DB, principal: Caller, alerting: Alerting,
        data: JSONBody[schemas.ChannelCreate], client_ip: ClientIP, quotas: QuotasDep,
    ) -> schemas.ChannelCreated:
        return await services.create(db, principal, alerting, data, client_ip, quotas)

    @get("/channels", operation_id="listAlertChannels", guards=MANAGE,
         summary="Alert channels, no secrets")
    async def list_channels(
        self, db: DB, principal: Caller,
        limit: pagination.Limit = None, cursor: pagination.Cursor = None,
    ) -> pagination.Page[schemas.Channel]:
        return await services.list_channels(db, principal, limit, cursor)

    @get("/channels/{channel_id:uuid}", operation_id="getAlertChannel", guards=MANAGE,
         summary="One alert channel, no secrets")
    async def get_channel(
        self, db: DB, principal: Caller, channel_id: FromPath[uuid.UUID]
    ) -> schemas.Channel:
        return await services.get(db, principal, channel_id)

    @patch("/channels/{channel_id:uuid}", operation_id="updateAlertChannel", guards=MANAGE,
           summary="Change an alert channel; secrets left out of config keep their value")
    async def update_channel(
        self, db: DB, principal: Caller, alerting: Alerting, channel_id: FromPath[uuid.UUID],
        data: JSONBody[schemas.ChannelUpdate], client_ip: ClientIP,
    ) -> schemas.Channel:
        return await services.update_channel(db, principal, alerting, channel_id, data, client_ip)

    @delete("/channels/{channel_id:uuid}", operation_id="deleteAlertChannel", guards=MANAGE,
            status_code=HTTP_204_NO_CONTENT, summary="Delete an alert channel and its deliveries")
    async def delete_channel(
        self, db: DB, principal: Caller, channel_id: FromPath[uuid.UUID], client_ip: ClientIP
    ) -> None:
        await services.delete_channel(db, principal, channel_id, client_ip)

    @post("/channels/{channel_id:uuid}/test", operation_id="testAlertChannel", guards=MANAGE,
          status_code=HTTP_200_OK, summary="Send a sample alert now and report the attempt")
    async def test_channel(
        self, db: DB, principal: Caller, alerting: Alerting, channel_id: FromPath[uuid.UUID]
    ) -> schemas.Delivery:
        return await services.send_test(db, principal, alerting, channel_id)

    @get("/deliveries", operation_id="listAlertDeliveries", guards=READ,
         summary="Alert deliveries, newest first, each with its attempts")
    async def deliveries(
        self, db: DB, principal: Caller,
        channel_id: Annotated[uuid.UUID | None, QueryParameter(
            description="Only this channel's deliveries.")] = None,
        status: Annotated[DeliveryStatus | None, QueryParameter(
            description="Only deliveries in this state.")] = None,
        limit: pagination.Limit = None, cursor: pagination.Cursor = None,
    ) -> pagination.Page[schemas.Delivery]:
        return await services.list_deliveries(db, principal, channel_id, status, limit, cursor)
