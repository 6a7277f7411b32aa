"""The worker runtime against the in-memory fake server: no network, real concurrency."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import threading

import pytest
from kiln import (
    AuthenticationError,
    Context,
    Kiln,
    NonRetryableError,
    RetryPolicy,
    ServerUnavailableError,
    TaskCancelledError,
)
from kiln.worker import Worker
from kiln.worker.batching import Batcher

from tests.unit.sdk.fake_server import FakeServer


@contextlib.asynccontextmanager
async def running(worker: Worker, server: FakeServer):
    """Run ``worker`` in the background; stop it and re-raise its error on exit."""
    task = asyncio.create_task(worker.astart())
    await started(server)
    try:
        yield task
    finally:
        worker.stop()
        await asyncio.wait_for(task, 10)


async def started(server: FakeServer) -> None:
    """Wait until the worker has registered (its workflows exist on the server)."""
    await server.until(lambda: server.workers)


def results_for(server: FakeServer, task_run_id: str) -> list[dict]:
    return [r for r in server.results if r["task_run_id"] == task_run_id]


async def test_runs_a_diamond_of_sync_and_async_tasks(kiln, server):
    wf = kiln.workflow("diamond")
    threads: dict[str, str] = {}

    @wf.task()
    def a(input, ctx):
        threads["a"] = threading.current_thread().name
        ctx.log("starting a")
        return {"n": input["n"] + 1}

    @wf.task(parents=[a])
    async def b(input, ctx):
        threads["b"] = threading.current_thread().name
        return {"n": ctx.task_output(a)["n"] * 2}

    @wf.task(parents=[a])
    def c(input, ctx):
        return {"n": ctx.task_output("a")["n"] * 3, "attempt": ctx.attempt, "run": ctx.run_id}

    @wf.task(parents=[b, c])
    def d(input, ctx):
        return {"sum": ctx.task_output(b)["n"] + ctx.task_output(c)["n"]}

    worker = kiln.worker("w1", workflows=[wf], slots=4)
    async with running(worker, server):
        assert await wf.aio_run({"n": 1}, timeout=10) == {"d": {"sum": 10}}
        await server.until(lambda: server.logs)
    assert server.runs["run-1"]["tasks"]["c"]["output"] == {"n": 6, "attempt": 1, "run": "run-1"}
    assert threads["a"].startswith("kiln-task")  # sync tasks run in the pool
    assert threads["b"] == threading.main_thread().name  # async ones on the worker's loop
    calls = [(method, path.split("/")[3]) for method, path in server.requests]
    assert calls.index(("POST", "workflows")) < calls.index(("POST", "workers"))
    assert server.workflows["diamond"] == wf.definition()
    registered = next(iter(server.workers.values()))
    assert registered == {"name": "w1", "actions": ["diamond:a", "diamond:b", "diamond:c",
                                                    "diamond:d"], "slots": 4, "labels": {}}
    assert server.deleted_workers == [worker.id]
    line = server.logs[0]
    assert (line["task_run_id"], line["level"], line["message"]) == ("run-1/a", "info",
                                                                    "starting a")
    assert line["lease_id"]
    assert line["at"].endswith("+00:00")


async def test_failures_are_reported_with_retryable_flags(kiln, server):
    attempts: list[int] = []

    @kiln.task(retries=1)
    def flaky(input, ctx):
        attempts.append(ctx.attempt)
        if ctx.attempt == 1:
            raise ValueError("first try fails")
        return "ok"

    @kiln.task()
    def permanent(input, ctx):
        raise NonRetryableError("card declined")

    @kiln.task()
    async def unserializable(input, ctx):
        return {"tags": {"x"}}

    async with running(kiln.worker("w1", workflows=[flaky, permanent, unserializable]), server):
        assert await flaky.aio_run({}, timeout=10) == "ok"
        await permanent.aio_run_no_wait({})
        await unserializable.aio_run_no_wait({})
        await server.until(lambda: len(server.results) == 4)
    assert attempts == [1, 2]
    first = results_for(server, "run-1/flaky")[0]
    assert (first["status"], first["error"], first["retryable"]) == (
        "failed", "ValueError: first try fails", True)
    assert "Traceback" in first["traceback"]
    assert "first try fails" in first["traceback"]
    declined = results_for(server, "run-2/permanent")[0]
    assert (declined["error"], declined["retryable"]) == ("NonRetryableError: card declined",
                                                          False)
    bad = results_for(server, "run-3/unserializable")[0]
    assert bad["retryable"] is False
    assert "output of task unserializable:unserializable['tags'] is a set" in bad["error"]


@dataclasses.dataclass
class Point:
    x: int


async def test_typed_input_mismatch_is_a_non_retryable_failure(kiln, server):
    @kiln.task()
    def plot(input: Point, ctx: Context) -> int:
        return input.x

    async with running(kiln.worker("w1", workflows=[plot]), server):
        assert await plot.aio_run({"x": 4}, timeout=10) == 4
        await plot.aio_run_no_wait({"y": 1})
        await server.until(lambda: len(server.results) == 2)
    failure = server.results[1]
    assert failure["retryable"] is False
    assert failure["error"].startswith("InvalidInputError: input of task plot:plot does not "
                                       "match Point")


async def test_cancellation_from_a_heartbeat_stops_async_and_sync_tasks(kiln, server):
    wf = kiln.workflow("cancel")
    async_cancelled, sync_cancelled = asyncio.Event(), threading.Event()

    @wf.task()
    async def waits(input, ctx):
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            async_cancelled.set()
            raise

    @wf.task()
    def spins(input, ctx):
        if ctx.wait_cancelled(10) and ctx.cancelled:
            sync_cancelled.set()
            ctx.check_cancelled()

    worker = kiln.worker("w1", workflows=[wf], slots=2)
    async with running(worker, server):
        await wf.aio_run_no_wait({})
        await server.until(lambda: len(server.leases) == 2)
        server.cancel_next |= {"run-1/waits", "run-1/spins"}
        await server.until(lambda: not server.cancel_next)
        await asyncio.wait_for(async_cancelled.wait(), 10)
        assert await asyncio.to_thread(sync_cancelled.wait, 10)
    assert server.results == []  # a cancelled task's result would only be rejected


async def test_a_blocked_event_loop_cannot_starve_heartbeats(kiln, server):
    release = threading.Event()

    @kiln.task()
    async def hog(input, ctx):
        release.wait(10)  # deliberately blocks the worker's event loop
        return "done"

    def release_after_three_heartbeats() -> None:
        server.wait_for(lambda: server.leases)
        seen = len(server.heartbeats)
        server.wait_for(lambda: len(server.heartbeats) >= seen + 3)
        release.set()

    async with running(kiln.worker("w1", workflows=[hog]), server):
        await hog.aio_run_no_wait({})
        helper = asyncio.create_task(asyncio.to_thread(release_after_three_heartbeats))
        await helper
        await server.until(lambda: server.results)
    assert server.results[0]["output"] == "done"
    assert any(beat == [{"task_run_id": "run-1/hog", "lease_id": server.results[0]["lease_id"]}]
               for beat in server.heartbeats)


async def test_results_are_batched(kiln, server):
    go = asyncio.Event()

    @kiln.task()
    async def quick(input, ctx):
        await go.wait()
        return input["i"]

    async with running(kiln.worker("w1", workflows=[quick], slots=20), server):
        await quick.aio_run_many_no_wait([{"i": i} for i in range(20)])
        await server.until(lambda: len(server.leases) == 20)
        go.set()
        await server.until(lambda: len(server.results) == 20)
    assert sum(server.result_batches) == 20
    assert len(server.result_batches) < 20


async def test_graceful_stop_waits_for_running_tasks(kiln, server):
    proceed = threading.Event()

    @kiln.task()
    def slow(input, ctx):
        proceed.wait(10)
        return "finished"

    worker = kiln.worker("w1", workflows=[slow], drain_timeout=10)
    task = asyncio.create_task(worker.astart())
    await started(server)
    await slow.aio_run_no_wait({})
    await server.until(lambda: server.leases)
    worker.stop()
    await asyncio.sleep(0)  # let the worker begin draining before the task may finish
    proceed.set()
    await asyncio.wait_for(task, 10)
    assert server.results[0]["output"] == "finished"
    assert server.requests[-1] == ("DELETE", f"/api/v1/workers/{worker.id}")


async def test_tasks_past_the_drain_deadline_are_released(kiln, server):
    never = threading.Event()

    @kiln.task()
    def stuck(input, ctx):
        never.wait(10)

    worker = kiln.worker("w1", workflows=[stuck], drain_timeout="50ms")
    try:
        async with running(worker, server):
            await stuck.aio_run_no_wait({})
            await server.until(lambda: server.leases)
        # Handed back at once (released), not left to wait out its lease.
        assert [r["status"] for r in server.results] == ["released"]
        assert server.deleted_workers == [worker.id]
    finally:
        never.set()


async def test_tasks_claimed_after_stop_are_released(kiln, server):
    @kiln.task()
    def unused(input, ctx):
        raise AssertionError("must not start")

    worker = kiln.worker("w1", workflows=[unused], slots=5)
    server.on_poll = lambda claimed: worker.stop()
    task = asyncio.create_task(worker.astart())
    await started(server)
    await unused.aio_run_many_no_wait([{}, {}])
    await asyncio.wait_for(task, 10)
    assert [r["status"] for r in server.results] == ["released", "released"]
    assert [len(server.queue), server.deleted_workers] == [2, [worker.id]]


async def test_a_forgotten_worker_registers_again(kiln, server):
    @kiln.task()
    def echo(input, ctx):
        return input

    worker = kiln.worker("w1", workflows=[echo])
    async with running(worker, server):
        assert await echo.aio_run({"n": 1}, timeout=10) == {"n": 1}
        first_id = worker.id
        server.workers.clear()  # as if the server had declared the worker lost
        assert await echo.aio_run({"n": 2}, timeout=10) == {"n": 2}
    assert worker.id != first_id


async def test_a_rejected_key_stops_the_worker_with_a_readable_error(server):
    client = Kiln(api_url="http://kiln.test", api_key="wrong", http_transport=server.transport())
    wf = client.workflow("w")
    wf.task(name="a")(lambda input, ctx: None)
    with pytest.raises(AuthenticationError, match="rejected the API key"):
        await asyncio.wait_for(client.worker("w1", workflows=[wf]).astart(), 10)


async def test_a_key_revoked_while_running_stops_the_worker(kiln, server):
    @kiln.task()
    def a(input, ctx):
        return None

    worker = kiln.worker("w1", workflows=[a])
    task = asyncio.create_task(worker.astart())
    await server.until(lambda: server.heartbeats)
    server.fail("/heartbeat", 401)
    with pytest.raises(AuthenticationError):
        await asyncio.wait_for(task, 10)
    assert server.deleted_workers == [worker.id]


async def test_an_unreachable_server_at_start_is_reported(server):
    server.fail("/api/v1/workflows", 503, 503, 503)
    client = Kiln(api_url="http://kiln.test", api_key=server.api_key,
                  retry=RetryPolicy(attempts=3, base_delay=0.001, max_delay=0.002),
                  http_transport=server.transport())
    wf = client.workflow("w")
    wf.task(name="a")(lambda input, ctx: None)
    with pytest.raises(Exception, match="unavailable: POST /api/v1/workflows answered 503") as info:
        await client.worker("w1", workflows=[wf]).astart()
    assert not isinstance(info.value, ServerUnavailableError)  # it answered, just not well


def test_stop_before_start_returns_at_once(kiln, server):
    @kiln.task()
    def a(input, ctx):
        return None

    worker = kiln.worker("w1", workflows=[a])
    worker.stop()
    asyncio.run(worker.astart())
    assert server.deleted_workers == [worker.id]


async def test_a_worker_runs_once(kiln, server):
    @kiln.task()
    def a(input, ctx):
        return None

    worker = kiln.worker("w1", workflows=[a])
    async with running(worker, server):
        pass
    with pytest.raises(RuntimeError, match="a Worker runs once"):
        await worker.astart()


async def test_a_blocking_call_inside_an_event_loop_works_and_warns_once(kiln, server, caplog):
    wf = kiln.workflow("w")
    wf.task(name="a")(lambda input, ctx: None)
    server.workflows["w"] = wf.definition()
    with caplog.at_level("WARNING", logger="kiln"):
        assert wf.run_no_wait({}).id == "run-1"
        assert wf.run_no_wait({}).id == "run-2"
    assert caplog.text.count("action=blocking_call_in_event_loop") == 1


async def test_tasks_refresh_their_timeout_and_spawn_deduplicated_children(kiln, server):
    @kiln.task()
    def child(input, ctx):
        return input["n"] * 10

    @kiln.task()
    async def parent(input, ctx):
        await ctx.aio_refresh_timeout("2m")
        first = await ctx.aio_spawn(child, {"n": 1}, key="only-once")
        again = await ctx.aio_spawn(child, {"n": 1}, key="only-once")
        assert first.id == again.id
        return await first.aio_result(timeout=10)

    @kiln.task()
    def sync_parent(input, ctx):
        ctx.refresh_timeout(90)
        refs = ctx.spawn_many("child", [{"n": 2}, {"n": 3}])
        return [ref.result(timeout=10) for ref in refs]

    async with running(kiln.worker("w1", workflows=[child, parent, sync_parent], slots=4),
                       server):
        assert await parent.aio_run({}, timeout=10) == 10
        assert await sync_parent.aio_run({}, timeout=10) == [{"child": 20}, {"child": 30}]
    assert [seconds for _, seconds in server.refreshes] == [120.0, 90.0]


async def test_a_refresh_after_the_lease_is_gone_raises_task_cancelled(kiln, server):
    seen: list[str] = []

    @kiln.task()
    async def late(input, ctx):
        server.leases.clear()  # as if the lease had expired under the task
        try:
            await ctx.aio_refresh_timeout(60)
        except TaskCancelledError as exc:
            seen.append(str(exc))

    async with running(kiln.worker("w1", workflows=[late]), server):
        await late.aio_run_no_wait({})
        await server.until(lambda: server.results)
    assert seen == ["cannot refresh the timeout of task run run-1/late: it no longer runs "
                    "under this lease (cancelled, timed out or lost)"]


async def test_a_batcher_counts_items_until_the_server_accepted_them():
    sending, release = asyncio.Event(), asyncio.Event()
    sent: list[list[int]] = []
    notified: list[int] = []

    async def send(batch: list[int]) -> None:
        sending.set()
        await release.wait()
        sent.append(batch)

    batcher = Batcher[int]("t", send, max_items=2, linger=0,
                           on_sent=lambda: notified.append(len(sent)))
    runner = asyncio.create_task(batcher.run())
    for item in (1, 2, 3):
        batcher.add(item)
    await sending.wait()
    assert (batcher.pending(), batcher.outstanding()) == (1, 3)  # two in flight, one waiting
    release.set()
    batcher.close()
    await runner
    assert (batcher.outstanding(), sent, notified) == (0, [[1, 2], [3]], [1, 2])


@pytest.mark.parametrize("concurrency", [1, 2])
async def test_a_batcher_keeps_up_to_its_concurrency_of_batches_in_flight(concurrency):
    release = asyncio.Event()
    in_flight: list[list[int]] = []
    most = 0
    sent: list[int] = []

    async def send(batch: list[int]) -> None:
        nonlocal most
        in_flight.append(batch)
        most = max(most, len(in_flight))
        await release.wait()
        in_flight.remove(batch)
        sent.extend(batch)

    batcher = Batcher[int]("t", send, max_items=2, linger=0, concurrency=concurrency)
    runner = asyncio.create_task(batcher.run())
    for item in range(6):
        batcher.add(item)
    for _ in range(20):  # the batcher's turns: it starts the sends it allows, and no more
        await asyncio.sleep(0)
    assert len(in_flight) == concurrency
    assert batcher.outstanding() == 6
    release.set()
    batcher.close()
    await runner
    assert (most, sorted(sent), batcher.outstanding()) == (concurrency, list(range(6)), 0)


async def test_a_batcher_lingers_only_while_more_items_are_coming():
    sent: list[list[int]] = []
    more_coming = True
    arrived = asyncio.Event()

    async def send(batch: list[int]) -> None:
        sent.append(batch)
        arrived.set()

    batcher = Batcher[int]("t", send, max_items=10, linger=60, linger_while=lambda: more_coming)
    runner = asyncio.create_task(batcher.run())
    batcher.add(1)
    for _ in range(20):  # the batcher's turns: it lingers (for up to a minute)
        await asyncio.sleep(0)
    assert sent == []
    more_coming = False  # e.g. the worker's last running task just finished
    batcher.add(2)
    await asyncio.wait_for(arrived.wait(), 5)
    batcher.close()
    await runner
    assert sent == [[1, 2]]
