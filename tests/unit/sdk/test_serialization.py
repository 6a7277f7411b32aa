"""What may travel as JSON, and typed inputs built from annotations."""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import enum
import uuid

import pydantic
import pytest
from kiln import InvalidInputError, SerializationError, serialization


class Color(enum.Enum):
    RED = "red"


@dataclasses.dataclass
class Point:
    x: int
    y: int = 0


class Order(pydantic.BaseModel):
    id: int
    when: dt.date | None = None


def test_rich_values_become_plain_json():
    value = {"point": Point(1, 2), "order": Order(id=7, when=dt.date(2025, 1, 2)),
             "at": dt.datetime(2025, 1, 2, 3, 4, tzinfo=dt.UTC), "id": uuid.UUID(int=1),
             "color": Color.RED, "tuple": (1, 2.5), 3: None, None: True}
    assert serialization.to_jsonable(value, "input") == {
        "point": {"x": 1, "y": 2}, "order": {"id": 7, "when": "2025-01-02"},
        "at": "2025-01-02T03:04:00+00:00", "id": "00000000-0000-0000-0000-000000000001",
        "color": "red", "tuple": [1, 2.5], "3": None, "null": True}
    assert serialization.dumps({"a": [1]}, "input") == b'{"a":[1]}'


@pytest.mark.parametrize(("value", "message"), [
    ({"items": [1, {2, 3}]}, "input['items'][1] is a set, which is not JSON-serializable "
                             "(use a list)"),
    ({"n": float("nan")}, "input['n'] is nan, which JSON cannot represent"),
    (b"raw", "input is a bytes, which is not JSON-serializable (encode it, e.g. base64)"),
    ({"price": decimal.Decimal("1.5")}, "(use str or float)"),
    ({(1, 2): "tuple key"}, "input has a key of type tuple"),
    (object(), "input is a object"),
])
def test_unserializable_values_are_reported_with_their_path(value, message):
    with pytest.raises(SerializationError) as info:
        serialization.to_jsonable(value, "input")
    assert message in str(info.value)
    assert isinstance(info.value, TypeError)


def test_a_circular_structure_is_reported_not_a_recursion_error():
    loop: list[object] = []
    loop.append(loop)
    with pytest.raises(SerializationError, match="circular reference"):
        serialization.to_jsonable(loop, "output")


def test_coerce_builds_pydantic_models_and_dataclasses():
    assert serialization.coerce({"id": "7"}, Order, "input") == Order(id=7)
    assert serialization.coerce({"x": 1}, Point, "input") == Point(1, 0)
    assert serialization.coerce({"x": 1}, dict, "input") == {"x": 1}
    assert serialization.coerce([1], None, "input") == [1]


def test_coerce_explains_a_mismatch():
    with pytest.raises(InvalidInputError, match=r"input of task w:t does not match Order: .*id"):
        serialization.coerce({"id": "seven"}, Order, "input of task w:t")
    with pytest.raises(InvalidInputError, match="does not match Point"):
        serialization.coerce({"z": 1}, Point, "input")


def test_dataclasses_work_without_pydantic(monkeypatch):
    monkeypatch.setattr(serialization, "_pydantic_type_adapter", lambda: None)
    assert serialization.coerce({"x": 1, "y": 2}, Point, "input") == Point(1, 2)
    with pytest.raises(InvalidInputError, match="does not match Point"):
        serialization.coerce({"nope": 1}, Point, "input")
    with pytest.raises(InvalidInputError, match="must be a JSON object to build Point, got list"):
        serialization.coerce([1], Point, "input")


def test_annotations_are_resolved_even_from_string_annotations():
    def task(input: Order, ctx: object) -> Point:
        return Point(1)

    def untyped(input, ctx):
        return None

    def unresolvable(input: NotAType, ctx) -> None:  # noqa: F821 - deliberately unresolvable
        return None

    assert serialization.annotations_of(task) == (Order, Point)
    assert serialization.annotations_of(untyped) == (None, None)
    assert serialization.annotations_of(unresolvable) == (None, None)
