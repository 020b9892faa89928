"""Pure ASGI middleware, one class per module; wrap an app with ``Middleware(app, **options)``.

>>> app = CORSMiddleware(GZipMiddleware(app), allow_origins=["https://example.com"])
"""

from __future__ import annotations

from transom.web.conditional import ConditionalGetMiddleware
from transom.web.middleware.cors import CORSMiddleware
from transom.web.middleware.gzip import CompressionMiddleware, GZipMiddleware
from transom.web.middleware.httpsredirect import HTTPSRedirectMiddleware
from transom.web.middleware.trustedhost import TrustedHostMiddleware

__all__ = [
    "CORSMiddleware",
    "CompressionMiddleware",
    "ConditionalGetMiddleware",
    "GZipMiddleware",
    "HTTPSRedirectMiddleware",
    "TrustedHostMiddleware",
]
