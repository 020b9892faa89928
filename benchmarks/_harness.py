"""Process helpers shared by the over-the-wire benchmark scripts of this folder.

The scripts that measure a server under load all do the same few things
around it: find a free port, start the server and wait until it accepts
connections, stop its process group, read from ``/proc`` the CPU time its
processes used, and run ``wrk`` pinned to CPU 1 and read its figures. They
are written once here, so that every script does them the same way and a
fix reaches all of them.

A script is run as ``python benchmarks/NAME.py``, which puts this folder
first on ``sys.path``, and imports what it needs with ``from _harness
import ...`` (mypy finds it the same way when given ``benchmarks/NAME.py``).
Standard library only; the CPU helpers read ``/proc``, so they need Linux.
"""

from __future__ import annotations

import os
import re
import resource
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")  # clock ticks per second, the unit of /proc CPU times

# Indexes into stat_fields(): after "(comm)" come state, ppid, pgrp, session, ...
_PGRP, _SESSION, _UTIME, _STIME = 2, 3, 11, 12


# -- ports and processes ----------------------------------------------------


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing is bound to right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_listening(
    process: subprocess.Popen[bytes], name: str, port: int, timeout: float = 30.0
) -> None:
    """Return once 127.0.0.1:``port`` accepts connections; exit if ``process`` never gets there.

    ``process`` must lead a process group of its own (``start_new_session=True``):
    if it is not listening after ``timeout`` seconds, the group is stopped.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{name} exited with status {process.returncode} before listening")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    stop(process)
    raise SystemExit(f"{name} did not start listening on port {port}")


def stop(process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """End the process group ``process`` leads: SIGTERM, then SIGKILL after ``timeout`` s."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout)
    except ProcessLookupError:
        process.wait(timeout)


# -- CPU time ---------------------------------------------------------------


def stat_fields(pid: int | str) -> list[str] | None:
    """The fields of ``/proc/PID/stat`` after the command name (state first); None if gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rpartition(")")[2].split()


def process_cpu(pid: int | str) -> float:
    """Seconds of user + system CPU used so far by process ``pid``; 0.0 once it is gone."""
    fields = stat_fields(pid)
    return 0.0 if fields is None else (int(fields[_UTIME]) + int(fields[_STIME])) / TICK


def _cpu_where(index: int, value: int) -> float:
    """Seconds of user + system CPU of every process whose stat field ``index`` is ``value``."""
    ticks = 0
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            fields = stat_fields(pid)
            if fields is not None and int(fields[index]) == value:
                ticks += int(fields[_UTIME]) + int(fields[_STIME])
    return ticks / TICK


def group_cpu(pgid: int) -> float:
    """Seconds of user + system CPU used so far by the processes of group ``pgid``."""
    return _cpu_where(_PGRP, pgid)


def session_cpu(sid: int) -> float:
    """Seconds of user + system CPU used so far by the processes of session ``sid``."""
    return _cpu_where(_SESSION, sid)


def children_cpu() -> float:
    """Seconds of user + system CPU used so far by this process's finished children."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# -- wrk --------------------------------------------------------------------


@dataclass(frozen=True)
class WrkResult:
    """The figures of one wrk run."""

    requests: int
    rps: float
    p99: str | None  # as wrk prints it ("1.23ms"); only with --latency
    problems: tuple[str, ...]  # "Socket errors: ..." and "Non-2xx or 3xx responses: N"

    @property
    def p99_ms(self) -> float | None:
        """The 99th percentile latency in milliseconds, if wrk printed it in us, ms or s."""
        found = re.fullmatch(r"([\d.]+)(us|ms|s)", self.p99 or "")
        return float(found[1]) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[found[2]] if found else None


def run_wrk(url: str, seconds: int, connections: int, *options: str) -> str:
    """Run ``wrk -t1`` pinned to CPU 1 against ``url``; its output.

    ``options`` (``--latency``, ``-H`` and its header...) go before the URL.
    """
    command = ["taskset", "-c", "1", "wrk", "-t1", f"-c{connections}", f"-d{seconds}s"]
    command += [*options, url]
    return subprocess.run(
        command, capture_output=True, text=True, timeout=seconds + 30, check=True
    ).stdout


def parse_wrk(output: str) -> WrkResult:
    """The figures in wrk's ``output``; exit if it has none."""
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    requests = re.search(r"(\d+) requests in", output)
    if rps is None or requests is None:
        raise SystemExit(f"no Requests/sec in wrk's output:\n{output}")
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.MULTILINE)
    problems = re.findall(r"Non-2xx or 3xx responses: \d+|Socket errors: [^\n]+", output)
    return WrkResult(int(requests[1]), float(rps[1]), p99[1] if p99 else None, tuple(problems))
