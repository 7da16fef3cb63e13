"""The first screen answers first: for each role, on a 1280 × 900 screen, each dashboard's headline with its EPR,
cyber and legacy IT figures sits above the fold. Screenshots at 1280 and 375 px go to /tmp/headline-*.png."""

from axe_playwright_python.sync_playwright import Axe

from tests.e2e.conftest import log_in

FOLD = 900
PAGES = [
    ("ics-qop", "/ics/QOP/", "At a glance: 2026"),
    # R0A has only drafts in 2026: its lead lands on 2025, the latest cycle with its results.
    ("lead-r0a", "/trusts/R0A/", "At a glance: 2025"),
    ("lead-rmc", "/trusts/RMC/", "At a glance: 2026"),
    ("analyst", "/national/", "At a glance: 2026"),
    ("analyst", "/regions/Y62/", "At a glance: 2026"),
]


def test_each_dashboard_shows_its_headline_above_the_fold_for_each_role(browser, live_server):
    """Everything `make run` loads: the published 2024 and 2025 results, the 2026 demo cycle and the summaries."""

    for user, url, heading in PAGES:
        context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": FOLD})
        page = context.new_page()
        log_in(page, user)
        page.wait_for_load_state()
        for width in (1280, 375):
            page.set_viewport_size({"width": width, "height": FOLD})
            page.goto(url)
            figures = page.locator("[data-headline]")
            assert heading in figures.inner_text(), f"{user} on {url}"
            page.screenshot(path=f"/tmp/headline-{user}-{url.strip('/').replace('/', '-')}-{width}.png")
            if width == 1280:
                for theme in ("epr", "cyber", "legacy_it"):
                    row = figures.locator(f"[data-theme='{theme}']")
                    assert row.is_visible(), f"{theme} on {url} for {user}"
                box = figures.bounding_box()
                assert box["y"] + box["height"] <= FOLD, f"{user} on {url}: the headline ends at {box}"
                results = Axe().run(page, context={"include": [[".app-headline"]]})
                assert results.response["violations"] == [], f"{user} on {url}"
        context.close()
