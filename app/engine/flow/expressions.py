"""CEL expressions of flow rules: compiled once per source, evaluated over a run's ``input`` and
``metadata``."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

import cel

from app.core.errors import Invalid

VARIABLES = frozenset({"input", "metadata"})
# Comprehension macros bind their own variable: `input.items.map(x, x * 2)` references `x`.
_MACRO_VARIABLE = re.compile(r"\.(?:map|filter|all|exists|exists_one)\(\s*([A-Za-z_]\w*)\s*,")


@functools.lru_cache(maxsize=4096)
def compile_expression(
    source: str, what: str, variables: frozenset[str] = VARIABLES
) -> cel.Program:
    """Compile ``source`` or raise :class:`Invalid` naming ``what`` (e.g. "concurrency
    expression of workflow 'etl'") and the expression; it may use only ``variables``."""
    try:
        program = cel.compile(source)
    except (ValueError, RuntimeError) as exc:
        reason = str(exc).split("\n", 1)[0]
        raise Invalid(f"{what} {source!r} is not a valid CEL expression: {reason}") from None
    unknown = set(program.variables()) - variables - set(_MACRO_VARIABLE.findall(source))
    if unknown:
        allowed = " and ".join(f"`{name}`" for name in sorted(variables))
        raise Invalid(f"{what} {source!r} uses unknown variable(s) {', '.join(sorted(unknown))}: "
                      f"only {allowed} are available")
    return program


def evaluate(
    program: cel.Program, source: str, what: str, input: Any, metadata: Mapping[str, Any]
) -> Any:
    """Run ``program``; an evaluation error becomes :class:`Invalid` (422 for the trigger)."""
    try:
        return program.execute({"input": input, "metadata": dict(metadata)})
    except Exception as exc:  # a user's expression can fail in many ways (missing key, types …)
        raise Invalid(f"{what} {source!r} failed for this run: {type(exc).__name__}: "
                      f"{exc}") from None


def as_key(value: Any, source: str, what: str, max_length: int = 255) -> str:
    """A key must be a non-empty string of at most ``max_length`` characters."""
    if not isinstance(value, str):
        raise Invalid(f"{what} {source!r} evaluated to {type(value).__name__} {value!r}; "
                      "a key must be a string (wrap it in string(...))")
    if not 1 <= len(value) <= max_length:
        raise Invalid(f"{what} {source!r} evaluated to a key of {len(value)} characters; "
                      f"keys are 1 to {max_length} characters")
    return value


def as_units(value: Any, source: str, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 1_000_000:
        raise Invalid(f"{what} {source!r} evaluated to {value!r}; units must be an integer "
                      "from 0 to 1,000,000")
    return value
