"""``transom demo``: an httpbin-compatible API and a notes site, on an embedded store.

>>> from transom.demo.app import create_app
>>> app = create_app(data_dir=Path(".transom-demo"))

The demo is also the reference app: it uses only Transom's public APIs.
Packages, one concept each: ``httpbin`` (the httpbin API at the root),
``site`` (the notes site, its JSON API, the index and ``/healthz``),
``storage`` (notes and their attachments, in SQLite or PostgreSQL),
``app`` (``create_app``, which puts them together) and ``cli``
(``transom demo``).
"""

from __future__ import annotations

from typing import Any

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    # The factory loads the whole site; `import transom.demo.httpbin` should not.
    if name == "create_app":
        from transom.demo.app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
