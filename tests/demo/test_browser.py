"""The notes site of ``transom demo`` in a real browser: headless Chromium driven by Playwright.

Debian's ``chromium`` (``/usr/bin/chromium``) is the browser; Playwright never downloads one.
A missing browser fails these tests rather than skipping them: ``.ci/run`` installs it, so a
machine without it is a broken set-up, not an optional feature.

Everything goes through pages and forms as a user would drive them: the forms' hidden
``csrf_token`` is submitted by the browser, the attachment is chosen in the file input, and the
download is the browser's own.
"""

from __future__ import annotations

import re
import shutil
import struct
import sys
import tempfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, sync_playwright

from .conftest import DemoProcess, clean_env, running_demo

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "Correct-Horse-Battery-9"
TIMEOUT_MS = 30_000
# The first start of Chromium on a fresh machine builds its caches, and the suite keeps both
# cores busy: a launch can take far longer than a page does.
LAUNCH_TIMEOUT_MS = 90_000
PROXY_VARIABLES = (
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "no_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
)


# A browser's launch (LAUNCH_TIMEOUT_MS in test_browser) fits in the test's time.
pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoProcess]:
    """One ``transom demo`` for the module, with a fresh data directory."""
    root = tmp_path_factory.mktemp("demo")
    argv = [
        sys.executable,
        "-m",
        "transom",
        "demo",
        "--port",
        "0",
        "--data-dir",
        str(root / "data"),
    ]
    with running_demo(
        argv, cwd=root, env=clean_env(root / "home"), ready_path="/healthz"
    ) as process:
        yield process


@pytest.fixture
def browser(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Browser]:
    """Headless Debian Chromium with a new empty profile, made under the test's temp dir."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests need Debian's chromium package "
            "(.ci/run installs it with apt-get install chromium)"
        )
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    # Playwright makes the browser's fresh user-data dir in its driver's TMPDIR.
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    # Chromium puts a Unix socket in its own TMPDIR: that path must stay short (108 bytes).
    home = Path(tempfile.mkdtemp(prefix="chromium-", dir="/tmp"))
    browser_env: dict[str, str | float | bool] = {**clean_env(home)}
    try:
        with sync_playwright() as playwright:
            launched = playwright.chromium.launch(
                executable_path=str(CHROMIUM),
                args=CHROMIUM_ARGS,
                env=browser_env,
                timeout=LAUNCH_TIMEOUT_MS,
            )
            try:
                yield launched
            finally:
                launched.close()
    finally:
        shutil.rmtree(home, ignore_errors=True)


def new_page(browser: Browser, *, javascript: bool = True) -> tuple[BrowserContext, Page]:
    context = browser.new_context(
        accept_downloads=True,
        java_script_enabled=javascript,
        locale="en-US",
        timezone_id="UTC",
    )
    context.set_default_timeout(TIMEOUT_MS)
    return context, context.new_page()


def path_of(page: Page) -> str:
    return urlsplit(page.url).path


def submit(page: Page, form: Locator, path: str) -> int:
    """Click the form's submit button; the status of the POST to ``path`` (before redirects).

    The form carries its hidden ``csrf_token``, which the browser sends like any other field.
    """
    assert form.locator("input[type=hidden][name='csrf_token']").count() == 1, "no csrf_token"
    button = form.locator("button[type=submit], input[type=submit], button:not([type])").first
    with page.expect_response(
        lambda r: r.request.method == "POST" and urlsplit(r.url).path == path
    ) as response:
        button.click()
    page.wait_for_load_state("load")
    return response.value.status


def logout_form(page: Page) -> Locator:
    return page.locator("form[action$='/site/logout']")


def register(page: Page, base: str, username: str) -> None:
    response = page.goto(f"{base}/site/register")
    assert response is not None and response.status == 200
    form = page.locator("form:has(input[name='password2'])")
    form.locator("input[name='username']").fill(username)
    form.locator("input[name='password']").fill(PASSWORD)
    form.locator("input[name='password2']").fill(PASSWORD)
    status = submit(page, form, "/site/register")
    assert status in (302, 303), f"register answered {status}:\n{page.content()}"


def log_out(page: Page) -> None:
    form = logout_form(page)
    assert form.count() >= 1, f"no log-out form on {page.url}:\n{page.content()}"
    status = submit(page, form.first, "/site/logout")
    assert status in (302, 303), f"log-out answered {status}"
    assert logout_form(page).count() == 0


def log_in(page: Page, base: str, username: str) -> None:
    """Log in through the form; a registration that logged in already is logged out first."""
    page.goto(f"{base}/site/")
    if logout_form(page).count():
        log_out(page)
    response = page.goto(f"{base}/site/login")
    assert response is not None and response.status == 200
    form = page.locator("form:has(input[name='username'])")
    form.locator("input[name='username']").fill(username)
    form.locator("input[name='password']").fill(PASSWORD)
    status = submit(page, form, "/site/login")
    assert status in (302, 303), f"log-in answered {status}:\n{page.content()}"
    assert logout_form(page).count() >= 1, f"not logged in after log-in:\n{page.content()}"


def create_note(page: Page, base: str, title: str, body: str, attachment: Path) -> str:
    """Create a note with an attachment through the form; the note's id from the notes page."""
    response = page.goto(f"{base}/site/notes/new")
    assert response is not None and response.status == 200
    form = page.locator("form:has(input[name='title'])")
    form.locator("[name='title']").fill(title)
    form.locator("[name='body']").fill(body)
    form.locator("input[name='attachment']").set_input_files(attachment)
    status = submit(page, form, "/site/notes/new")
    assert status in (302, 303), f"creating a note answered {status}:\n{page.content()}"
    return only_note_id(page, base, title)


