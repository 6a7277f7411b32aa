"""Workflows and tasks as the user declares them, and their definition as the server sees it."""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
import json
import re
from collections.abc import Callable, Coroutine, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar, overload

from kiln import conditions, durations, flow, protocol, runs, serialization
from kiln.context import Context

if TYPE_CHECKING:
    from kiln.client import Kiln

InT = TypeVar("InT")
OutT = TypeVar("OutT")
_NAME = re.compile(r"[A-Za-z0-9_.:-]{1,100}")
_TASK_NAME = re.compile(r"[A-Za-z0-9_.-]{1,100}")  # no ':' — it separates workflow and task
MAX_TASKS = 500
_DAY = 86400.0
_WEEK = 7 * _DAY  # the server's limits on timeouts


def check_name(name: str, what: str, pattern: re.Pattern[str] = _NAME) -> str:
    """Return ``name`` if the server would accept it, else raise a ``ValueError`` saying why."""
    if not isinstance(name, str) or not pattern.fullmatch(name):
        allowed = pattern.pattern.split("]")[0].lstrip("[")
        raise ValueError(f"{what} name {name!r} is invalid: use 1-100 characters from {allowed}")
    return name


@dataclasses.dataclass(frozen=True)
class TaskOptions:
    """Retry and timeout options of one task, in the server's units (seconds)."""

    retries: int = 0
    backoff_factor: float = 2.0
    backoff_max_seconds: float = 3600.0
    execution_timeout: float = 60.0
    schedule_timeout: float | None = None
    """None: a queued task waits for a worker as long as it takes."""

    @classmethod
    def build(
        cls, where: str, *, retries: int = 0, backoff_factor: float = 2.0,
        backoff_max_seconds: durations.Duration = 3600, execution_timeout: durations.Duration = 60,
        schedule_timeout: durations.Duration | None = None,
    ) -> TaskOptions:
        """Validate user-facing options; ``where`` names the task in error messages."""
        if isinstance(retries, bool) or not isinstance(retries, int) or not 0 <= retries <= 1000:
            raise ValueError(f"{where}: retries must be an int from 0 to 1000, got {retries!r}")
        if isinstance(backoff_factor, bool) or not isinstance(backoff_factor, int | float) \
                or not 1 <= backoff_factor <= 10:
            raise ValueError(f"{where}: backoff_factor must be a number from 1 to 10, got "
                             f"{backoff_factor!r}")
        return cls(
            retries=retries, backoff_factor=float(backoff_factor),
            backoff_max_seconds=_seconds(where, "backoff_max_seconds", backoff_max_seconds, _WEEK),
            execution_timeout=_seconds(where, "execution_timeout", execution_timeout, _WEEK),
            schedule_timeout=None if schedule_timeout is None else _seconds(
                where, "schedule_timeout", schedule_timeout, 30 * _DAY))


def _seconds(where: str, option: str, value: durations.Duration, limit: float) -> float:
    try:
        seconds = durations.parse(value)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"{where}: {option}: {exc}") from None
    if not 0 < seconds <= limit:
        raise ValueError(f"{where}: {option} must be more than 0 seconds and at most "
                         f"{limit / _DAY:g} days, got {value!r}")
    return seconds


class Task(Generic[InT, OutT]):
    """One task: a function ``(input, ctx) -> output`` plus its place in a workflow.

    Calling the task object calls the function directly (handy in tests; see ``kiln.testing``).
    """

    durable = False
    """A durable task (``@wf.durable_task``): gets a ``DurableContext`` (docs/durable.md)."""

    def __init__(self, fn: Callable[..., Any], *, name: str, workflow: Workflow,
                 parents: Sequence[str], options: TaskOptions) -> None:
        self.fn = fn
        self.name = name
        self.workflow = workflow
        self.parents: tuple[str, ...] = tuple(parents)
        self.options = options
        self.is_async = inspect.iscoroutinefunction(fn)
        self.input_type, self.output_type = serialization.annotations_of(fn)
        self.flow: dict[str, Any] = {}
        """Flow-control fields of the task's definition (``kiln.flow``)."""
        self.conditions: dict[str, Any] = {}
        """``wait_for``/``skip_if``/``cancel_if`` of the task's definition (``kiln.conditions``)."""

    @property
    def action(self) -> str:
        """The worker action for this task: ``"<workflow>:<task>"``."""
        return f"{self.workflow.name}:{self.name}"

    def spec(self) -> protocol.TaskSpec:
        """This task as it appears in the workflow definition sent to the server."""
        options = self.options
        spec: protocol.TaskSpec = {
            "name": self.name, "parents": list(self.parents), "retries": options.retries,
            "backoff_factor": options.backoff_factor,
            "backoff_max_seconds": options.backoff_max_seconds,
            "execution_timeout": options.execution_timeout}
        if options.schedule_timeout is not None:
            spec["schedule_timeout"] = options.schedule_timeout
        if self.durable:
            spec["durable"] = True
        spec.update(self.flow)  # type: ignore[typeddict-item]
        spec.update(self.conditions)  # type: ignore[typeddict-item]
        return spec

    def __call__(self, input: InT, ctx: Context) -> Any:
        return self.fn(input, ctx)

    def __repr__(self) -> str:
        return f"<Task {self.action}>"


