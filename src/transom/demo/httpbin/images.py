"""Images: ``/image`` (by ``Accept``) and ``/image/{png,jpeg,webp,svg}``.

The images are tiny files made for Transom, shipped as package data in
``images/``.
"""

from __future__ import annotations

import functools
from importlib import resources

from transom import Request, Response
from transom.demo.httpbin._common import Registrar, raw_response, status_response

__all__ = ["IMAGES", "add_routes", "image_bytes"]

#: kind -> (file, media type)
IMAGES = {
    "png": ("transom.png", "image/png"),
    "jpeg": ("transom.jpg", "image/jpeg"),
    "webp": ("transom.webp", "image/webp"),
    "svg": ("transom.svg", "image/svg+xml"),
}


@functools.cache
def image_bytes(kind: str) -> bytes:
    """The bytes of one of the images (read once)."""
    filename = IMAGES[kind][0]
    return resources.files("transom.demo.httpbin").joinpath("images", filename).read_bytes()


def _image(kind: str) -> Response:
    return raw_response(image_bytes(kind), content_type=IMAGES[kind][1])


async def view_image(request: Request) -> Response:
    """The first of WebP, SVG, JPEG, PNG that ``Accept`` names (PNG without one); else 406."""
    accept = request.headers.get("accept")
    if accept is None:
        return _image("png")
    accept = accept.lower()
    for kind, media_type in (
        ("webp", "image/webp"),
        ("svg", "image/svg+xml"),
        ("jpeg", "image/jpeg"),
    ):
        if media_type in accept:
            return _image(kind)
    if "image/png" in accept or "image/*" in accept:
        return _image("png")
    return status_response(request, 406)


async def view_png(request: Request) -> Response:
    return _image("png")


async def view_jpeg(request: Request) -> Response:
    return _image("jpeg")


async def view_webp(request: Request) -> Response:
    return _image("webp")


async def view_svg(request: Request) -> Response:
    return _image("svg")


def add_routes(add: Registrar) -> None:
    add("/image", view_image, name="httpbin_image")
    add("/image/png", view_png, name="httpbin_image_png")
    add("/image/jpeg", view_jpeg, name="httpbin_image_jpeg")
    add("/image/webp", view_webp, name="httpbin_image_webp")
    add("/image/svg", view_svg, name="httpbin_image_svg")
