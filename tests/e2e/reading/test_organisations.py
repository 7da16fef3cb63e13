from tests.e2e.conftest import log_in, serious_violations


def test_an_ics_reviewer_logs_in_and_opens_the_ics_page(page):
    log_in(page, "ics-qop")
    page.wait_for_url("**/ics/QOP/")
    assert page.get_by_role("heading", level=1).inner_text() == "Greater Manchester"
    assert page.get_by_role("link", name="Manchester University NHS Foundation Trust").is_visible()

    # The NHS.UK styles are applied: the header is NHS blue and the body font is the NHS stack.
    header_colour = page.locator(".nhsuk-header").evaluate("e => getComputedStyle(e).backgroundColor")
    assert header_colour == "rgb(0, 94, 184)"
    assert "frutiger" in page.locator("body").evaluate("e => getComputedStyle(e).fontFamily").lower()
    # The NHS.UK frontend scripts ran (module script, no inline script under the CSP).
    assert "nhsuk-frontend-supported" in page.locator("body").get_attribute("class")

    assert serious_violations(page) == []


def test_the_login_page_and_a_trust_page_have_no_serious_accessibility_violations(page):
    page.goto("/accounts/login/")
    assert serious_violations(page) == []
    log_in(page, "lead-r0a")
    page.wait_for_url("**/trusts/R0A/")
    assert serious_violations(page) == []
    page.goto("/national/")
    assert serious_violations(page) == []


def test_the_search_box_finds_a_trust_by_ods_code(page):
    log_in(page, "analyst")
    page.wait_for_url("**/national/")
    page.get_by_label("Search organisations by name or ODS code").fill("r0a")
    page.keyboard.press("Enter")
    page.wait_for_url("**/trusts/R0A/")
    assert "Manchester University NHS Foundation Trust" in page.get_by_role("heading", level=1).inner_text()
