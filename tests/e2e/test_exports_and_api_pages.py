"""The analysts' pages in a real browser: exports, the API token page and the API documentation pass axe-core and
load nothing from outside the product."""

import pytest

from tests.e2e.conftest import log_in, serious_violations


@pytest.mark.parametrize("url", ["/exports/?dataset=pillar-scores&cycle=2025", "/account/api-token/", "/api/docs/"])
def test_analyst_pages_pass_axe(page, demo_world, url):
    log_in(page, "analyst")
    page.wait_for_load_state()
    page.goto(url)
    exclude = None
    if url == "/api/docs/":
        # Swagger UI drew our schema (its title and operations come from /api/schema/), fetching nothing outside.
        page.locator(".swagger-ui .info").wait_for(timeout=15000)
        assert "Digital Maturity" in page.locator(".swagger-ui .info .title").inner_text()
        page.locator(".swagger-ui .opblock").first.wait_for(timeout=15000)
        # Swagger UI's own widget nests buttons in its operation headers (axe: nested-interactive); its colours are
        # fixed by static/css/swagger-overrides.css. The page around it, and the schema it links to, are ours.
        exclude = ["#swagger-ui"]
    assert serious_violations(page, exclude) == []


def test_a_user_creates_a_token_and_downloads_an_export_with_it(page, demo_world):
    log_in(page, "analyst")
    page.wait_for_load_state()
    page.goto("/account/api-token/")
    page.get_by_role("button", name="Create a token").click()
    key = page.locator("#api-token").inner_text().strip()
    assert len(key) == 64  # django-rest-knox: 64 hexadecimal characters, shown this once
    page.goto("/account/api-token/")
    assert key not in page.locator("main").inner_text()
    response = page.request.get("/api/v1/regions/", headers={"Authorization": f"Token {key}"})
    assert response.status == 200 and response.json()["count"] == 7
