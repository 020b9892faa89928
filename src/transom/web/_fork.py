"""A counter bumped in every child made by ``fork()``: how the stores notice one.

A store keeps what it opened per process (a SQLite connection, Redis
sockets) and must not use the parent's in a forked child. It notes
``generation`` when it opens them and compares on use: one attribute read,
where a ``getpid()`` per call would be a system call.
"""

from __future__ import annotations

import os

__all__ = ["generation"]

#: Bumped in a forked child; compare it with the value noted when opening.
generation = 0


def _after_fork_in_child() -> None:
    global generation
    generation += 1


if hasattr(os, "register_at_fork"):  # not on Windows, which has no fork
    os.register_at_fork(after_in_child=_after_fork_in_child)
