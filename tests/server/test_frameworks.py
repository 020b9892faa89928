"""Starlette and FastAPI applications served through our server, driven by httpx."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from pydantic import BaseModel
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, StreamingResponse
from starlette.routing import Route

from .processes import ServerProcess


def starlette_app() -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        yield {"greeting": "hello"}

    async def user(request: Request) -> JSONResponse:
        return JSONResponse(
            {
                "id": request.path_params["user_id"],
                "page": request.query_params.get("page"),
                "greeting": request.state.greeting,
            }
        )

    async def echo(request: Request) -> PlainTextResponse:
        return PlainTextResponse(str(len(await request.body())))

    async def stream(request: Request) -> StreamingResponse:
        async def parts() -> AsyncIterator[bytes]:
            for i in range(3):
                yield f"part{i};".encode()

        return StreamingResponse(parts(), media_type="text/plain")

    routes = [
        Route("/users/{user_id:int}", user),
        Route("/echo", echo, methods=["POST"]),
        Route("/stream", stream),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


async def test_frameworks_starlette(serve: Any) -> None:
    server = await serve(starlette_app())
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as client:
        response = await client.get("/users/42", params={"page": "3"})
        assert response.json() == {"id": 42, "page": "3", "greeting": "hello"}
        assert (await client.post("/echo", content=b"x" * 100_000)).text == "100000"
        assert (await client.get("/stream")).text == "part0;part1;part2;"
        assert (await client.get("/nowhere")).status_code == 404


class Item(BaseModel):
    name: str
    price: float


def fastapi_app() -> FastAPI:
    app = FastAPI()

    @app.post("/items/{item_id}")
    async def create(item_id: int, item: Item) -> dict[str, Any]:
        return {"id": item_id, "name": item.name, "total": item.price * 2}

    @app.get("/sync")
    def sync_handler() -> dict[str, str]:
        return {"ran": "in a thread"}

    return app


async def test_frameworks_fastapi(serve: Any) -> None:
    server = await serve(fastapi_app())
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as client:
        response = await client.post("/items/7", json={"name": "pen", "price": 1.5})
        assert response.json() == {"id": 7, "name": "pen", "total": 3.0}
        bad = await client.post("/items/7", json={"name": "pen"})
        assert bad.status_code == 422
        assert (await client.get("/sync")).json() == {"ran": "in a thread"}


STARLETTE_MODULE = """
import anyio
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

async def timed(request):
    with anyio.fail_after(5):
        await anyio.sleep(0.01)
    return PlainTextResponse("in time")

app = Starlette(routes=[Route("/", timed)])
"""


async def test_frameworks_starlette_on_uvloop_subprocess(tmp_path: Path) -> None:
    (tmp_path / "starletteapp.py").write_text(STARLETTE_MODULE)
    server = await ServerProcess.start(
        tmp_path, "starletteapp:app", "--port", "0", "--loop", "uvloop"
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as client:
            for _ in range(3):
                assert (await client.get("/")).text == "in time"
        server.signal()
        assert await server.wait() == 0
    finally:
        await server.stop()