def only_note_id(page: Page, base: str, title: str) -> str:
    response = page.goto(f"{base}/site/notes")
    assert response is not None and response.status == 200
    assert path_of(page) == "/site/notes"
    assert title in page.inner_text("body")
    ids = set()
    for link in page.locator("a[href]").all():
        href = link.get_attribute("href") or ""
        match = re.search(r"/site/notes/(?!new/?$)([^/?#]+)/?$", urlsplit(href).path)
        if match:
            ids.add(match.group(1))
    assert len(ids) == 1, f"expected one note linked from the notes page, found {ids}"
    return ids.pop()


def png_summary(data: bytes) -> tuple[int, int, int]:
    """Width, height and the number of distinct bytes in the decompressed image data."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    pos, idat = 8, b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        if kind == b"IDAT":
            idat += data[pos + 8 : pos + 8 + length]
        pos += 12 + length
    return width, height, len(set(zlib.decompress(idat)))


def test_browser_register_login_note_download_logout(
    demo: DemoProcess, browser: Browser, tmp_path: Path
) -> None:
    base = demo.url
    context, page = new_page(browser)
    foreign: list[str] = []
    errors: list[str] = []
    local = (base + "/", "data:", "blob:")
    page.on("request", lambda r: None if r.url.startswith(local) else foreign.append(r.url))
    page.on("pageerror", lambda error: errors.append(str(error)))

    register(page, base, "alice")
    log_in(page, base, "alice")

    attachment = tmp_path / "report.bin"
    payload = bytes(range(256)) * 64 + b"\x00end of the attachment\xff"
    attachment.write_bytes(payload)
    title = "Shopping list"
    note_id = create_note(page, base, title, "milk\nbread & <butter>", attachment)

    response = page.goto(f"{base}/site/notes/{note_id}")
    assert response is not None and response.status == 200
    text = page.inner_text("body")
    assert title in text
    assert "bread & <butter>" in text  # escaped in the HTML, shown as typed

    link = page.locator(f"a[href*='/site/notes/{note_id}/attachment']").first
    with page.expect_download() as download_info:
        link.click()
    download = download_info.value
    assert download.failure() is None
    saved = tmp_path / "downloaded.bin"
    download.save_as(saved)
    assert saved.read_bytes() == payload

    page.goto(f"{base}/site/notes")
    screenshot = tmp_path / "notes.png"
    page.screenshot(path=str(screenshot), full_page=True)
    data = screenshot.read_bytes()
    width, height, distinct = png_summary(data)
    assert len(data) > 4096
    assert width >= 640 and height >= 300
    assert distinct > 8, "the screenshot is blank"

    log_out(page)
    for protected in (f"/site/notes/{note_id}/attachment", f"/site/notes/{note_id}", "/site/notes"):
        page.goto(base + protected)
        assert path_of(page) == "/site/login", f"{protected} ended at {page.url}"
        assert parse_qs(urlsplit(page.url).query).get("next") == [protected]
        assert page.locator("form input[name='username']").count() == 1

    # Logging in from where the last protected page sent us lands back on it.
    form = page.locator("form:has(input[name='username'])")
    form.locator("input[name='username']").fill("alice")
    form.locator("input[name='password']").fill(PASSWORD)
    assert submit(page, form, "/site/login") in (302, 303)
    assert path_of(page) == "/site/notes"
    assert title in page.inner_text("body")

    assert foreign == [], "the site loaded something from elsewhere"
    assert errors == []
    context.close()


def test_browser_second_user_cannot_see_first_users_notes(
    demo: DemoProcess, browser: Browser, tmp_path: Path
) -> None:
    """Run without JavaScript too: the site is server-rendered and must not need it."""
    base = demo.url
    owner_context, owner = new_page(browser, javascript=False)
    register(owner, base, "carol")
    log_in(owner, base, "carol")
    attachment = tmp_path / "diary.txt"
    attachment.write_bytes(b"carol's secret\n")
    title = "Carol's diary"
    note_id = create_note(owner, base, title, "private words", attachment)

    other_context, other = new_page(browser, javascript=False)
    register(other, base, "dave")
    log_in(other, base, "dave")
    response = other.goto(f"{base}/site/notes")
    assert response is not None and response.status == 200
    assert path_of(other) == "/site/notes"
    assert title not in other.inner_text("body")
    for path in (
        f"/site/notes/{note_id}",
        f"/site/notes/{note_id}/edit",
        f"/site/notes/{note_id}/attachment",
    ):
        response = other.goto(base + path)
        assert response is not None
        assert response.status == 404, f"{path} answered {response.status} to another user"
        assert "private words" not in other.content()
        assert "carol's secret" not in other.content()

    # Carol registered first: Dave is not an admin.
    response = other.goto(f"{base}/site/admin")
    assert response is not None and response.status == 403

    # The owner still has it.
    response = owner.goto(f"{base}/site/notes/{note_id}")
    assert response is not None and response.status == 200
    assert "private words" in owner.inner_text("body")
    other_context.close()
    owner_context.close()


def test_browser_password_change_logs_out_the_other_browser(
    demo: DemoProcess, browser: Browser
) -> None:
    """Two browsers logged in as one user; a password change in one ends the other's session."""
    base = demo.url
    phone_context, phone = new_page(browser)
    register(phone, base, "erin")
    laptop_context, laptop = new_page(browser)
    log_in(laptop, base, "erin")
    log_in(phone, base, "erin")

    phone.get_by_role("link", name="Password").click()
    phone.wait_for_load_state("load")
    assert path_of(phone) == "/site/password"
    form = phone.locator("form:has(input[name='new2'])")
    form.locator("input[name='current']").fill(PASSWORD)
    form.locator("input[name='new']").fill("a brand new passphrase")
    form.locator("input[name='new2']").fill("a brand new passphrase")
    status = submit(phone, form, "/site/password")
    assert status == 303, f"the change answered {status}:\n{phone.content()}"
    assert path_of(phone) == "/site/notes"
    assert "your other sessions are logged out" in phone.inner_text("body")
    assert logout_form(phone).count() >= 1

    response = laptop.goto(f"{base}/site/notes")
    assert response is not None and response.status == 200
    assert path_of(laptop) == "/site/login", "the other browser is still logged in"
    assert logout_form(laptop).count() == 0
    laptop_context.close()
    phone_context.close()
