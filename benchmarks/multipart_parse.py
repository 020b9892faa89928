"""Parse speed of ``transom.http.multipart`` against python-multipart.

One ``multipart/form-data`` body with a short text field and a file part of
``--size`` bytes of random data, fed in ``--chunk``-byte pieces as a server
receives it. Each side ends with the part data as ``bytes`` the caller can
keep, as a framework needs them: our ``PartData.data`` as it comes, and
python-multipart's ``on_part_data(data, start, end)`` sliced the way
Starlette's form parser slices it (``--no-copy`` counts ``end - start``
instead, python-multipart's floor). Nothing else is done with the bytes,
so the figure is the parser's own cost. Prints MB/s for each and the ratio.

    python benchmarks/multipart_parse.py [--size 1048576] [--chunk 65536] [--rounds 20] [--no-copy]
"""

from __future__ import annotations

import argparse
import os
import timeit
from collections.abc import Callable
from functools import partial

from python_multipart.multipart import MultipartParser as PyMultipartParser

from transom.http.multipart import MultipartEncoder, MultipartParser, PartData

BOUNDARY = "----WebKitFormBoundary7MA4YWxkTrZu0gW"


def make_body(size: int) -> bytes:
    # Random bytes contain CR and LF and '-' at natural rates, as real files do.
    content = os.urandom(size)
    encoder = MultipartEncoder(
        [("title", "holiday photos")],
        [("upload", ("photo.jpg", content, "image/jpeg"))],
        boundary=BOUNDARY,
    )
    return b"".join(encoder)


def chunks(body: bytes, size: int) -> list[bytes]:
    return [body[i : i + size] for i in range(0, len(body), size)]


def parse_transom(pieces: list[bytes]) -> int:
    parser = MultipartParser(BOUNDARY)
    received = 0
    for piece in pieces:
        for event in parser.feed(piece):
            if type(event) is PartData:
                received += len(event.data)
    parser.close()
    return received


def parse_python_multipart(pieces: list[bytes], copy: bool = True) -> int:
    received = 0

    def on_part_data(data: bytes, start: int, end: int) -> None:
        nonlocal received
        received += len(data[start:end]) if copy else end - start

    parser = PyMultipartParser(BOUNDARY, callbacks={"on_part_data": on_part_data})
    for piece in pieces:
        parser.write(piece)
    parser.finalize()
    return received


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1024 * 1024, help="file part bytes")
    parser.add_argument("--chunk", type=int, default=64 * 1024, help="bytes per feed")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument(
        "--no-copy", action="store_true", help="do not slice python-multipart's data"
    )
    args = parser.parse_args()

    body = make_body(args.size)
    pieces = chunks(body, args.chunk)
    expected = args.size + len("holiday photos")
    results = {}
    parsers: list[tuple[str, Callable[[list[bytes]], int]]] = [
        ("transom", parse_transom),
        ("python-multipart", partial(parse_python_multipart, copy=not args.no_copy)),
    ]
    for name, parse in parsers:
        assert parse(pieces) == expected, name
        seconds = min(timeit.repeat(partial(parse, pieces), number=args.rounds, repeat=5))
        results[name] = len(body) * args.rounds / seconds / 1e6
        print(f"{name:18} {results[name]:10.1f} MB/s")
    ratio = results["transom"] / results["python-multipart"]
    print(f"ratio (transom / python-multipart): {ratio:.2f}x")


if __name__ == "__main__":
    main()
