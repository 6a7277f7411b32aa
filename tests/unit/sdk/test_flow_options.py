"""Flow-control options of the SDK (``kiln.flow``) and the definition fields they produce; the
server's own schema and validation accept what the SDK writes."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from kiln import (
    Concurrency,
    ConcurrencyStrategy,
    DesiredLabel,
    Kiln,
    RateLimit,
    StickyStrategy,
)

from app.domain.workflows.schemas import WorkflowDefinition
from app.domain.workflows.validation import validate


@pytest.fixture
def client() -> Kiln:
    return Kiln(api_url="http://kiln.test", api_key="unused")


def server_accepts(definition: Any) -> None:
    validate(msgspec.convert(definition, WorkflowDefinition))


def test_workflow_and_task_options_are_written_into_the_definition(client):
    wf = client.workflow("sync", concurrency=Concurrency("input.customer", max_runs=2),
                         default_priority=3, sticky=StickyStrategy.SOFT)

    @wf.task(rate_limits=[RateLimit(key="crm-api"),
                          RateLimit(dynamic_key="'user-' + input.user", units="input.n",
                                    limit=100, window="minute")],
             desired_labels={"gpu": DesiredLabel("a100", required=True), "zone": "eu"})
    def fetch(input, ctx):
        return {}

    @wf.task(parents=[fetch], concurrency=1)
    def store(input, ctx):
        return {}

    definition = wf.definition()
    assert definition["concurrency"] == [
        {"expression": "input.customer", "max_runs": 2, "strategy": "GROUP_ROUND_ROBIN"}]
    assert (definition["default_priority"], definition["sticky"]) == (3, "soft")
    fetch_spec, store_spec = definition["tasks"]
    assert fetch_spec["rate_limits"] == [
        {"key": "crm-api", "units": 1},
        {"dynamic_key": "'user-' + input.user", "units": "input.n", "limit": 100,
         "window": "minute"}]
    assert fetch_spec["desired_labels"] == {
        "gpu": {"value": "a100", "required": True, "weight": 100},
        "zone": {"value": "eu", "required": False, "weight": 100}}
    assert store_spec["concurrency"] == 1
    server_accepts(definition)


def test_a_standalone_task_takes_every_option(client):
    @client.task(concurrency=[Concurrency("input.k", 1, ConcurrencyStrategy.CANCEL_NEWEST)],
                 rate_limits=[RateLimit(key="x")], sticky="hard", default_priority=1)
    def ping(input, ctx):
        return {}

    definition = ping.workflow.definition()
    assert definition["concurrency"][0]["strategy"] == "CANCEL_NEWEST"
    assert (definition["sticky"], definition["default_priority"]) == ("hard", 1)
    assert definition["tasks"][0]["rate_limits"] == [{"key": "x", "units": 1}]
    server_accepts(definition)


def test_no_options_change_nothing(client):
    wf = client.workflow("plain", sticky=StickyStrategy.NONE)

    @wf.task()
    def t(input, ctx):
        return {}

    definition = wf.definition()
    assert not {"concurrency", "default_priority", "sticky"} & set(definition)
    assert not {"concurrency", "rate_limits", "desired_labels"} & set(definition["tasks"][0])


@pytest.mark.parametrize(("options", "message"), [
    ({"concurrency": 0}, "concurrency must be an int >= 1"),
    ({"concurrency": [Concurrency("", 1)]}, "non-empty CEL"),
    ({"concurrency": [Concurrency("input.k", 1, "LIFO")]}, "LIFO"),
    ({"rate_limits": [RateLimit()]}, "exactly one of key or dynamic_key"),
    ({"rate_limits": [RateLimit(dynamic_key="input.k")]}, "needs limit and window"),
    ({"rate_limits": [RateLimit(key="k", limit=5, window="week")]}, "window must be one of"),
    ({"rate_limits": [RateLimit(key="k", limit=-1, window="second")]}, "limit must be"),
    ({"rate_limits": RateLimit(key="k")}, "list of RateLimit"),
    ({"desired_labels": {"gpu": DesiredLabel("a100", weight=0)}}, "weight"),
])
def test_mistakes_fail_at_declaration_naming_the_task(client, options, message):
    wf = client.workflow("bad")
    with pytest.raises((ValueError, TypeError), match=message) as raised:
        @wf.task(**options)
        def t(input, ctx):
            return {}
    assert "bad:t" in str(raised.value)


@pytest.mark.parametrize(("options", "message"), [
    ({"default_priority": 4}, "default_priority is 1, 2 or 3"),
    ({"sticky": "always"}, "always"),
])
def test_workflow_mistakes_fail_at_declaration(client, options, message):
    with pytest.raises(ValueError, match=message):
        client.workflow("bad", **options)
