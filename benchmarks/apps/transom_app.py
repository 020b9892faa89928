"""The four benchmark routes (see the bench README) served by the Transom framework.

Idiomatic framework code, the same work as the peers' Starlette app:
``transom run benchmarks.apps.transom_app:app`` or
``uvicorn benchmarks.apps.transom_app:app``.
"""

from __future__ import annotations

from transom import App, PlainTextResponse, Request

app = App()


@app.get("/plaintext")
async def plaintext() -> PlainTextResponse:
    return PlainTextResponse("Hello, World!")


@app.get("/json")
async def json_() -> dict[str, str]:
    return {"message": "Hello, World!"}


@app.get("/users/{user_id:int}/posts/{slug}")
async def params(request: Request, user_id: int, slug: str) -> dict[str, object]:
    try:
        page = int(request.query_params.get("page", "1"))
    except ValueError:
        page = 1
    return {"user_id": user_id, "slug": slug, "page": page}


@app.post("/echo")
async def echo(request: Request) -> PlainTextResponse:
    return PlainTextResponse(str(len(await request.body())))