TaskFunction = Callable[[InT, Context], OutT]
AsyncTaskFunction = Callable[[InT, Context], Coroutine[Any, Any, OutT]]


class TaskDecorator(Protocol):
    """What ``@wf.task(...)`` returns: turns a function into a typed ``Task``."""

    @overload
    def __call__(self, fn: AsyncTaskFunction[InT, OutT], /) -> Task[InT, OutT]: ...
    @overload
    def __call__(self, fn: TaskFunction[InT, OutT], /) -> Task[InT, OutT]: ...


def make_task(fn: Callable[..., Any], workflow: Workflow, name: str | None,
              parents: Iterable[Task[Any, Any] | str], options: dict[str, Any],
              factory: Callable[..., Task[Any, Any]] = Task) -> Task[Any, Any]:
    """Check ``fn`` and the options, then build the task (``factory`` picks the class)."""
    task_name = check_name(str(name or getattr(fn, "__name__", "")), "task", _TASK_NAME)
    where = f"task {workflow.name}:{task_name}"
    try:
        inspect.signature(fn).bind(None, None)
    except TypeError:
        raise TypeError(f"{where}: a task function takes (input, ctx); "
                        f"{getattr(fn, '__qualname__', fn)!r} cannot be called that way") from None
    parent_names = [_parent_name(parent, workflow, where) for parent in parents]
    if len(set(parent_names)) != len(parent_names):
        raise ValueError(f"{where}: a parent is listed twice in {parent_names}")
    options = dict(options)
    flow_options = {key: options.pop(key) for key in flow.TASK_OPTIONS if key in options}
    gates = {key: options.pop(key) for key in conditions.TASK_OPTIONS if key in options}
    task = factory(fn, name=task_name, workflow=workflow, parents=parent_names,
                   options=TaskOptions.build(where, **options))
    task.flow = flow.task_json(where, **flow_options)
    task.conditions = conditions.task_json(where, parent_names, **gates)
    return task


