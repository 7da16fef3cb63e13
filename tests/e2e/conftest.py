"""Browser tests: Playwright drives Debian's Chromium (never a downloaded browser) against a live test server."""

import os
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import override_settings

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
BUILT_CSS = Path(__file__).resolve().parents[2] / "static" / "dist" / "css" / "main.css"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def pytest_collection_modifyitems(items):
    reason = None
    if not CHROMIUM.exists():
        reason = f"needs Debian's Chromium at {CHROMIUM} (apt-get install chromium)"
    elif not BUILT_CSS.exists():
        reason = "needs the built NHS.UK styles (make static)"
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)
            if reason:
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="module")
def browser():
    """One Chromium per module. Playwright's sync API keeps an event loop running in this thread while it lives,
    which Django would take for async code: allow it for exactly that long, so other tests keep the guard."""
    from playwright.sync_api import sync_playwright

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


def new_page(browser, base_url):
    """A page in a fresh browser context on the test server at base_url, closed after the test."""
    context = browser.new_context(base_url=base_url)
    page = context.new_page()
    # Any request leaving the test server means a page depends on the internet: fail it loudly.
    outside = []
    page.on("request", lambda request: None if request.url.startswith(base_url) else outside.append(request.url))
    yield page
    context.close()
    assert not outside, f"the page requested outside addresses: {outside}"


@pytest.fixture
def page(browser, live_server):
    yield from new_page(browser, live_server.url)


@pytest.fixture
def demo_world(transactional_db):
    """The real organisations and the demo accounts, exactly as `make run` makes them."""
    call_command("load_organisations", verbosity=0)
    with override_settings(DEBUG=True):
        call_command("create_demo_accounts", verbosity=0)


@pytest.fixture
def demo_cycle(demo_world):
    """The framework and the 2026 demo cycle, where lead-r0a finds fresh drafts."""
    call_command("load_frameworks", verbosity=0)
    with override_settings(DEBUG=True):
        call_command("load_demo_data", verbosity=0)


def violations(page, exclude=None, impacts=None):
    """axe-core's findings on the page as it is now, of any impact (or only those in `impacts`)."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, context={"exclude": [[selector] for selector in exclude]} if exclude else None)
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} – {len(violation['nodes'])} node(s)"
        for violation in results.response["violations"]
        if impacts is None or violation["impact"] in impacts
    ]


def serious_violations(page, exclude=None):
    return violations(page, exclude, impacts={"serious", "critical"})


def log_in(page, username, password="demo"):
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
