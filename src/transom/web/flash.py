"""Flashed messages: a note for the user's next page ("Note saved").

>>> flash(request, "Note saved")
>>> flash(request, "Wrong password", "error")
>>> return RedirectResponse(request.url_for("index"), status_code=303)

and in the next page's template::

    {% for category, message in get_flashed_messages(with_categories=True) %}
      <p class="{{ category }}">{{ message }}</p>
    {% endfor %}

Theory of operation
-------------------
Messages live in the session, under ``"_flashes"``, as a list of
``[category, message]`` pairs (JSON, like everything in a session).
``flash`` appends one; that modifies the session, so it is saved and its
cookie sent with this response. ``get_flashed_messages`` takes the whole
list out of the session the first time it is called in a request (each
message is shown once, as in Flask) and keeps it in the request's scope,
so several calls in one request (errors in one place, the rest in another)
all see the same messages. A request that finds no messages leaves the
session unmodified: reading costs no ``Set-Cookie`` and no store write.

Sessions come from ``App(secret_key=...)``; without them, ``flash`` and
``get_flashed_messages`` raise ``ConfigurationError`` (the template global
of the same name shows nothing instead, so one layout serves both kinds of
app).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from transom.exceptions import ConfigurationError
from transom.web.requests import Request

if TYPE_CHECKING:
    from transom.web.sessions import Session

__all__ = ["FLASHES_KEY", "flash", "get_flashed_messages"]

#: The session key holding the pending messages.
FLASHES_KEY = "_flashes"
# Scope key: the messages taken out of the session by this request.
_TAKEN = "transom.flashes"


def _session(request: Request, what: str) -> Session:
    session: Session | None = request.scope.get("session")  # set by an app with sessions
    if session is None:
        raise ConfigurationError(
            f"{what}() keeps messages in the session, and this app has none: pass "
            "App(secret_key=...) to turn sessions on"
        )
    return session


def flash(request: Request, message: str, category: str = "info") -> None:
    """Keep ``message`` for the next page this user sees (in ``category``).

    >>> flash(request, "Signed out")
    >>> flash(request, "That title is taken", "error")
    """
    session = _session(request, "flash")
    pending = session.get(FLASHES_KEY) or []
    session[FLASHES_KEY] = [*pending, [category, message]]  # assigned: the session is modified


def get_flashed_messages(
    request: Request,
    with_categories: bool = False,
    category_filter: Iterable[str] = (),
) -> list[Any]:
    """The messages flashed for this user, each returned once (then gone from the session).

    >>> get_flashed_messages(request)
    ['Note saved']
    >>> get_flashed_messages(request, with_categories=True, category_filter=["error"])
    [('error', 'That title is taken')]

    ``with_categories`` gives ``(category, message)`` pairs; ``category_filter``
    keeps only those categories.
    """
    scope = request.scope
    taken: list[tuple[str, Any]] | None = scope.get(_TAKEN)
    if taken is None:
        session = _session(request, "get_flashed_messages")
        if FLASHES_KEY in session:  # a read: a session without messages stays unmodified
            taken = [(category, message) for category, message in session.pop(FLASHES_KEY)]
        else:
            taken = []
        scope[_TAKEN] = taken
    wanted = set(category_filter) if not isinstance(category_filter, str) else {category_filter}
    selected = [pair for pair in taken if pair[0] in wanted] if wanted else taken
    if with_categories:
        return list(selected)
    return [message for _, message in selected]
