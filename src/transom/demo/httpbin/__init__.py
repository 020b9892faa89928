"""An httpbin-compatible API (httpbin 0.10): the same paths, methods, JSON, status codes,
headers and redirects, so httpbin-based client tests run against it unchanged.

>>> from transom import App
>>> from transom.demo.httpbin import router
>>> app = App()
>>> app.include(router())

One module per theme: ``inspection`` (the methods, ``/anything``,
``/headers``...), ``redirects`` (``/status``, ``/redirect``...),
``cookies``, ``auth`` (Basic, Bearer, Digest), ``formats`` (``/gzip``,
``/html``...), ``dynamic`` (``/bytes``, ``/drip``, ``/delay``...),
``caching``, ``images`` and ``spec`` (``/openapi.json``). ``_common``
holds what they share: the request as a dict, httpbin's JSON and CORS.

The routes are exempt from CSRF checks (they are an echo service that
changes nothing) and never touch the session. Unlike httpbin, responses
allow every origin without credentials (``Access-Control-Allow-Origin: *``,
no ``Allow-Credentials``): ``/cookies`` and ``/headers`` show the cookies
sent, and a credentialed cross-origin read would hand another page the
visitor's session cookie.
"""

from __future__ import annotations

from transom import Router
from transom.demo.httpbin import (
    auth,
    caching,
    cookies,
    dynamic,
    formats,
    images,
    inspection,
    redirects,
    spec,
)
from transom.demo.httpbin._common import Registrar
from transom.demo.httpbin.spec import openapi
from transom.web.csrf import csrf_exempt

__all__ = ["openapi", "router"]


def router(*, base_path: str = "") -> Router:
    """Every httpbin endpoint at httpbin's paths under ``base_path`` (``""`` or ``"/httpbin"``)."""
    routes = Router(prefix=base_path)
    add = Registrar(routes, base_path)
    for module in (inspection, redirects, cookies, auth, formats, dynamic, caching, images, spec):
        module.add_routes(add)
    return csrf_exempt(routes)
