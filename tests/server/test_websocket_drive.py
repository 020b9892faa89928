"""Direct steps: a message for an app parked in ``receive()`` runs the app's
next step inside ``data_received`` (``Driven.step``), over a real socket.

Each test checks that what an app sees is what a Task would have given it:
the same current task, its context variables, timeouts, cancellation and
the endings (1000, 1011, 1001); and that the rare paths (an app that awaits
something else, a receive() in a child task) hand over to the Task.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from transom._types import Message, Receive, Scope, Send
from transom.server import Server, ServerConfig
from transom.server.driven import Driven
from transom.server.eager import EagerStarter

from .rawhttp import WAIT
from .test_websocket import Peer, StartServer, peers, serve_ws, wait_for

__all__ = ["peers", "serve_ws"]  # fixtures, imported to be used here

tag: contextvars.ContextVar[str] = contextvars.ContextVar("tag", default="unset")


class Steps:
    """What ``Driven.step`` did for the sessions of a test: the values it
    sent in directly, and those it left to the app's Task."""

    def __init__(self) -> None:
        self.made: list[Driven] = []

    @property
    def stepped(self) -> int:
        return sum(driven.stepped for driven in self.made)

    @property
    def declined(self) -> int:
        return sum(driven.declined for driven in self.made)

    def counts(self) -> tuple[int, int]:
        return self.stepped, self.declined


@pytest.fixture
def steps(monkeypatch: pytest.MonkeyPatch) -> Iterator[Steps]:
    """Every ``Driven`` the server makes in a test, to read its counts."""
    found = Steps()
    spawn = EagerStarter.spawn

    def recording(self: EagerStarter, coro: Any, done: Any) -> Driven:
        driven = spawn(self, coro, done)
        found.made.append(driven)
        return driven

    monkeypatch.setattr(EagerStarter, "spawn", recording)
    yield found


async def accepted(receive: Receive, send: Send) -> None:
    assert (await receive())["type"] == "websocket.connect"
    await send({"type": "websocket.accept"})


async def echo_rounds(peer: Peer, count: int) -> list[str | bytes]:
    """Send ``count`` messages one after another, each after the last answer."""
    answers = []
    for number in range(count):
        peer.send_text(str(number))
        answers.append(await peer.message())
    return answers


async def test_websocket_drive_messages_are_stepped_directly(
    serve_ws: StartServer, peers: Any, steps: Steps
) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await accepted(receive, send)
        while (message := await receive())["type"] == "websocket.receive":
            await send({"type": "websocket.send", "text": message["text"]})

    server = await serve_ws(app)
    peer = await peers(server.port)
    assert await echo_rounds(peer, 5) == ["0", "1", "2", "3", "4"]
    assert steps.counts() == (5, 0)


async def test_websocket_drive_current_task_is_the_same_across_messages(
    serve_ws: StartServer, peers: Any, steps: Steps
) -> None:
    seen: list[asyncio.Task[Any] | None] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await accepted(receive, send)
        seen.append(asyncio.current_task())
        while (message := await receive())["type"] == "websocket.receive":
            seen.append(asyncio.current_task())
            await send({"type": "websocket.send", "text": message["text"]})

    server = await serve_ws(app)
    peer = await peers(server.port)
    await echo_rounds(peer, 3)
    assert steps.counts() == (3, 0)
    assert seen[0] is not None and seen == [seen[0]] * 4
    assert seen[0] is not asyncio.current_task()


async def test_websocket_drive_context_persists_and_stays_per_connection(
    serve_ws: StartServer, peers: Any, steps: Steps
) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await accepted(receive, send)
        while (message := await receive())["type"] == "websocket.receive":
            before = tag.get()
            tag.set(message["text"])  # for the next message of this connection only
            await send({"type": "websocket.send", "text": before})

    server = await serve_ws(app)
    first = await peers(server.port)
    second = await peers(server.port)
    first.send_text("a1")
    assert await first.message() == "unset"
    second.send_text("b1")
    assert await second.message() == "unset"
    first.send_text("a2")
    assert await first.message() == "a1"
    second.send_text("b2")
    assert await second.message() == "b1"
    assert tag.get() == "unset"
    assert steps.counts() == (4, 0)


@pytest.mark.parametrize("pause", ["sleep0", "future", "sleep"])
async def test_websocket_drive_app_awaiting_between_messages_hands_over(
    serve_ws: StartServer, peers: Any, steps: Steps, pause: str
) -> None:
    async def wait() -> None:
        if pause == "sleep0":
            await asyncio.sleep(0)
        elif pause == "sleep":
            await asyncio.sleep(0.001)
        else:
            future = asyncio.get_running_loop().create_future()
            asyncio.get_running_loop().call_soon(future.set_result, None)
            await future

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await accepted(receive, send)
        while (message := await receive())["type"] == "websocket.receive":
            await wait()
            await send({"type": "websocket.send", "text": message["text"]})
            await wait()

    server = await serve_ws(app)
    peer = await peers(server.port)
    assert await echo_rounds(peer, 4) == ["0", "1", "2", "3"]
    peer.send_text("x")
    peer.send_text("y")  # in one go: the second waits for the app's reaction
    assert [await peer.message(), await peer.message()] == ["x", "y"]
    assert steps.stepped and not steps.declined


