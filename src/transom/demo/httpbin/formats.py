"""Response formats: ``/gzip``, ``/deflate``, ``/brotli``, ``/encoding/utf8``, ``/html``, ``/json``,
``/xml``, ``/robots.txt``, ``/deny`` and the HTML form at ``/forms/post``."""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Callable
from typing import Any

from markupsafe import escape

from transom import Request, Response
from transom.demo.httpbin._common import (
    Registrar,
    dumps,
    get_dict,
    json_response,
    path_for,
    raw_response,
)
from transom.demo.httpbin._texts import ANGRY_ASCII, MOBY_HTML, ROBOTS_TXT, SAMPLE_XML, UTF8_DEMO

__all__ = ["add_routes", "brotli_compress"]


def _stored_brotli(data: bytes) -> bytes:
    """A valid Brotli stream holding ``data`` uncompressed (RFC 7932 §9.2), without a library.

    A window of 16 bits, then meta-blocks of at most 65536 bytes marked
    ``ISUNCOMPRESSED``, then an empty last meta-block.
    """
    bits = 0  # window bits: a single 0 bit means 16
    count = 1
    out = bytearray()

    def flush_to_byte() -> None:
        nonlocal bits, count
        out.extend(bits.to_bytes((count + 7) // 8, "little"))
        bits, count = 0, 0

    for start in range(0, len(data), 65536):
        block = data[start : start + 65536]
        # ISLAST=0, MNIBBLES=4 (code 0), MLEN-1 in 16 bits, ISUNCOMPRESSED=1.
        for value, width in ((0, 1), (0, 2), (len(block) - 1, 16), (1, 1)):
            bits |= value << count
            count += width
        flush_to_byte()
        out.extend(block)
    bits |= 0b11 << count  # ISLAST=1, ISLASTEMPTY=1
    count += 2
    flush_to_byte()
    return bytes(out)


def _library_brotli() -> Callable[[bytes], bytes] | None:
    try:
        import brotli
    except ImportError:
        return None
    compress: Callable[[bytes], bytes] = brotli.compress
    return compress


_brotli = _library_brotli()


def brotli_compress(data: bytes) -> bytes:
    """Brotli with the ``brotli`` package when installed, else stored (uncompressed) blocks."""
    return _brotli(data) if _brotli is not None else _stored_brotli(data)


def _encoded(response: Response, body: bytes, encoding: str) -> Response:
    response.body = body
    headers = response.headers
    headers["Content-Encoding"] = encoding
    headers["Content-Length"] = str(len(body))
    return response


async def view_gzip(request: Request) -> Response:
    data = await get_dict(request, "origin", "headers", method=request.method, gzipped=True)
    response = json_response(data)
    return _encoded(response, gzip.compress(response.body, compresslevel=4), "gzip")


async def view_deflate(request: Request) -> Response:
    data = await get_dict(request, "origin", "headers", method=request.method, deflated=True)
    response = json_response(data)
    return _encoded(response, zlib.compress(response.body), "deflate")


async def view_brotli(request: Request) -> Response:
    data = await get_dict(request, "origin", "headers", method=request.method, brotli=True)
    response = json_response(data)
    return _encoded(response, brotli_compress(response.body), "br")


def _fixed(body: str, content_type: str) -> Callable[[Request], Any]:
    encoded = body.encode("utf-8")

    async def view(request: Request) -> Response:
        return raw_response(encoded, content_type=content_type)

    return view


_SLIDESHOW = {
    "slideshow": {
        "title": "Sample Slide Show",
        "date": "date of publication",
        "author": "Yours Truly",
        "slides": [
            {"type": "all", "title": "Wake up to WonderWidgets!"},
            {
                "type": "all",
                "title": "Overview",
                "items": [
                    "Why <em>WonderWidgets</em> are great",
                    "Who <em>buys</em> WonderWidgets",
                ],
            },
        ],
    }
}
_SLIDESHOW_JSON = dumps(_SLIDESHOW)


async def view_json(request: Request) -> Response:
    return raw_response(_SLIDESHOW_JSON, content_type="application/json")


_FORM = """\
<!DOCTYPE html>
<html>
  <head>
  </head>
  <body>
  <!-- Example form from HTML5 spec http://www.w3.org/TR/html5/forms.html#writing-a-form's-user-interface -->
  <form method="post" action="{action}">
   <p><label>Customer name: <input name="custname"></label></p>
   <p><label>Telephone: <input type=tel name="custtel"></label></p>
   <p><label>E-mail address: <input type=email name="custemail"></label></p>
   <fieldset>
    <legend> Pizza Size </legend>
    <p><label> <input type=radio name=size value="small"> Small </label></p>
    <p><label> <input type=radio name=size value="medium"> Medium </label></p>
    <p><label> <input type=radio name=size value="large"> Large </label></p>
   </fieldset>
   <fieldset>
    <legend> Pizza Toppings </legend>
    <p><label> <input type=checkbox name="topping" value="bacon"> Bacon </label></p>
    <p><label> <input type=checkbox name="topping" value="cheese"> Extra Cheese </label></p>
    <p><label> <input type=checkbox name="topping" value="onion"> Onion </label></p>
    <p><label> <input type=checkbox name="topping" value="mushroom"> Mushroom </label></p>
   </fieldset>
   <p><label>Preferred delivery time: <input type=time min="11:00" max="21:00" step="900" name="delivery"></label></p>
   <p><label>Delivery instructions: <textarea name="comments"></textarea></label></p>
   <p><button>Submit order</button></p>
  </form>
  </body>
</html>"""  # noqa: E501 - the page as httpbin serves it


async def view_forms_post(request: Request) -> Response:
    """The pizza order form of the HTML5 spec; it posts to ``/post``."""
    page = _FORM.replace("{action}", str(escape(path_for(request, "/post"))))
    return raw_response(page.encode("utf-8"))


def add_routes(add: Registrar) -> None:
    add("/gzip", view_gzip, name="httpbin_gzip")
    add("/deflate", view_deflate, name="httpbin_deflate")
    add("/brotli", view_brotli, name="httpbin_brotli")
    add("/encoding/utf8", _fixed(UTF8_DEMO, "text/html; charset=utf-8"), name="httpbin_utf8")
    add("/html", _fixed(MOBY_HTML, "text/html; charset=utf-8"), name="httpbin_html")
    add("/json", view_json, name="httpbin_json")
    add("/xml", _fixed(SAMPLE_XML, "application/xml"), name="httpbin_xml")
    add("/robots.txt", _fixed(ROBOTS_TXT, "text/plain"), name="httpbin_robots")
    add("/deny", _fixed(ANGRY_ASCII, "text/plain"), name="httpbin_deny")
    add("/forms/post", view_forms_post, name="httpbin_forms_post")