def mark_durable(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Check that ``fn`` can be a durable task (its durable calls are awaited)."""
    if not inspect.iscoroutinefunction(fn):
        raise TypeError(f"durable task {getattr(fn, '__qualname__', fn)!r} must be an async "
                        "function: its ctx.step/sleep_for/wait_for_event calls are awaited")
    return fn


def _parent_name(parent: Task[Any, Any] | str, workflow: Workflow, where: str) -> str:
    if isinstance(parent, str):
        return parent
    if isinstance(parent, Task):
        if parent.workflow is not workflow:
            raise ValueError(f"{where}: parent {parent.action} belongs to another workflow; "
                             "parents must be tasks of the same workflow")
        return parent.name
    raise TypeError(f"{where}: parents must be tasks or task names, got {parent!r}")


class Workflow(runs.Triggerable[Any, dict[str, Any]]):
    """A DAG of tasks. Create with ``kiln.workflow(name, ...)``, add tasks with ``@wf.task()``.

    Running it returns ``{leaf_task_name: output}`` for every task no other task depends on.
    """

    def __init__(self, name: str, *, client: Kiln | None = None, description: str | None = None,
                 on_events: Sequence[str] = (), on_crons: Sequence[str] = (),
                 event_filter: str | None = None,
                 concurrency: int | flow.Concurrency | Sequence[flow.Concurrency] | None = None,
                 default_priority: int | None = None,
                 sticky: flow.StickyStrategy | str | None = None) -> None:
        super().__init__(client, check_name(name, "workflow"))
        self.flow = flow.workflow_json(f"workflow {name!r}", concurrency=concurrency,
                                       default_priority=default_priority, sticky=sticky)
        self.name = name
        self.description = description
        self.on_events = _strings(on_events, f"workflow {name!r}: on_events")
        self.on_crons = _strings(on_crons, f"workflow {name!r}: on_crons")
        if event_filter is not None and not (isinstance(event_filter, str) and event_filter):
            raise ValueError(f"workflow {name!r}: event_filter must be a non-empty CEL string")
        self.event_filter = event_filter
        self.tasks: dict[str, Task[Any, Any]] = {}
        self.on_failure: Task[Any, Any] | None = None
        self.on_success: Task[Any, Any] | None = None

    @overload
    def task(self, fn: AsyncTaskFunction[InT, OutT], /) -> Task[InT, OutT]: ...
    @overload
    def task(self, fn: TaskFunction[InT, OutT], /) -> Task[InT, OutT]: ...
    @overload
    def task(self, fn: None = None, /, *, name: str | None = None,
             parents: Sequence[Task[Any, Any] | str] = (), retries: int = 0,
             backoff_factor: float = 2.0, backoff_max_seconds: durations.Duration = 3600,
             execution_timeout: durations.Duration = 60,
             schedule_timeout: durations.Duration | None = None,
             concurrency: int | flow.Concurrency | Sequence[flow.Concurrency] | None = None,
             rate_limits: Sequence[flow.RateLimit] = (),
             desired_labels: Mapping[str, flow.DesiredLabel | str | int | float | bool]
             | None = None,
             wait_for: Sequence[conditions.Condition | conditions.OrGroup] = (),
             skip_if: Sequence[conditions.Condition | conditions.OrGroup] = (),
             cancel_if: Sequence[conditions.Condition | conditions.OrGroup] = (),
             ) -> TaskDecorator: ...

    def task(self, fn: Callable[..., Any] | None = None, /, *, name: str | None = None,
             parents: Sequence[Task[Any, Any] | str] = (), **options: Any) -> Any:
        """Add a task. Use as ``@wf.task()`` or ``@wf.task(parents=[extract], retries=3)``.

        Options: ``retries``, ``backoff_factor``, ``backoff_max_seconds``, ``execution_timeout``
        and ``schedule_timeout``; durations accept ``"30s"``, ``"5m"``, a timedelta or seconds.
        Flow control (``kiln.flow``, docs/flow-control.md): ``concurrency``, ``rate_limits`` and
        ``desired_labels``. Conditions (``kiln.conditions``, docs/durable.md): ``wait_for``,
        ``skip_if`` and ``cancel_if``, lists of conditions and ``or_(...)`` groups.
        """
        def decorate(func: Callable[..., Any]) -> Task[Any, Any]:
            task = make_task(func, self, name, parents, options)
            self._check_unique(task.name)
            if len(self.tasks) >= MAX_TASKS:
                raise ValueError(f"workflow {self.name!r} cannot have more than {MAX_TASKS} tasks")
            self.tasks[task.name] = task
            return task
        return decorate(fn) if fn is not None else decorate

    def durable_task(self, *, name: str | None = None,
                     parents: Sequence[Task[Any, Any] | str] = (),
                     **options: Any) -> TaskDecorator:
        """Add a durable task (an ``async def``): its ``ctx`` is a ``DurableContext`` whose
        steps, sleeps and event waits are logged and replayed (docs/durable.md)."""
        add = self.task(name=name, parents=parents, **options)

        def decorate(func: Callable[..., Any]) -> Task[Any, Any]:
            task: Task[Any, Any] = add(mark_durable(func))
            task.durable = True
            return task
        return decorate

    def on_failure_task(self, name: str | None = None, **options: Any) -> TaskDecorator:
        """Declare the task that runs once when a run failed, after its other tasks finished
        (at most one). ``ctx.errors`` maps each failed task to its error."""
        return self._hook_task("on_failure", name, options)

    def on_success_task(self, name: str | None = None, **options: Any) -> TaskDecorator:
        """Declare the task that runs after every leaf task succeeded (at most one). Its output
        is not part of the run's output."""
        return self._hook_task("on_success", name, options)

    def _hook_task(self, kind: str, name: str | None, options: dict[str, Any]) -> TaskDecorator:
        def decorate(func: Callable[..., Any]) -> Task[Any, Any]:
            existing = getattr(self, kind)
            if existing is not None:
                raise ValueError(f"workflow {self.name!r} already has an {kind.replace('_', '-')}"
                                 f" task ({existing.name!r})")
            task = make_task(func, self, name, (), options)
            self._check_unique(task.name)
            setattr(self, kind, task)
            return task
        return decorate

    def _check_unique(self, name: str) -> None:
        if any(task.name == name for task in self.all_tasks):
            raise ValueError(f"workflow {self.name!r} already has a task named {name!r}")

    def _extract_result(self, run: Any) -> dict[str, Any]:
        return runs.workflow_output(run)

    @property
    def all_tasks(self) -> list[Task[Any, Any]]:
        """The DAG's tasks, then the on-failure and on-success tasks if declared."""
        hooks = [task for task in (self.on_failure, self.on_success) if task is not None]
        return [*self.tasks.values(), *hooks]

    @property
    def leaves(self) -> list[str]:
        """Names of tasks no other task depends on: their outputs form the run's output."""
        used = {parent for task in self.tasks.values() for parent in task.parents}
        return [name for name in self.tasks if name not in used]

    def order(self) -> list[Task[Any, Any]]:
        """The tasks in an order where every parent precedes its children.

        Raises ``ValueError`` for an empty workflow, an unknown parent or a cycle (naming it).
        """
        if not self.tasks:
            raise ValueError(f"workflow {self.name!r} has no tasks; add one with @wf.task()")
        for task in self.tasks.values():
            for parent in task.parents:
                if parent not in self.tasks:
                    raise ValueError(f"task {task.action}: unknown parent {parent!r}")
        done: dict[str, None] = {}
        for name in self.tasks:
            self._visit(name, [], done)
        return [self.tasks[name] for name in done]

    def _visit(self, name: str, path: list[str], done: dict[str, None]) -> None:
        if name in done:
            return
        if name in path:
            cycle = [*path[path.index(name):], name]
            raise ValueError(f"workflow {self.name!r} has a cycle: {' -> '.join(cycle)}")
        for parent in self.tasks[name].parents:
            self._visit(parent, [*path, name], done)
        done[name] = None

    def definition(self) -> protocol.WorkflowSpec:
        """The definition sent to ``POST /api/v1/workflows`` (validated first)."""
        spec: protocol.WorkflowSpec = {
            "name": self.name, "on_events": list(self.on_events), "on_crons": list(self.on_crons),
            "tasks": [task.spec() for task in self.order()],
        }
        if self.description:
            spec["description"] = self.description
        if self.event_filter is not None:
            spec["event_filter"] = self.event_filter
        if self.on_failure is not None:
            spec["on_failure"] = self.on_failure.spec()
        if self.on_success is not None:
            spec["on_success"] = self.on_success.spec()
        spec.update(self.flow)  # type: ignore[typeddict-item]
        return spec

    def checksum(self) -> str:
        """SHA-256 of the definition in canonical form: independent of the order tasks,
        parents, events and crons were declared in, changed by anything that changes meaning."""
        spec: dict[str, Any] = dict(self.definition())
        spec["tasks"] = sorted(({**task, "parents": sorted(task["parents"])}
                                for task in spec["tasks"]), key=lambda task: str(task["name"]))
        spec["on_events"], spec["on_crons"] = sorted(self.on_events), sorted(self.on_crons)
        canonical = json.dumps(spec, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()

    @property
    def actions(self) -> list[str]:
        """Every ``"<workflow>:<task>"`` action a worker running this workflow must serve."""
        return [task.action for task in self.all_tasks]

    def __repr__(self) -> str:
        return f"<Workflow {self.name} tasks={list(self.tasks)}>"


def _strings(values: Sequence[str], what: str) -> tuple[str, ...]:
    if isinstance(values, str):
        raise TypeError(f"{what} must be a list of strings, not the string {values!r}")
    items = tuple(values)
    for item in items:
        if not isinstance(item, str) or not item.strip():
            raise ValueError(f"{what} must hold non-empty strings, got {item!r}")
    if len(set(items)) != len(items):
        raise ValueError(f"{what} lists a value twice: {list(items)}")
    return items
