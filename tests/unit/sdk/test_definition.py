"""Declaring tasks and workflows, and the definition JSON the server receives."""

from __future__ import annotations

import datetime as dt

import pytest
from kiln import Context, Kiln, Standalone, Task, Workflow

DEFAULTS = {"retries": 0, "backoff_factor": 2.0, "backoff_max_seconds": 3600.0,
            "execution_timeout": 60.0}  # no schedule_timeout: unset means no limit


@pytest.fixture
def client() -> Kiln:
    return Kiln(api_url="http://kiln.test", api_key="unused")


def contract_declarations(kiln: Kiln):
    """The DESIGN.md §7 example, minus the parts that need a server."""
    @kiln.task(retries=2, execution_timeout="30s")
    async def hello(input: dict, ctx: Context) -> dict:
        return {"hello": input}

    wf = kiln.workflow("etl", on_events=["order:created"], on_crons=["0 * * * *"])

    @wf.task()
    def extract(input, ctx):
        return {"rows": 3}

    @wf.task(parents=[extract])
    def load(input, ctx):
        return {"rows": ctx.task_output(extract)["rows"]}

    worker = kiln.worker("w1", workflows=[wf, hello], slots=10)
    return hello, wf, extract, load, worker


def test_contract_example_declares_the_protocol_definitions(client):
    hello, wf, extract, _load, worker = contract_declarations(client)
    assert isinstance(hello, Standalone)
    assert isinstance(extract, Task)
    assert isinstance(wf, Workflow)
    assert wf.definition() == {
        "name": "etl", "on_events": ["order:created"], "on_crons": ["0 * * * *"],
        "tasks": [{"name": "extract", "parents": [], **DEFAULTS},
                  {"name": "load", "parents": ["extract"], **DEFAULTS}],
    }
    assert hello.workflow.definition() == {
        "name": "hello", "on_events": [], "on_crons": [],
        "tasks": [{"name": "hello", "parents": [],
                   **{**DEFAULTS, "retries": 2, "execution_timeout": 30.0}}],
    }
    assert worker.slots == 10
    assert list(worker.tasks) == ["etl:extract", "etl:load", "hello:hello"]


def test_task_options_accept_durations_in_every_form(client):
    wf = client.workflow("opts", description="options")

    @wf.task(retries=3, backoff_factor=1.5, backoff_max_seconds="5m",
             execution_timeout=dt.timedelta(minutes=2), schedule_timeout=90)
    def only(input, ctx):
        return None

    assert wf.definition() == {
        "name": "opts", "description": "options", "on_events": [], "on_crons": [],
        "tasks": [{"name": "only", "parents": [], "retries": 3, "backoff_factor": 1.5,
                   "backoff_max_seconds": 300.0, "execution_timeout": 120.0,
                   "schedule_timeout": 90.0}],
    }
    assert wf.tasks["only"].options.schedule_timeout == 90.0


def build_diamond(client: Kiln, order: list[str], **options) -> Workflow:
    """a -> b, c -> d, declared in ``order`` (parents by name so any order works)."""
    parents = {"a": [], "b": ["a"], "c": ["a"], "d": ["c", "b"] if "rev" in options else ["b", "c"]}
    wf = client.workflow("diamond", on_events=options.get("events", ["x", "y"]))
    for name in order:
        wf.task(name=name, parents=parents[name], retries=options.get("retries", 0))(
            lambda input, ctx: None)
    return wf


def test_tasks_come_out_parents_first_whatever_the_declaration_order(client):
    wf = build_diamond(client, ["d", "c", "b", "a"])
    names = [task["name"] for task in wf.definition()["tasks"]]
    assert names.index("a") < names.index("b") < names.index("d")
    assert names.index("c") < names.index("d")
    assert wf.leaves == ["d"]


def test_checksum_is_stable_and_ignores_declaration_order(client):
    first = build_diamond(client, ["a", "b", "c", "d"])
    assert first.checksum() == first.checksum()
    assert len(first.checksum()) == 64
    assert build_diamond(client, ["d", "b", "c", "a"]).checksum() == first.checksum()
    assert build_diamond(client, ["a", "b", "c", "d"], rev=True).checksum() == first.checksum()
    assert build_diamond(client, ["a", "b", "c", "d"],
                         events=["y", "x"]).checksum() == first.checksum()


def test_checksum_changes_with_meaning(client):
    base = build_diamond(client, ["a", "b", "c", "d"]).checksum()
    assert build_diamond(client, ["a", "b", "c", "d"], retries=1).checksum() != base
    assert build_diamond(client, ["a", "b", "c", "d"], events=["x"]).checksum() != base


def test_a_cycle_is_named(client):
    wf = client.workflow("loop")
    wf.task(name="a", parents=["c"])(lambda input, ctx: None)
    wf.task(name="b", parents=["a"])(lambda input, ctx: None)
    wf.task(name="c", parents=["b"])(lambda input, ctx: None)
    with pytest.raises(ValueError, match=r"workflow 'loop' has a cycle: a -> c -> b -> a"):
        wf.definition()


