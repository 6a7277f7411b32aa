"""The worker runtime: ``kiln.worker(...)`` returns a ``Worker``."""

from kiln.worker.worker import Worker

__all__ = ["Worker"]
