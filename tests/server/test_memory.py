"""glibc malloc settings: large blocks are reused instead of faulted in again."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys

import pytest

from transom.server import memory

PROGRAM = """
import json, resource, sys
from transom.server.memory import tune_malloc
applied = tune_malloc() if sys.argv[1] == "tune" else False
def churn():
    for _ in range(50):
        # Request bodies as a server holds them: many blocks under the mmap
        # threshold, all freed when the request ends. By default glibc hands
        # the freed top of the heap back at once and faults it in again.
        blocks = [bytes(100 * 1024) for _ in range(48)]
        del blocks
churn()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
churn()
print(json.dumps({"applied": applied,
                  "faults": resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before}))
"""

glibc_only = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's mallopt")


def run(mode: str, **env: str) -> dict[str, object]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    output = subprocess.run(
        [sys.executable, "-c", PROGRAM, mode],
        env={**environ, **env},
        capture_output=True,
        check=True,
        text=True,
    ).stdout
    result: dict[str, object] = json.loads(output)
    return result


@glibc_only
def test_memory_tuned_process_reuses_large_blocks() -> None:
    default, tuned = run("default"), run("tune")
    assert tuned["applied"] is True
    # About 240 MiB churned in 100 KiB blocks: by default the freed top of
    # the heap goes back to the kernel and is faulted in again each round;
    # the tuned heap keeps the pages.
    assert isinstance(default["faults"], int) and isinstance(tuned["faults"], int)
    assert default["faults"] > 10_000
    assert tuned["faults"] < default["faults"] // 10


@glibc_only
def test_memory_operator_settings_win() -> None:
    assert run("tune", MALLOC_TRIM_THRESHOLD_="131072")["applied"] is False


def test_memory_thresholds_are_modest() -> None:
    # What a burst may leave held, per process.
    assert memory.TRIM_THRESHOLD <= 8 * 1024 * 1024
    assert memory.MMAP_THRESHOLD <= memory.TRIM_THRESHOLD
