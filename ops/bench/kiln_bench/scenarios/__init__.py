"""The scenarios, in the order a full run takes them (throughput first: later ones use its
figure). Each module has ``NAME``, a docstring whose first line is its help, and ``run(bench)``."""

from __future__ import annotations

from types import ModuleType

from kiln_bench.scenarios import (
    compare,
    dag,
    depth,
    fanout,
    idle,
    latency,
    load,
    tenants,
    throughput,
)

ALL: list[ModuleType] = [throughput, latency, load, dag, fanout, depth, tenants, idle, compare]
BY_NAME = {module.NAME: module for module in ALL}
