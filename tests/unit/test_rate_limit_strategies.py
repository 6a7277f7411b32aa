"""The built-in rate-limit strategies as pure functions: each one's guarantee under random
traffic on a simulated clock, retry hints that really pass, JSON-safe state, bad configs."""

from __future__ import annotations

import bisect
import json
import random
from typing import Any

import pytest

from app.hooks.types import RateLimitStrategy
from plugins.rate_limits.fixed_window import FixedWindow
from plugins.rate_limits.sliding_window import SlidingWindow
from plugins.rate_limits.token_bucket import TokenBucket

STRATEGIES = [FixedWindow(), TokenBucket(), SlidingWindow()]


def run_traffic(
    strategy: Any, config: dict[str, Any], seed: int, requests: int = 400,
    costs: tuple[int, ...] = (1,),
) -> list[tuple[float, int]]:
    """Random arrivals (a few per window on average, in bursts); the admitted (time, cost)."""
    rng = random.Random(seed)
    state: Any = None
    now = 1_000.0
    admitted = []
    for _ in range(requests):
        now += rng.choice([0.0, 0.0, 0.001, 0.01, 0.05, 0.2, 0.5, 1.3])
        cost = rng.choice(costs)
        decision, state = strategy.decide(config, state, now, cost)
        state = json.loads(json.dumps(state))  # stored as jsonb between decisions
        if decision.allowed:
            admitted.append((now, cost))
    return admitted


def units_in(admitted: list[tuple[float, int]], start: float, end: float) -> int:
    """Units admitted in ``[start, end)`` (``admitted`` is in time order)."""
    times = [at for at, _ in admitted]
    return sum(cost for _, cost in admitted[bisect.bisect_left(times, start):
                                             bisect.bisect_left(times, end)])


@pytest.mark.parametrize("strategy", STRATEGIES, ids=lambda s: s.name)
def test_every_builtin_satisfies_the_protocol(strategy):
    assert isinstance(strategy, RateLimitStrategy)
    assert strategy.config_schema["type"] == "object"
    assert {"limit", "window_seconds"} <= set(strategy.config_schema["properties"])


@pytest.mark.parametrize("seed", range(20))
def test_sliding_window_never_exceeds_the_limit_in_any_window(seed):
    config = {"limit": 5, "window_seconds": 1.0}
    admitted = run_traffic(SlidingWindow(), config, seed, costs=(1, 1, 2))
    assert admitted
    for at, _ in admitted:
        assert units_in(admitted, at, at + 1.0) <= 5
        assert units_in(admitted, at - 1.0 + 1e-9, at + 1e-9) <= 5


@pytest.mark.parametrize("seed", range(20))
def test_fixed_window_holds_the_limit_in_each_window_it_opens(seed):
    config = {"limit": 5, "window_seconds": 1.0}
    admitted = run_traffic(FixedWindow(), config, seed)
    start = None
    count = 0
    for at, cost in admitted:
        if start is None or at >= start + 1.0:
            start, count = at, 0
        count += cost
        assert count <= 5
    # ... and, like every fixed window, never more than twice the limit in any window.
    for at, _ in admitted:
        assert units_in(admitted, at, at + 1.0) <= 10


@pytest.mark.parametrize("seed", range(20))
@pytest.mark.parametrize("burst", [None, 1, 3])
def test_token_bucket_admits_at_most_burst_plus_rate_times_span(seed, burst):
    config: dict[str, Any] = {"limit": 5, "window_seconds": 1.0}
    if burst:
        config["burst"] = burst
    capacity = burst or 5
    admitted = run_traffic(TokenBucket(), config, seed)
    for i, (a, _) in enumerate(admitted):
        for j in range(i, len(admitted)):
            b = admitted[j][0]
            units = sum(cost for _, cost in admitted[i:j + 1])
            assert units <= capacity + 5 * (b - a) + 1e-6


def test_token_bucket_with_burst_one_paces_evenly():
    config = {"limit": 5, "window_seconds": 1.0, "burst": 1}
    admitted = run_traffic(TokenBucket(), config, seed=7, requests=2000)
    for at, _ in admitted:
        assert units_in(admitted, at, at + 1.0) <= 5


@pytest.mark.parametrize("strategy", STRATEGIES, ids=lambda s: s.name)
def test_a_refusal_says_when_a_retry_passes(strategy):
    config = {"limit": 3, "window_seconds": 10.0}
    state: Any = None
    now = 50.0
    for _ in range(3):
        decision, state = strategy.decide(config, state, now, 1)
        assert decision.allowed
        now += 0.5
    refused, state = strategy.decide(config, state, now, 1)
    assert not refused.allowed
    assert 0 < refused.retry_after <= 10.0
    early, _ = strategy.decide(config, state, now + refused.retry_after * 0.5, 1)
    assert not early.allowed
    later, _ = strategy.decide(config, state, now + refused.retry_after + 1e-6, 1)
    assert later.allowed


@pytest.mark.parametrize("strategy", STRATEGIES, ids=lambda s: s.name)
def test_remaining_counts_down_and_cost_zero_only_looks(strategy):
    config = {"limit": 4, "window_seconds": 60.0}
    peek, state = strategy.decide(config, None, 0.0, 0)
    assert (peek.allowed, peek.remaining) == (True, 4)
    taken, state = strategy.decide(config, state, 0.0, 3)
    assert (taken.allowed, taken.remaining) == (True, 1)
    peek, _ = strategy.decide(config, state, 0.0, 0)
    assert peek.remaining == 1
    too_much, _ = strategy.decide(config, state, 0.0, 2)
    assert not too_much.allowed


@pytest.mark.parametrize("strategy", STRATEGIES, ids=lambda s: s.name)
def test_a_clock_that_steps_back_frees_nothing(strategy):
    """Deciders on several replicas may see slightly older clocks than the last decision."""
    config = {"limit": 2, "window_seconds": 1.0}
    state: Any = None
    decisions = []
    for now in (10.0, 10.0, 9.0, 9.5, 9.99):
        decision, state = strategy.decide(config, state, now, 1)
        decisions.append(decision.allowed)
    assert decisions == [True, True, False, False, False]


@pytest.mark.parametrize("strategy", STRATEGIES, ids=lambda s: s.name)
@pytest.mark.parametrize("config", [{"limit": 0, "window_seconds": 1.0},
                                    {"limit": 5, "window_seconds": 0}])
def test_a_config_without_a_positive_limit_and_window_is_an_error(strategy, config):
    with pytest.raises(ValueError, match="limit"):
        strategy.decide(config, None, 0.0, 1)


def test_sliding_window_state_stays_small_for_large_limits():
    config = {"limit": 1_000_000, "window_seconds": 60.0}
    strategy = SlidingWindow()
    state: Any = None
    for i in range(5000):
        _, state = strategy.decide(config, state, 1000.0 + i * 0.05, 1)
    assert len(state["log"]) <= 101