def test_unknown_parent_and_empty_workflow_are_refused(client):
    wf = client.workflow("w")
    with pytest.raises(ValueError, match="has no tasks"):
        wf.definition()
    wf.task(name="a", parents=["nope"])(lambda input, ctx: None)
    with pytest.raises(ValueError, match=r"task w:a: unknown parent 'nope'"):
        wf.definition()


def test_duplicate_task_names_are_refused(client):
    wf = client.workflow("w")

    @wf.task()
    def step(input, ctx):
        return None

    with pytest.raises(ValueError, match="already has a task named 'step'"):
        wf.task(name="step")(lambda input, ctx: None)


def test_parents_must_belong_to_the_same_workflow(client):
    other = client.workflow("other")
    foreign = other.task(name="x")(lambda input, ctx: None)
    wf = client.workflow("w")
    with pytest.raises(ValueError, match="belongs to another workflow"):
        wf.task(name="y", parents=[foreign])(lambda input, ctx: None)


@pytest.mark.parametrize(("name", "what"), [("", "workflow"), ("a b", "workflow"),
                                            ("x" * 101, "workflow")])
def test_invalid_workflow_names(client, name, what):
    with pytest.raises(ValueError, match=f"{what} name .* is invalid"):
        client.workflow(name)


def test_task_names_may_not_contain_the_action_separator(client):
    wf = client.workflow("w")
    with pytest.raises(ValueError, match="task name 'a:b' is invalid"):
        wf.task(name="a:b")(lambda input, ctx: None)


def test_a_task_function_must_take_input_and_ctx(client):
    wf = client.workflow("w")
    with pytest.raises(TypeError, match=r"task w:bad: a task function takes \(input, ctx\)"):
        @wf.task()
        def bad(input):
            return None


@pytest.mark.parametrize(("options", "message"), [
    ({"retries": -1}, "retries must be an int from 0 to 1000"),
    ({"retries": True}, "retries must be an int from 0 to 1000"),
    ({"backoff_factor": 0.5}, "backoff_factor must be a number from 1 to 10"),
    ({"execution_timeout": "soon"}, "execution_timeout: invalid duration 'soon'"),
    ({"execution_timeout": 0}, "execution_timeout must be more than 0 seconds"),
    ({"execution_timeout": "8d"}, "and at most 7 days, got '8d'"),
    ({"schedule_timeout": "-1m"}, "schedule_timeout: invalid duration"),
])
def test_bad_task_options_name_the_task_and_option(client, options, message):
    wf = client.workflow("w")
    with pytest.raises(ValueError, match="task w:t: ") as info:
        wf.task(name="t", **options)(lambda input, ctx: None)
    assert message in str(info.value)


def test_on_events_must_be_a_list(client):
    with pytest.raises(TypeError, match="must be a list of strings"):
        client.workflow("w", on_events="order:created")


def test_on_failure_and_on_success_tasks_are_part_of_the_definition_and_actions(client):
    wf = client.workflow("w", on_events=["x"], event_filter="payload.amount > 10")
    wf.task(name="a")(lambda input, ctx: None)

    @wf.on_failure_task(retries=1)
    def cleanup(input, ctx):
        return None

    @wf.on_success_task()
    def celebrate(input, ctx):
        return None

    definition = wf.definition()
    assert definition["on_failure"] == {"name": "cleanup", "parents": [],
                                        **{**DEFAULTS, "retries": 1}}
    assert definition["on_success"] == {"name": "celebrate", "parents": [], **DEFAULTS}
    assert definition["event_filter"] == "payload.amount > 10"
    assert wf.actions == ["w:a", "w:cleanup", "w:celebrate"]
    assert wf.leaves == ["a"]
    with pytest.raises(ValueError, match="already has an on-failure task"):
        wf.on_failure_task(name="again")(lambda input, ctx: None)
    fresh = client.workflow("v")
    fresh.task(name="a")(lambda input, ctx: None)
    with pytest.raises(ValueError, match="already has a task named 'a'"):
        fresh.on_success_task(name="a")(lambda input, ctx: None)
    with pytest.raises(ValueError, match="already has a task named 'cleanup'"):
        wf.task(name="cleanup")(lambda input, ctx: None)
    with pytest.raises(ValueError, match="event_filter must be a non-empty CEL string"):
        client.workflow("u", event_filter="")


def test_worker_options_are_checked(client):
    wf = client.workflow("w")
    wf.task(name="a")(lambda input, ctx: None)
    with pytest.raises(ValueError, match="slots must be an int from 1 to 10000"):
        client.worker("w1", workflows=[wf], slots=0)
    with pytest.raises(ValueError, match="has no workflows"):
        client.worker("w1", workflows=[])
    with pytest.raises(TypeError, match="labels map strings"):
        client.worker("w1", workflows=[wf], labels={"gpu": ["a100"]})
    with pytest.raises(TypeError, match=r"must be workflows or @kiln\.task tasks"):
        client.worker("w1", workflows=["w"])
    empty = client.workflow("empty")
    with pytest.raises(ValueError, match="'empty' has no tasks"):
        client.worker("w1", workflows=[empty])


def test_calling_a_task_calls_its_function(client):
    wf = client.workflow("w")

    @wf.task()
    def double(input, ctx):
        return input * 2

    assert double(21, None) == 42
    assert double.action == "w:double"
    assert repr(double) == "<Task w:double>"
