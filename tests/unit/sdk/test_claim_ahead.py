"""Claim-ahead: a worker claims beyond its slots only as far as its slots finish tasks during
one poll round trip, runs no more than ``slots`` at once, and hands back what it never started."""

from __future__ import annotations

import asyncio
import threading

from kiln.worker.claim_ahead import ClaimAhead

from tests.unit.sdk.test_worker import running


def test_no_claim_ahead_until_both_a_full_poll_and_a_task_were_measured():
    ahead = ClaimAhead(slots=10)
    assert ahead.tasks() == 0
    ahead.poll_returned(0.01, asked=10, got=3)  # came back short: it may have waited for work
    ahead.task_ran(0.001)
    assert ahead.tasks() == 0
    ahead.poll_returned(0.01, asked=10, got=10)
    assert ahead.tasks() == 10


def test_claim_ahead_is_what_the_slots_finish_during_a_round_trip():
    ahead = ClaimAhead(slots=50)
    ahead.poll_returned(0.010, asked=50, got=50)
    ahead.task_ran(0.100)  # 50 slots finish 5 tasks per 10 ms round trip
    assert ahead.tasks() == 5
    long = ClaimAhead(slots=50)
    long.poll_returned(0.010, asked=50, got=50)
    long.task_ran(30.0)  # long tasks: none claimed ahead, nothing sits waiting for a slot
    assert long.tasks() == 0
    instant = ClaimAhead(slots=50)
    instant.poll_returned(0.010, asked=50, got=50)
    instant.task_ran(0.0)
    assert instant.tasks() == 50  # capped at the slots


def test_the_averages_follow_a_change_of_workload():
    ahead = ClaimAhead(slots=20)
    ahead.poll_returned(0.01, asked=20, got=20)
    ahead.task_ran(0.001)
    assert ahead.tasks() == 20
    for _ in range(40):
        ahead.task_ran(5.0)
    assert ahead.tasks() == 0


async def test_quick_tasks_pipeline_two_polls_within_the_slots(kiln, server):
    slots = 4
    active = 0
    most_active = 0

    @kiln.task()
    async def quick(input, ctx):
        nonlocal active, most_active
        active += 1
        most_active = max(most_active, active)
        await asyncio.sleep(0)
        active -= 1

    async with running(kiln.worker("w1", workflows=[quick], slots=slots), server):
        await quick.aio_run_many_no_wait([{} for _ in range(400)])
        await server.until(lambda: len(server.results) == 400)
    assert most_active <= slots
    assert server.max_polls_in_flight == 2  # a poll was on its way while another's tasks ran
    assert {r["status"] for r in server.results} == {"succeeded"}


async def test_long_tasks_are_not_claimed_ahead(kiln, server):
    release = threading.Event()

    @kiln.task()
    def slow(input, ctx):
        release.wait(10)

    try:
        async with running(kiln.worker("w1", workflows=[slow], slots=2), server):
            await slow.aio_run_many_no_wait([{} for _ in range(6)])
            await server.until(lambda: len(server.leases) == 2)
            await server.until(lambda: len(server.heartbeats) >= 3)  # time for more polls
            assert (len(server.leases), server.max_polls_in_flight) == (2, 1)
            release.set()
            await server.until(lambda: len(server.results) == 6)
    finally:
        release.set()


async def test_tasks_claimed_ahead_are_heartbeated_cancelled_or_released_unstarted(kiln, server):
    slots = 2
    block = threading.Event()
    started: list[str] = []

    @kiln.task()
    def work(input, ctx):
        if input["block"]:
            started.append(ctx.task_run_id)
            block.wait(10)

    worker = kiln.worker("w1", workflows=[work], slots=slots, drain_timeout="50ms")
    try:
        async with running(worker, server):
            # Quick tasks first: the worker learns that its slots finish tasks within a round
            # trip, so it claims ahead.
            await work.aio_run_many_no_wait([{"block": False} for _ in range(60)])
            await server.until(lambda: len(server.results) == 60)
            await work.aio_run_many_no_wait([{"block": True} for _ in range(10)])
            # Two blocked in the slots, two more claimed ahead and waiting for a slot.
            await server.until(lambda: len(server.leases) == 2 * slots and len(started) == 2)
            waiting = set(server.leases) - set(started)
            assert len(waiting) == slots
            await server.until(lambda: any(waiting <= {t["task_run_id"] for t in beat}
                                           for beat in server.heartbeats))
            # The server cancels the two never started: the worker just forgets them.
            beats = len(server.heartbeats)
            server.cancel_next |= waiting
            await server.until(lambda: not server.cancel_next)
            await server.until(lambda: len(server.heartbeats) > beats + 1)
            assert not waiting & {t["task_run_id"] for t in server.heartbeats[-1]}
            # Their place is taken by two more, claimed ahead in turn.
            await server.until(lambda: len(server.leases) == 3 * slots)
            later = set(server.leases) - set(started) - waiting
        # On stop, what is claimed ahead is handed back unstarted ("released").
        released = {r["task_run_id"] for r in server.results if r["status"] == "released"}
        assert later <= released
        assert len(started) == slots  # never more than the slots at once
        assert not waiting & {r["task_run_id"] for r in server.results}
    finally:
        block.set()
