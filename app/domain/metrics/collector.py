"""Prometheus metrics of one server process, in a registry of its own (no global state).

Counters are bumped by the engine's callers; queue depth and the oldest queued task's age are
read from the database at scrape time (as ``kiln_engine``), per tenant and workflow — the signal
to autoscale workers on.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from app.db.database import Database


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.runs_triggered = Counter(
            "kiln_runs_triggered", "Runs created by triggers", registry=self.registry)
        self.tasks_claimed = Counter(
            "kiln_tasks_claimed", "Tasks leased to workers", registry=self.registry)
        self.results = Counter(
            "kiln_task_results", "Task results reported by workers", ["outcome"],
            registry=self.registry)
        self.sweeps = Counter(
            "kiln_sweep_actions", "Tasks taken back by the sweeper", ["kind"],
            registry=self.registry)
        self.request_seconds = Histogram(
            "kiln_http_request_seconds", "API request latency", ["route"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 30))
        self.snapshot: dict[str, list[tuple[dict[str, str], float]]] = {}

    def render(self) -> bytes:
        return generate_latest(self.registry)


class DatabaseCollector(Collector):
    """Gauges computed from a snapshot the metrics endpoint refreshes before rendering."""

    def __init__(self, db: Database, metrics: Metrics) -> None:
        self.db = db
        self.metrics = metrics

    def collect(self) -> Iterator[GaugeMetricFamily]:
        depth = GaugeMetricFamily("kiln_queue_depth", "Tasks ready to run",
                                  labels=["tenant", "workflow"])
        oldest = GaugeMetricFamily("kiln_queue_oldest_seconds",
                                   "Age of the oldest ready task", labels=["tenant", "workflow"])
        for labels, value in self.metrics.snapshot.get("depth", []):
            depth.add_metric([labels["tenant"], labels["workflow"]], value)
        for labels, value in self.metrics.snapshot.get("oldest", []):
            oldest.add_metric([labels["tenant"], labels["workflow"]], value)
        yield depth
        yield oldest
        pool = GaugeMetricFamily("kiln_db_pool_connections", "Connections of the raw pool",
                                 labels=["state"])
        if self.db.pool is not None:
            size, idle = self.db.pool.get_size(), self.db.pool.get_idle_size()
            pool.add_metric(["busy"], size - idle)
            pool.add_metric(["idle"], idle)
        yield pool
