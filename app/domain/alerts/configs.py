"""Channel configs: validation against the channel type's JSON Schema, and secret handling.

The validator covers the JSON Schema subset channel types use (``type``, ``properties``,
``required``, ``additionalProperties``, ``enum``, ``minLength``/``maxLength``, ``pattern``,
``minItems``/``maxItems``, ``items``, ``minimum``/``maximum``, formats ``uri`` and ``email``).
Top-level properties marked ``"writeOnly": true`` are secrets: sealed with
:class:`app.core.crypto.SecretBox` and never returned.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from typing import Any

from app.core.crypto import SecretBox
from app.core.errors import Invalid

_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,), "array": (list,), "string": (str,), "boolean": (bool,),
    "integer": (int,), "number": (int, float), "null": (type(None),),
}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_URI = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://[^\s]+$")


def errors(schema: Mapping[str, Any], value: Any, path: str = "config") -> list[str]:
    """Every violation of ``schema`` by ``value``, as ``path: message`` strings."""
    found: list[str] = []
    kind = schema.get("type")
    if kind:
        allowed = _TYPES.get(kind, (object,))
        is_bool = isinstance(value, bool)
        if not isinstance(value, allowed) or (is_bool and kind in ("integer", "number")):
            return [f"{path}: must be of type {kind}"]
    if "enum" in schema and value not in schema["enum"]:
        found.append(f"{path}: must be one of {schema['enum']}")
    if isinstance(value, str):
        found += _string_errors(schema, value, path)
    elif isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            found.append(f"{path}: needs at least {schema['minItems']} items")
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            found.append(f"{path}: at most {schema['maxItems']} items")
        for index, item in enumerate(value):
            found += errors(schema.get("items", {}), item, f"{path}[{index}]")
    elif isinstance(value, dict):
        found += _object_errors(schema, value, path)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            found.append(f"{path}: must be >= {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            found.append(f"{path}: must be <= {schema['maximum']}")
    return found


def _string_errors(schema: Mapping[str, Any], value: str, path: str) -> list[str]:
    found = []
    if len(value) < schema.get("minLength", 0):
        found.append(f"{path}: at least {schema['minLength']} characters")
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        found.append(f"{path}: at most {schema['maxLength']} characters")
    if "pattern" in schema and not re.search(schema["pattern"], value):
        found.append(f"{path}: does not match {schema['pattern']}")
    fmt = schema.get("format")
    if (fmt == "email" and not _EMAIL.match(value)) or (fmt == "uri" and not _URI.match(value)):
        found.append(f"{path}: not a valid {fmt}")
    return found


def _object_errors(schema: Mapping[str, Any], value: dict[str, Any], path: str) -> list[str]:
    found = []
    properties: Mapping[str, Any] = schema.get("properties", {})
    for name in schema.get("required", []):
        if name not in value:
            found.append(f"{path}.{name}: is required")
    for name, item in value.items():
        if name in properties:
            found += errors(properties[name], item, f"{path}.{name}")
        elif schema.get("additionalProperties") is False:
            found.append(f"{path}.{name}: unknown setting")
    return found


def secret_fields(schema: Mapping[str, Any]) -> set[str]:
    return {
        name for name, prop in schema.get("properties", {}).items()
        if isinstance(prop, Mapping) and prop.get("writeOnly")
    }


def check(schema: Mapping[str, Any], config: Mapping[str, Any]) -> None:
    found = errors(schema, dict(config))
    if found:
        raise Invalid(f"invalid channel config: {found[0]}", details=found)


def split(
    schema: Mapping[str, Any], config: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(public settings, secret settings)``."""
    secret = secret_fields(schema)
    public = {k: v for k, v in config.items() if k not in secret}
    return public, {k: v for k, v in config.items() if k in secret}


def _context(tenant_id: uuid.UUID, channel_id: uuid.UUID) -> bytes:
    return f"alert_channel:{tenant_id}:{channel_id}".encode()


def seal(box: SecretBox, tenant_id: uuid.UUID, channel_id: uuid.UUID,
         secrets: Mapping[str, Any]) -> str | None:
    if not secrets:
        return None
    return box.encrypt(json.dumps(dict(secrets)), _context(tenant_id, channel_id))


def unseal(box: SecretBox, tenant_id: uuid.UUID, channel_id: uuid.UUID,
           sealed: str | None) -> dict[str, Any]:
    if not sealed:
        return {}
    opened: dict[str, Any] = json.loads(box.decrypt(sealed, _context(tenant_id, channel_id)))
    return opened
