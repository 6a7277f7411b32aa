"""Every controller of the API, in one list ``create_app`` mounts."""

from __future__ import annotations

from litestar.types import ControllerRouterHandler

from app.domain.alerts.controllers import AlertController
from app.domain.api_keys.controllers import ApiKeyController
from app.domain.audit.controllers import AuditController
from app.domain.auth.controllers import AuthController, MeController
from app.domain.durable.controllers import DurableController
from app.domain.events.controllers import EventController
from app.domain.flow.controllers import ConcurrencyController
from app.domain.members.controllers import InvitesController, MembersController
from app.domain.metrics.controllers import MetricsController
from app.domain.plugins.controllers import PluginController
from app.domain.rate_limits.controllers import (
    RateLimitController,
    RateLimitSettingsController,
    RateLimitStrategyController,
)
from app.domain.retention.controllers import RetentionController
from app.domain.runs.controllers import RunController, TriggerController
from app.domain.schedules.controllers import CronController, ScheduleController
from app.domain.stats.controllers import StatsController
from app.domain.stream.controllers import StreamController
from app.domain.system.controllers import SystemController
from app.domain.webhooks.controllers import HookReceiver, WebhookController
from app.domain.workers.controllers import WorkerController
from app.domain.workflows.controllers import WorkflowController

HANDLERS: list[ControllerRouterHandler] = [
    SystemController,
    AuthController,
    MeController,
    ApiKeyController,
    MembersController,
    InvitesController,
    AuditController,
    WorkflowController,
    TriggerController,
    RunController,
    WorkerController,
    DurableController,
    StreamController,
    StatsController,
    MetricsController,
    AlertController,
    PluginController,
    EventController,
    WebhookController,
    HookReceiver,
    CronController,
    ScheduleController,
    RateLimitController,
    RateLimitStrategyController,
    RateLimitSettingsController,
    ConcurrencyController,
    RetentionController,
]
