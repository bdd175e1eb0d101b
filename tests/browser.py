"""Headless Chromium for the page tests, driven by Playwright.

Registered as a plugin by tests/conftest.py. `browser` is one Chromium per test module
(Debian's `chromium`, found on PATH or at /usr/bin/chromium); `page` is a fresh context and
page per test, so cookies and session storage never leak between tests. Without Chromium the
tests that use them are reported as skipped with the reason, and fail under CI (`CI` set),
where `.ci/run` installs it. `screenshot(page, name)` keeps a PNG in the artifacts folder
(`FOCAL_TEST_ARTIFACTS`, default build/test-artifacts) for a person to look at.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

# The flags this machine's closed network needs: no background connections, no sandbox
# (the tests may run as root), no GPU.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(
    os.environ.get("FOCAL_TEST_ARTIFACTS", Path(__file__).parent.parent / "build/test-artifacts")
)


def chromium_path() -> str | None:
    """Chromium's executable, or None when it is not installed."""
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None


def missing() -> str | None:
    """Why no browser can be started here, or None when one can."""
    if chromium_path() is None:
        return "no Chromium on this machine: apt install chromium"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed"
    return None


def require_chromium() -> None:
    """Skip the test without Chromium, saying why; under CI that is a failure."""
    reason = missing()
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"Chromium is required under CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium per test module (a playwright.sync_api.Browser).

    Per module, not per session: Playwright's sync API keeps an event loop running in the
    main thread while it is started, and every later test that runs `asyncio.run` there
    would fail."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A new browser context and page (a playwright.sync_api.Page), closed after the test.

    Uncaught errors of the page's scripts fail the test: a page that throws is broken even
    when what the test looks at happens to show."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(15_000)
    new_page = context.new_page()
    errors: list[str] = []
    new_page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        yield new_page
    finally:
        context.close()
    assert not errors, f"the page threw: {errors}"


@pytest.fixture
def screenshot() -> Callable[[Any, str], Path]:
    """`screenshot(page, "widget")` -> the PNG kept under the artifacts folder."""

    def take(target: Any, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        target.screenshot(path=str(path))
        return path

    return take
