"""JSON in and out of tasks: what may travel, and typed inputs from annotations.

Values are converted to plain JSON types *before* they leave the process, so a bad value fails
with a message naming where it sits (``input['items'][2] is a set …``) instead of deep inside
httpx, and so ``kiln.testing`` hands children exactly what the server would.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import importlib
import inspect
import json
import logging
import math
import typing
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from kiln import _log, errors

_MAX_DEPTH = 200
_HINTS = {"set": " (use a list)", "frozenset": " (use a list)",
          "bytes": " (encode it, e.g. base64)", "Decimal": " (use str or float)"}


def to_jsonable(value: Any, what: str) -> Any:
    """Return ``value`` as plain JSON types (dict, list, str, int, float, bool, None).

    Pydantic models, dataclasses, datetimes, UUIDs and enums are converted. Anything else raises
    ``SerializationError`` naming ``what`` (e.g. ``"input of workflow 'etl'"``) and the path.
    """
    return _convert(value, what, "", 0)


def dumps(value: Any, what: str) -> bytes:
    """Encode ``value`` as compact UTF-8 JSON, converting it with ``to_jsonable`` first."""
    return json.dumps(to_jsonable(value, what), separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode()


def _convert(value: Any, what: str, path: str, depth: int) -> Any:
    if depth > _MAX_DEPTH:
        raise errors.SerializationError(
            f"{what}{path} is nested more than {_MAX_DEPTH} levels deep (a circular reference?)")
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise errors.SerializationError(
                f"{what}{path} is {value!r}, which JSON cannot represent")
        return value
    if isinstance(value, Mapping):
        return {_key(key, what, path): _convert(item, what, f"{path}[{key!r}]", depth + 1)
                for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_convert(item, what, f"{path}[{index}]", depth + 1)
                for index, item in enumerate(value)]
    return _convert(_simplify(value, what, path), what, path, depth + 1)


def _simplify(value: Any, what: str, path: str) -> Any:
    """One step from a richer value towards JSON types, or a clear error."""
    if _is_model_instance(value):
        return value.model_dump(mode="json")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: getattr(value, field.name) for field in dataclasses.fields(value)}
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    kind = type(value).__name__
    raise errors.SerializationError(
        f"{what}{path} is a {kind}, which is not JSON-serializable{_HINTS.get(kind, '')}")


def _key(key: Any, what: str, path: str) -> str:
    if isinstance(key, str):
        return key
    if key is None or isinstance(key, bool | int | float):
        return json.dumps(key)  # what json.dumps itself does with such keys: 1 -> "1"
    raise errors.SerializationError(
        f"{what}{path} has a key of type {type(key).__name__}; JSON object keys are strings")


def _is_model_instance(value: Any) -> bool:
    return callable(getattr(value, "model_dump", None)) and _is_model_class(type(value))


def _is_model_class(tp: Any) -> bool:
    """True for pydantic v2 model classes, recognised without importing pydantic."""
    return isinstance(tp, type) and hasattr(tp, "model_validate") and hasattr(tp, "model_fields")


def is_typed(tp: Any) -> bool:
    """True if ``coerce`` builds a richer value than plain JSON for annotation ``tp``."""
    return _is_model_class(tp) or (isinstance(tp, type) and dataclasses.is_dataclass(tp))


def coerce(data: Any, tp: Any, what: str) -> Any:
    """Build the value a task annotated with ``tp`` expects from JSON ``data``.

    Pydantic models are validated with ``model_validate``; dataclasses with pydantic's
    ``TypeAdapter`` when pydantic is importable, else by calling the class with the fields. Any
    other annotation gets ``data`` unchanged. Raises ``InvalidInputError`` naming ``what``.
    """
    if _is_model_class(tp):
        return _validate(lambda: tp.model_validate(data), tp, what)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        adapter = _pydantic_type_adapter()
        if adapter is not None:
            return _validate(lambda: adapter(tp).validate_python(data), tp, what)
        if not isinstance(data, Mapping):
            raise errors.InvalidInputError(
                f"{what} must be a JSON object to build {tp.__name__}, got {type(data).__name__}")
        return _validate(lambda: tp(**data), tp, what)
    return data


def _validate(build: Callable[[], Any], tp: type, what: str) -> Any:
    try:
        return build()
    except (TypeError, ValueError) as exc:  # pydantic's ValidationError is a ValueError
        raise errors.InvalidInputError(f"{what} does not match {tp.__name__}: {exc}") from exc


def _pydantic_type_adapter() -> Any:
    """pydantic's ``TypeAdapter`` if pydantic is installed; the SDK never requires it."""
    try:
        return importlib.import_module("pydantic").TypeAdapter
    except ImportError:
        return None


def annotations_of(fn: Callable[..., Any]) -> tuple[Any, Any]:
    """The annotation of ``fn``'s first parameter and of its return value (``None`` if absent).

    String annotations (``from __future__ import annotations``) are resolved; one that cannot be
    resolved (a class defined inside a function, say) counts as absent — the task then receives
    plain JSON — and is logged as a warning.
    """
    try:
        hints = typing.get_type_hints(fn)
    except Exception as exc:  # an unresolvable forward reference must not break registration
        hints = {key: value for key, value in getattr(fn, "__annotations__", {}).items()
                 if not isinstance(value, str)}
        _log.event(logging.WARNING, "annotation_unresolved",
                   function=getattr(fn, "__qualname__", repr(fn)), error=repr(exc))
    params = list(inspect.signature(fn).parameters.values())
    first = hints.get(params[0].name) if params else None
    return first, hints.get("return")
