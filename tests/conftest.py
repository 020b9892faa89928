"""Settings shared by the whole suite.

No test may depend on the shell it was started from. Proxy variables are common on company
machines (and ``no_proxy`` alone changes which requests go through a proxy), ``HOME`` holds the
user's own ``transom http`` sessions and configuration, and ``TZ`` and the locale change dates
and text. So for the whole session and again for every test the environment is made the same
everywhere: every proxy variable (any case) and the CGI variables that change how proxy
variables are read are removed, ``HOME`` is an empty temporary directory (the XDG directories
follow it), ``TZ`` is UTC and the locale is C.UTF-8. This is done once before any test module
is imported and again around every test (with a new empty ``HOME`` each time); child processes
that a test starts with ``os.environ`` (or no ``env=``: they inherit it) get the same.
"""

from __future__ import annotations

import itertools
import locale
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# The suite runs on small shared machines: a property test is judged by what
# it finds, never by how long one example took (that would fail at random).
settings.register_profile(
    "transom",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=False,
)
settings.load_profile("transom")

#: Removed besides every ``*_proxy`` variable (matched without regard to case).
REMOVED_VARIABLES = (
    # CGI: with REQUEST_METHOD set, urllib ignores HTTP_PROXY (the "httpoxy" guard).
    "REQUEST_METHOD",
    "GATEWAY_INTERFACE",
    # Where the user's files are looked for; with these gone they follow HOME.
    "XDG_CONFIG_HOME",
    "XDG_DATA_HOME",
    "XDG_CACHE_HOME",
    "XDG_STATE_HOME",
    "NETRC",
    # Certificate stores chosen by the user (the tests bring their own CAs).
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    # Colour and terminal size choices for command-line output.
    "NO_COLOR",
    "FORCE_COLOR",
    "CLICOLOR",
    "CLICOLOR_FORCE",
    "COLUMNS",
    "LINES",
    # Locale: only LANG and LC_ALL below are left.
    "LANGUAGE",
)
LOCALE = "C.UTF-8"


def clean_environment(patch: pytest.MonkeyPatch, home: Path) -> None:
    """Make ``os.environ`` independent of the caller's (see the module docstring)."""
    for name in list(os.environ):
        upper = name.upper()
        if upper.endswith("_PROXY") or upper in REMOVED_VARIABLES or upper.startswith("LC_"):
            patch.delenv(name, raising=False)
    patch.setenv("HOME", str(home))
    patch.setenv("TZ", "UTC")
    patch.setenv("LANG", LOCALE)
    patch.setenv("LC_ALL", LOCALE)


_SESSION = pytest.StashKey[tuple[pytest.MonkeyPatch, str, Path]]()


def pytest_configure(config: pytest.Config) -> None:
    """Clean the environment before any test module is imported.

    Some modules copy ``os.environ`` when imported (``wsgiref.handlers`` puts it into every
    WSGI environ, so a caller's ``HTTP_PROXY`` would reach an app as a ``Proxy`` header).
    """
    patch = pytest.MonkeyPatch()
    home = Path(tempfile.mkdtemp(prefix="transom-tests-home-"))
    saved_locale = locale.setlocale(locale.LC_ALL)
    clean_environment(patch, home)
    try:
        locale.setlocale(locale.LC_ALL, LOCALE)
    except locale.Error:  # a system without C.UTF-8: the plain C locale
        patch.setenv("LANG", "C")
        patch.setenv("LC_ALL", "C")
        locale.setlocale(locale.LC_ALL, "C")
    time.tzset()
    config.stash[_SESSION] = (patch, saved_locale, home)


def pytest_unconfigure(config: pytest.Config) -> None:
    session = config.stash.get(_SESSION, None)
    if session is None:
        return
    patch, saved_locale, home = session
    patch.undo()
    locale.setlocale(locale.LC_ALL, saved_locale)
    time.tzset()
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def _homes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("homes")


_test_numbers = itertools.count()


@pytest.fixture(autouse=True)
def _test_environment(_homes: Path) -> Iterator[None]:
    """Each test: the clean environment again (a test may change it) and a new empty HOME."""
    home = _homes / f"test-{next(_test_numbers)}"
    home.mkdir()
    lang = os.environ.get("LANG", LOCALE)
    with pytest.MonkeyPatch.context() as patch:
        clean_environment(patch, home)
        patch.setenv("LANG", lang)
        patch.setenv("LC_ALL", lang)
        yield
    time.tzset()  # a test that set TZ itself changed the process's idea of local time
