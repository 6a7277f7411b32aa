"""Kiln SDK: declare tasks and workflows, run workers, trigger runs.

    from kiln import Kiln, Context
    kiln = Kiln()   # KILN_API_URL / KILN_API_KEY, or Kiln(api_url=..., api_key=...)

See docs/sdk.md for the guide.
"""

from kiln import durations
from kiln.client import Kiln
from kiln.conditions import (
    EventCondition,
    OrGroup,
    ParentCondition,
    SleepCondition,
    UserEventCondition,
    or_,
)
from kiln.context import Context
from kiln.durable import DurableContext, NonDeterminismError
from kiln.errors import (
    ApiError,
    AuthenticationError,
    ConfigurationError,
    InvalidInputError,
    KilnError,
    NonRetryableError,
    NotFoundError,
    PermissionDeniedError,
    RunCancelledError,
    RunFailedError,
    SerializationError,
    ServerUnavailableError,
    TaskCancelledError,
    ValidationError,
)
from kiln.events import Event
from kiln.flow import Concurrency, ConcurrencyStrategy, DesiredLabel, RateLimit, StickyStrategy
from kiln.runs import RunRef, RunRequest
from kiln.standalone import Standalone
from kiln.transport import RetryPolicy
from kiln.workflow import Task, TaskOptions, Workflow

__version__ = "0.1.0"

__all__ = [
    "ApiError",
    "AuthenticationError",
    "Concurrency",
    "ConcurrencyStrategy",
    "ConfigurationError",
    "Context",
    "DesiredLabel",
    "DurableContext",
    "Event",
    "EventCondition",
    "InvalidInputError",
    "Kiln",
    "KilnError",
    "NonDeterminismError",
    "NonRetryableError",
    "NotFoundError",
    "OrGroup",
    "ParentCondition",
    "PermissionDeniedError",
    "RateLimit",
    "RetryPolicy",
    "RunCancelledError",
    "RunFailedError",
    "RunRef",
    "RunRequest",
    "SerializationError",
    "ServerUnavailableError",
    "SleepCondition",
    "Standalone",
    "StickyStrategy",
    "Task",
    "TaskCancelledError",
    "TaskOptions",
    "UserEventCondition",
    "ValidationError",
    "Workflow",
    "__version__",
    "durations",
    "or_",
]
