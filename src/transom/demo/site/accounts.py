"""Accounts: the landing page, register, log in, log out, change the password.

The first user to register becomes ``admin``. Which user is first is
decided after the insert, by the smallest id, so two registrations racing
on an empty site still make exactly one admin.

Log-in is throttled twice: ``authenticate`` counts failures per username
and per client address (429 past the limit, before any password check),
and ``rate_limit`` bounds every log-in POST per address, failed or not.
Registration is rate limited too: each one costs an argon2 hash.

Changing the password asks for the current one (checked by the same
throttled ``authenticate``, so the form is no way around the log-in
limits), then logs this session in again as the user now is: every other
session of the user, logged in with the old password, is logged out at its
next request.
"""

from __future__ import annotations

from transom.demo.site.stores import users_of
from transom.demo.site.validation import field, password_errors, registration_errors
from transom.web import RedirectResponse, Request, Response, Router, flash, render
from transom.web.auth import (
    InvalidPassword,
    InvalidUsername,
    UserExists,
    authenticate,
    login,
    logout,
    requires,
    safe_next,
)
from transom.web.ratelimit import rate_limit

__all__ = ["router"]

router = Router(prefix="/site")


def _next_of(request: Request, given: str = "") -> str:
    target = given or request.query_params.get("next") or ""
    return safe_next(request, target, default=request.app.url_for("notes"))


@router.get("/", name="site")
async def landing(request: Request) -> Response:
    return render(request, "site/landing.html")


@router.get("/register", name="register")
async def register_page(request: Request) -> Response:
    return render(request, "site/register.html", values={}, errors={})


@router.post("/register", name="do_register")
@rate_limit("10/minute", name="site-register")
async def register(request: Request) -> Response:
    form = await request.form()
    username, password = field(form, "username"), field(form, "password")
    values = {"username": username}
    errors = registration_errors(username, password, field(form, "password2"))
    if not errors:
        users = users_of(request)
        try:
            user = await users.create(username, password)
        except UserExists:
            errors["username"] = "That username is taken; choose another."
        except InvalidUsername as exc:
            errors["username"] = str(exc).capitalize() + "."
        except InvalidPassword as exc:
            errors["password"] = str(exc).capitalize() + "."
        else:
            if min(other.id for other in await users.list()) == user.id:
                await users.add_role(user.id, "admin")
                user = await users.get(user.id) or user
            await login(request, user)
            flash(request, f"Welcome, {user.username}! Your account is ready.", "success")
            return RedirectResponse(request.app.url_for("notes"), status_code=303)
    return render(request, "site/register.html", status_code=400, values=values, errors=errors)


@router.get("/login", name="login")
async def login_page(request: Request) -> Response:
    values = {"next": request.query_params.get("next", "")}
    return render(request, "site/login.html", values=values, errors={})


@router.post("/login", name="do_login")
@rate_limit("30/minute", name="site-login")
async def do_login(request: Request) -> Response:
    form = await request.form()
    username, password = field(form, "username"), field(form, "password")
    values = {"username": username, "next": field(form, "next")}
    errors = {}
    if not username:
        errors["username"] = "Enter your username."
    if not password:
        errors["password"] = "Enter your password."  # noqa: S105 - a message
    if not errors:
        user = await authenticate(request, username, password)  # 429 when throttled
        if user is not None:
            await login(request, user)
            flash(request, f"Welcome back, {user.username}.", "success")
            return RedirectResponse(_next_of(request, values["next"]), status_code=303)
        errors["form"] = "Wrong username or password."
    return render(request, "site/login.html", status_code=400, values=values, errors=errors)


@router.post("/logout", name="logout")
async def do_logout(request: Request) -> Response:
    await logout(request)
    flash(request, "You are logged out.", "info")
    return RedirectResponse(request.app.url_for("login"), status_code=303)


@router.get("/password", name="password")
@requires("login")
async def password_page(request: Request) -> Response:
    return render(request, "site/password.html", values={}, errors={})


@router.post("/password", name="change_password")
@requires("login")
@rate_limit("10/minute", name="site-password")
async def change_password(request: Request) -> Response:
    form = await request.form()
    current, new = field(form, "current"), field(form, "new")
    errors = password_errors(new, field(form, "new2"), "new", "new2")
    if not current:
        errors["current"] = "Enter your current password."
    elif not errors:
        user = request.user
        if await authenticate(request, user.username, current) is None:  # 429 when throttled
            errors["current"] = "That is not your current password."
        else:
            users = users_of(request)
            try:
                await users.set_password(user.id, new)
            except InvalidPassword as exc:
                errors["new"] = str(exc).capitalize() + "."
            else:
                await login(request, await users.get(user.id) or user)
                flash(
                    request,
                    "Your password is changed; your other sessions are logged out.",
                    "success",
                )
                return RedirectResponse(request.app.url_for("notes"), status_code=303)
    return render(request, "site/password.html", status_code=400, values={}, errors=errors)
