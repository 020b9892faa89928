"""The admin page (role ``admin``) and each user's API tokens.

``/site/tokens`` issues a token (shown once, in the response to the POST
that made it, never stored in the session or anywhere else in clear) and
revokes the user's own tokens; a token id that is not the user's answers
404, as another user's note does.
"""

from __future__ import annotations

from transom.demo.site.stores import notes_of, users_of
from transom.demo.site.validation import field
from transom.exceptions import HTTPError
from transom.web import RedirectResponse, Request, Response, Router, flash, render
from transom.web.auth import requires

__all__ = ["router"]

router = Router(prefix="/site")

MAX_TOKEN_NAME = 100
MAX_TOKENS = 20


@router.get("/admin", name="admin")
@requires(role="admin")
async def admin(request: Request) -> Response:
    users = await users_of(request).list()
    counts = await notes_of(request).counts()
    rows = [(user, counts.get(user.id, 0)) for user in users]
    return render(request, "site/admin.html", rows=rows, total=sum(counts.values()))


async def _tokens_page(
    request: Request, *, status_code: int = 200, new_token: str | None = None, error: str = ""
) -> Response:
    tokens = await users_of(request).list_tokens(request.user.id)
    response = render(
        request,
        "site/tokens.html",
        status_code=status_code,
        tokens=tokens,
        new_token=new_token,
        error=error,
    )
    if new_token is not None:  # the one page that holds the secret: keep it out of caches
        response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/tokens", name="tokens")
@requires("login")
async def tokens_page(request: Request) -> Response:
    return await _tokens_page(request)


@router.post("/tokens", name="change_tokens")
@requires("login")
async def change_tokens(request: Request) -> Response:
    """``action=issue`` (with an optional ``name``) or ``action=revoke`` (``token_id``)."""
    form = await request.form()
    users = users_of(request)
    if field(form, "action") == "revoke":
        token_id = field(form, "token_id")
        mine = {token.id for token in await users.list_tokens(request.user.id)}
        if token_id not in mine:
            raise HTTPError(404, "no such token")
        await users.revoke_token(token_id)
        flash(request, "Token revoked.", "info")
        return RedirectResponse(request.app.url_for("tokens"), status_code=303)
    name = field(form, "name").strip()
    if len(name) > MAX_TOKEN_NAME:
        error = f"A token name has at most {MAX_TOKEN_NAME} characters."
        return await _tokens_page(request, status_code=400, error=error)
    if len(await users.list_tokens(request.user.id)) >= MAX_TOKENS:
        error = f"You have {MAX_TOKENS} tokens already; revoke one first."
        return await _tokens_page(request, status_code=400, error=error)
    _, plaintext = await users.issue_token(request.user.id, name=name)
    return await _tokens_page(request, status_code=201, new_token=plaintext)
