"""A small app with log-in, log-out and guarded routes, for the auth tests."""

from __future__ import annotations

from typing import Any

from transom.web import App, RedirectResponse, Request, Router
from transom.web.auth import (
    BasicAuth,
    BearerAuth,
    UserStore,
    authenticate,
    login,
    logout,
    requires,
    safe_next,
)
from transom.web.csrf import csrf_token
from transom.web.sessions import MemoryStore

KEY = "test-secret-key-0123456789abcdef"


def make_app(users: UserStore, **options: Any) -> App:
    options.setdefault("session_store", MemoryStore())
    options.setdefault("auth_backends", [BearerAuth(users), BasicAuth(users)])
    app = App(secret_key=KEY, user_store=users, **options)

    @app.get("/login", name="login")
    async def login_page(request: Request) -> str:
        return "<form>log in</form>"

    @app.post("/login")
    async def do_login(request: Request) -> Any:
        form = await request.form()
        user = await authenticate(request, str(form["username"]), str(form["password"]))
        if user is None:
            return RedirectResponse("/login?failed=1", status_code=303)
        await login(request, user)
        return RedirectResponse(safe_next(request, request.query_params.get("next")), 303)

    @app.post("/password")
    async def change_password(request: Request) -> Any:
        # Sets the new password and keeps this session: log in again as the user now is.
        form = await request.form()
        await users.set_password(request.user.id, str(form["password"]))
        if "keep" in form:
            fresh = await users.get(request.user.id)
            assert fresh is not None
            await login(request, fresh)
        return {"changed": True}

    @app.post("/logout")
    async def do_logout(request: Request) -> Any:
        await logout(request)
        return {"user": request.user.username, "auth": request.auth}

    @app.get("/me")
    async def me(request: Request) -> Any:
        user = request.user
        return {"user": user.username, "auth": request.auth, "in": user.is_authenticated}

    @app.get("/token")
    async def token(request: Request) -> Any:
        return {"token": csrf_token(request)}

    @app.post("/change")
    async def change(request: Request) -> Any:
        return {"changed": True}

    @app.get("/private")
    @requires("login")
    async def private(request: Request) -> Any:
        return {"private": request.user.username}

    @app.get("/admin")
    @requires(role="admin")
    async def admin(request: Request) -> Any:
        return {"admin": True}

    @app.get("/staff")
    @requires(role=("admin", "editor"))
    async def staff(request: Request) -> Any:
        return {"staff": True}

    @app.get("/delete")
    @requires(permission="notes.delete")
    async def delete(request: Request) -> Any:
        return {"deleted": True}

    @app.get("/signin-only")
    @requires("login", login_route="signin")
    async def signin_only(request: Request) -> Any:
        return {"ok": True}

    reports = Router(prefix="/reports")

    @reports.get("/q1")
    async def q1(request: Request) -> Any:
        return {"q1": True}

    requires(role="admin")(reports)
    app.include(reports)
    return app
