"""The scenarios, in the order a full run takes them (throughput first: later ones use its
figure); ``soak`` runs only when named (it takes an hour by default). Each module has ``NAME``, a
docstring whose first line is its help, and ``run(bench)``."""

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
    soak,
    tenants,
    throughput,
)

ALL: list[ModuleType] = [throughput, latency, load, dag, fanout, depth, tenants, idle, compare]
ON_REQUEST: list[ModuleType] = [soak]
BY_NAME = {module.NAME: module for module in ALL + ON_REQUEST}