async def test_websocket_drive_timeout_around_receive(
    serve_ws: StartServer, peers: Any, steps: Steps
) -> None:
    timeouts = 0
    timed_out = asyncio.Event()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        nonlocal timeouts
        await accepted(receive, send)
        while True:
            try:
                async with asyncio.timeout(0.05):
                    message = await receive()
            except TimeoutError:
                timeouts += 1
                timed_out.set()
                continue
            if message["type"] != "websocket.receive":
                return
            task = asyncio.current_task()
            assert task is not None and not task.cancelling()
            await send({"type": "websocket.send", "text": f"{message['text']}/{timeouts}"})

    server = await serve_ws(app)
    peer = await peers(server.port)
    peer.send_text("a")
    assert await peer.message() == "a/0"  # answered within the timeout: none fired
    await wait_for(timed_out)
    count = timeouts
    peer.send_text("b")
    answer = await peer.message()
    assert isinstance(answer, str) and answer.startswith("b/")
    assert int(answer.split("/")[1]) >= count >= 1
    assert steps.stepped and not steps.declined


async def test_websocket_drive_receive_in_a_child_task_is_not_stepped(
    serve_ws: StartServer, peers: Any, steps: Steps
) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await accepted(receive, send)
        while True:
            message = await asyncio.create_task(receive())
            if message["type"] != "websocket.receive":
                return
            await send({"type": "websocket.send", "text": message["text"]})

    server = await serve_ws(app)
    peer = await peers(server.port)
    assert await echo_rounds(peer, 3) == ["0", "1", "2"]
    assert steps.counts() == (0, 3)  # the app's Task does not wait on the receive: resolved


async def test_websocket_drive_send_from_another_task_while_parked(
    serve_ws: StartServer, peers: Any, steps: Steps
) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await accepted(receive, send)

        async def push() -> None:
            for number in range(3):
                await send({"type": "websocket.send", "text": f"push {number}"})
                await asyncio.sleep(0)

        pusher = asyncio.create_task(push())
        while (message := await receive())["type"] == "websocket.receive":
            await send({"type": "websocket.send", "text": message["text"]})
        await pusher

    server = await serve_ws(app)
    peer = await peers(server.port)
    peer.send_text("hello")
    got = {await peer.message() for _ in range(4)}
    assert got == {"push 0", "push 1", "push 2", "hello"}


async def test_websocket_drive_app_raising_in_a_step_closes_1011(
    serve_ws: StartServer, peers: Any, steps: Steps, caplog: pytest.LogCaptureFixture
) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await accepted(receive, send)
        await receive()
        raise RuntimeError("boom")

    server = await serve_ws(app)
    peer = await peers(server.port)
    with caplog.at_level(logging.ERROR, "transom.error"):
        peer.send_text("go")
        assert (await peer.closed_with()).code == 1011
        peer.answer()
        assert await peer.tcp_closed()
    assert steps.counts() == (1, 0)
    records = [r for r in caplog.records if r.name == "transom.error"]
    assert len(records) == 1 and "Exception in ASGI application" in records[0].getMessage()
    assert isinstance(records[0].exc_info and records[0].exc_info[1], RuntimeError)


async def test_websocket_drive_app_returning_in_a_step_closes_1000(
    serve_ws: StartServer, peers: Any, steps: Steps, caplog: pytest.LogCaptureFixture
) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await accepted(receive, send)
        message = await receive()
        await send({"type": "websocket.send", "text": message["text"]})

    server = await serve_ws(app)
    peer = await peers(server.port)
    with caplog.at_level(logging.ERROR, "transom.error"):
        peer.send_text("last")
        assert await peer.message() == "last"
        assert (await peer.closed_with()).code == 1000
    assert steps.counts() == (1, 0)
    assert not [r for r in caplog.records if r.name == "transom.error"]


