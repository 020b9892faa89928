"""The notes site, its JSON API, the index page and ``/healthz``.

Each module builds one ``Router``: ``home`` (``/`` and ``/healthz``),
``accounts`` (register, log in, log out, the landing page), ``notes``
(notes and attachments), ``admin`` (the admin page and API tokens) and
``api`` (``/api/notes``) and ``live`` (the ``/ws/echo`` WebSocket and the
live page that talks to it). The stores are found on ``app.state``
(``stores``), the form rules in ``validation``.
"""

from __future__ import annotations

from transom.demo.site.accounts import router as accounts_router
from transom.demo.site.admin import router as admin_router
from transom.demo.site.api import router as api_router
from transom.demo.site.home import router as home_router
from transom.demo.site.live import router as live_router
from transom.demo.site.notes import router as notes_router

__all__ = [
    "accounts_router",
    "admin_router",
    "api_router",
    "home_router",
    "live_router",
    "notes_router",
]
