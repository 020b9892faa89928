"""``transom http --session NAME``: headers, cookies and auth kept between runs.

A session is a JSON file: ``NAME`` (letters, digits, ``-_.``) lives in
``$XDG_CONFIG_HOME/transom/sessions/<host>/<NAME>.json`` (``~/.config`` by
default), so a name is per host; anything with a ``/`` or ending in ``.json``
is a path. The file is written with mode 0600: it holds credentials.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from transom.client.cookiejar import Cookie, CookieJar

__all__ = ["Session", "session_path"]

_NAME = re.compile(r"[A-Za-z0-9_.-]+")
# Headers describing one request's body, never kept in a session.
_NOT_KEPT = {"content-type", "content-length", "transfer-encoding", "cookie", "host"}


def session_path(name: str, host: str) -> Path:
    if "/" in name or name.endswith(".json") or not _NAME.fullmatch(name):
        return Path(name).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    safe_host = host.replace(":", "_")
    return Path(base) / "transom" / "sessions" / safe_host / f"{name}.json"


class Session:
    """The stored state of one session file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.headers: dict[str, str] = {}
        self.auth: dict[str, str] | None = None
        self.cookies: list[dict[str, Any]] = []
        if path.exists():
            data = json.loads(path.read_text(encoding="utf-8"))
            self.headers = dict(data.get("headers", {}))
            self.auth = data.get("auth")
            self.cookies = list(data.get("cookies", []))

    def load_cookies(self, jar: CookieJar) -> None:
        for entry in self.cookies:
            jar._store(Cookie(**entry))

    def update(
        self, headers: list[tuple[str, str]], auth: dict[str, str] | None, jar: CookieJar
    ) -> None:
        for name, value in headers:
            if name.lower() not in _NOT_KEPT:
                self.headers[name] = value
        if auth is not None:
            self.auth = auth
        self.cookies = [
            {slot: getattr(c, slot) for slot in Cookie.__dataclass_fields__} for c in jar
        ]

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = {"headers": self.headers, "auth": self.auth, "cookies": self.cookies}
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=2)