async def test_websocket_drive_shutdown_while_parked_gives_1001(peers: Any) -> None:
    seen: list[Message] = []
    tasks: list[asyncio.Task[Any] | None] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await accepted(receive, send)
        while (message := await receive())["type"] == "websocket.receive":
            tasks.append(asyncio.current_task())
            await send({"type": "websocket.send", "text": message["text"]})
        seen.append(message)

    server = Server(ServerConfig(app, port=0, lifespan="off", access_log=False))
    serving = asyncio.create_task(server.serve())
    try:
        await asyncio.wait_for(server.started.wait(), WAIT)
        peer = await peers(server.port)
        assert await echo_rounds(peer, 2) == ["0", "1"]
        server.request_shutdown()
        assert (await peer.closed_with()).code == 1001
        peer.answer()
        assert await peer.tcp_closed()
        await asyncio.wait_for(serving, WAIT)
        assert seen == [{"type": "websocket.disconnect", "code": 1001, "reason": ""}]
        assert tasks[0] is tasks[1]
    finally:
        server.request_shutdown()
        await asyncio.wait_for(serving, 15)


async def test_websocket_drive_cancelled_while_parked_sees_cancellation(
    serve_ws: StartServer, peers: Any, steps: Steps
) -> None:
    outcome: list[str] = []
    parked = asyncio.Event()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await accepted(receive, send)
        message = await receive()
        await send({"type": "websocket.send", "text": message["text"]})
        parked.set()
        try:
            await receive()
        except asyncio.CancelledError:
            outcome.append("cancelled")
            raise

    server = await serve_ws(app)
    peer = await peers(server.port)
    assert await echo_rounds(peer, 1) == ["0"]
    assert steps.counts() == (1, 0)
    await wait_for(parked)
    assert server.state is not None
    session = next(c for c in server.state.connections if hasattr(c, "task"))
    assert session.task is not None
    session.task.cancel()
    peer.send_text("after the cancel")  # not stepped: a cancellation is pending
    assert (await peer.closed_with()).code == 1000
    assert outcome == ["cancelled"]
    assert steps.stepped == 1  # nothing more was stepped


async def test_websocket_drive_starlette_endpoint_echoes(
    serve_ws: StartServer, peers: Any, steps: Steps
) -> None:
    from starlette.applications import Starlette
    from starlette.routing import WebSocketRoute
    from starlette.websockets import WebSocket, WebSocketDisconnect

    async def endpoint(websocket: WebSocket) -> None:
        await websocket.accept()
        try:
            while True:
                text = await websocket.receive_text()
                await websocket.send_text(f"{text}!")
        except WebSocketDisconnect:
            pass

    server = await serve_ws(Starlette(routes=[WebSocketRoute("/ws", endpoint)]))
    peer = await peers(server.port)
    assert await echo_rounds(peer, 3) == ["0!", "1!", "2!"]
    assert steps.counts() == (3, 0)
    peer.close()
    assert (await peer.closed_with()).code == 1000


# --- Driven on its own: the rare paths, without a socket ------------------------------


class Parked:
    """A coroutine's parking spot, as the session's receive() makes it."""

    def __init__(self) -> None:
        self.future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

    def __await__(self) -> Any:
        self.future._asyncio_future_blocking = True
        sent = yield self.future
        return self.future.result() if sent is None else sent


def drive(coro: Any) -> tuple[Driven, list[BaseException | None]]:
    ended: list[BaseException | None] = []
    return Driven(asyncio.get_running_loop(), coro, ended.append), ended


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_websocket_drive_step_from_inside_a_task_is_refused() -> None:
    parked = Parked()

    async def work() -> Any:
        return await parked

    driven, ended = drive(work())
    await settle()
    assert driven.waiting_on is parked.future
    assert not driven.step(parked.future, "value")  # this test runs in a task
    parked.future.set_result("resolved")
    await settle()
    assert ended == [None] and driven.task.done()


async def test_websocket_drive_cancel_before_the_driver_takes_over() -> None:
    parked = Parked()
    seen: list[str] = []
    other: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def work() -> None:
        seen.append(await parked)
        try:
            await other
        except asyncio.CancelledError:
            seen.append("cancelled")
            raise

    driven, ended = drive(work())
    await settle()
    stepped: list[bool] = []
    # From a callback (no task running), as data_received would.
    asyncio.get_running_loop().call_soon(
        lambda: (stepped.append(driven.step(parked.future, "hi")), driven.task.cancel())
    )
    await settle()
    assert stepped == [True]
    assert seen == ["hi", "cancelled"] and other.cancelled()
    assert len(ended) == 1 and isinstance(ended[0], asyncio.CancelledError)
    assert driven.task.cancelled()


async def test_websocket_drive_bare_yield_in_a_step_goes_on() -> None:
    parked = Parked()
    seen: list[str] = []

    async def work() -> None:
        seen.append(await parked)
        await asyncio.sleep(0)
        seen.append("after the sleep")

    driven, ended = drive(work())
    await settle()
    asyncio.get_running_loop().call_soon(driven.step, parked.future, "hi")
    await settle()
    assert seen == ["hi", "after the sleep"] and ended == [None]
