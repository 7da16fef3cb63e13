"""The design's journeys 1 and 2 in a real browser: a lead fills, checks and submits; the ICS reviewer returns it,
the lead amends and resubmits, the reviewer approves and it becomes read-only. On the way, a lead who picks an answer
and leaves the page without saving is asked first, and the pages work without JavaScript."""

from maturity.models import Assessment, DomainAnswer, Status
from tests.e2e.conftest import log_in, serious_violations

ASSESSMENT = "/trusts/R0A/assessments/2026/acute/"


def fill_every_pillar(page, level="3"):
    """Answer each domain on each pillar page with one level, following 'Save and continue' to the indicators."""
    page.goto(ASSESSMENT)
    page.get_by_role("link", name="Well Led").click()
    while "/pillars/" in page.url:
        for radio in page.locator(f"input[type=radio][value='{level}']").all():
            radio.check()
        here = page.url
        page.get_by_role("button", name="Save and continue").last.click()
        # Wait for the next page: on a loaded machine the click can return before the navigation commits, and the
        # loop would answer (and post) the page just saved a second time.
        page.wait_for_url(lambda url, here=here: url != here)


def fill_indicators(page):
    for group in page.locator("fieldset .nhsuk-radios").all():
        group.locator("input[value=yes]").check()
    for select in page.locator("select").all():
        select.select_option(index=1)
    page.get_by_role("group", name="EPR go-live date").get_by_label("Day").fill("1")
    page.get_by_role("group", name="EPR go-live date").get_by_label("Month").fill("4")
    page.get_by_role("group", name="EPR go-live date").get_by_label("Year").fill("2024")
    for field in page.locator("input.nhsuk-input:not(.nhsuk-date-input__input)").all():
        field.fill("4")
    here = page.url
    page.get_by_role("button", name="Save and continue").last.click()
    page.wait_for_url(lambda url, here=here: url != here)


def sign_off_and_submit(page):
    page.get_by_label("Name of the executive who signed off the assessment").fill("Jo Bloggs")
    page.get_by_label("Their role").fill("Chief Executive")
    page.get_by_label("I confirm these answers are accurate").check()
    page.get_by_role("button", name="Submit the assessment").click()


def test_a_lead_fills_and_submits_fixing_a_validation_error_on_the_way(page, demo_cycle):
    log_in(page, "lead-r0a")
    page.wait_for_url("**/trusts/R0A/")
    page.get_by_role("link", name="Acute assessment 2026").click()
    assert serious_violations(page) == []

    # A broken evidence link is named in the error summary, which links to the field; fixing it saves the page.
    page.get_by_role("link", name="Well Led").click()
    assert serious_violations(page) == []
    page.locator("#WL01-level-3").check()
    page.locator("#WL01-evidence_link").fill("board papers, May")
    page.get_by_role("button", name="Save as draft").first.click()
    summary = page.locator(".nhsuk-error-summary")
    assert "Evidence link must be a web address" in summary.inner_text()
    assert serious_violations(page) == []
    summary.get_by_role("link").first.click()
    assert page.evaluate("document.activeElement.id") == "WL01-evidence_link"
    page.locator("#WL01-evidence_link").fill("https://example.nhs.uk/board-papers")
    page.get_by_role("button", name="Save as draft").first.click()
    assert "Well Led saved" in page.locator("main").inner_text()

    fill_every_pillar(page)
    assert page.url.endswith("/indicators/")
    assert serious_violations(page) == []
    fill_indicators(page)

    # Every answer on one page, each with a way back to change it, before the declaration.
    assert page.url.endswith("/check/")
    assert serious_violations(page) == []
    answers = page.locator("main .nhsuk-summary-list__row")
    assessment = Assessment.objects.get(trust__code="R0A", care_setting_id="acute", cycle__year=2026)
    assert answers.count() == len(assessment.applicable_domains()) + len(assessment.indicators())
    assert page.get_by_role("link", name="Change").count() == answers.count()
    page.get_by_role("link", name="Change WL01 Digital strategy").click()
    assert page.url.endswith("/pillars/well_led/#WL01-level")
    page.goto(ASSESSMENT + "check/")
    page.get_by_role("link", name="Continue to sign-off").click()
    assert page.url.endswith("/submit/")
    assert serious_violations(page) == []
    sign_off_and_submit(page)
    assert "Assessment submitted" in page.locator("main").inner_text()
    assert (
        Assessment.objects.get(trust__code="R0A", care_setting_id="acute", cycle__year=2026).status == Status.SUBMITTED
    )


def test_the_reviewer_returns_the_lead_amends_and_the_reviewer_approves(page, demo_cycle):
    log_in(page, "lead-r0a")
    page.wait_for_url("**/trusts/R0A/")
    fill_every_pillar(page)
    fill_indicators(page)
    page.get_by_role("link", name="Continue to sign-off").click()
    sign_off_and_submit(page)
    page.get_by_role("button", name="Log out").click()

    log_in(page, "ics-qop")
    page.wait_for_url("**/ics/QOP/")
    page.get_by_role("link", name="Member trusts' assessments").click()
    assert serious_violations(page) == []
    page.get_by_role("link", name="Manchester University NHS Foundation Trust Acute 2026", exact=True).click()
    page.get_by_role("link", name="Review this assessment").click()
    assert serious_violations(page) == []
    # A comment box opens on demand; the decision at the top of the page sends it.
    page.get_by_text("Add a comment on WL01").click()
    page.get_by_label("Comment on WL01").fill("Attach the board minutes that approved the strategy.")
    page.get_by_role("button", name="Return for changes").first.click()
    assert "returned to the trust" in page.locator("main").inner_text()
    page.get_by_role("button", name="Log out").click()

    log_in(page, "lead-r0a")
    page.goto(ASSESSMENT + "pillars/well_led/")
    assert "Attach the board minutes" in page.locator("main").inner_text()
    page.locator("#WL01-level-4").check()
    page.get_by_role("button", name="Save as draft").first.click()
    page.goto(ASSESSMENT + "submit/")
    sign_off_and_submit(page)
    page.get_by_role("button", name="Log out").click()

    log_in(page, "ics-qop")
    page.goto(ASSESSMENT + "review/")
    page.get_by_role("button", name="Approve").last.click()
    assert "Assessment approved" in page.locator("main").inner_text()
    page.get_by_role("button", name="Log out").click()

    log_in(page, "lead-r0a")
    page.goto(ASSESSMENT + "pillars/well_led/")
    main = page.locator("main")
    assert main.locator("form[method=post]").count() == 0
    assert "Level 4" in main.inner_text()
    assert serious_violations(page) == []
    page.goto(ASSESSMENT + "history/")
    history = page.locator("main").inner_text()
    assert "Approved" in history and "Returned for changes" in history


def test_the_review_page_works_at_375_pixels_by_keyboard(page, demo_cycle):
    """A submitted demo return reviewed on a phone-sized screen with the keyboard alone: nothing wider than the
    screen, a comment box opened with Enter, and the decision at the top of the page sends what was typed."""
    assessment = Assessment.objects.filter(ics__code="QOP", trust__isnull=False, status=Status.SUBMITTED).first()
    url = f"/trusts/{assessment.trust.code}/assessments/2026/{assessment.care_setting_id}/review/"
    page.set_viewport_size({"width": 375, "height": 800})
    log_in(page, "ics-qop")
    page.wait_for_url("**/ics/QOP/")
    page.goto(url)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert "Submitted by" in page.locator("main").inner_text()
    assert serious_violations(page) == []

    page.locator("summary").first.focus()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    page.keyboard.type("Which board paper approved this level?")
    page.get_by_role("button", name="Return for changes").first.focus()
    page.keyboard.press("Enter")
    # A key press does not wait for the page it sends: wait for the overview the decision redirects to.
    page.wait_for_url(f"**{url.removesuffix('review/')}")
    assert "returned to the trust" in page.locator("main").inner_text()
    assessment.refresh_from_db()
    assert assessment.status == Status.RETURNED
    assert assessment.comments.get().text == "Which board paper approved this level?"


def test_a_lead_who_picks_an_answer_and_follows_a_pillar_link_is_asked_first(page, demo_cycle):
    log_in(page, "lead-r0a")
    page.wait_for_url("**/trusts/R0A/")
    page.goto(ASSESSMENT + "pillars/well_led/")
    dialogs = []

    def answer(dialog, accept):
        dialogs.append((dialog.type, dialog.message))
        dialog.accept() if accept else dialog.dismiss()

    # Nothing picked yet: the links simply go.
    page.get_by_role("navigation", name="Pages of this assessment").get_by_role("link", name="Safe Practice").click()
    page.wait_for_url("**/pillars/safe_practice/")
    page.go_back()
    page.wait_for_url("**/pillars/well_led/")
    assert dialogs == []

    page.locator("#WL01-level-3").check()
    page.once("dialog", lambda dialog: answer(dialog, accept=False))
    page.get_by_role("navigation", name="Pages of this assessment").get_by_role("link", name="Safe Practice").click()
    assert dialogs == [("confirm", "Your changes on this page have not been saved. Leave this page and lose them?")]
    assert page.url.endswith("/pillars/well_led/")
    assert page.locator("#WL01-level-3").is_checked()

    # The same at the foot of the page; leaving now is asked once, not again by the browser.
    page.once("dialog", lambda dialog: answer(dialog, accept=True))
    page.get_by_role("navigation", name="Previous and next page").get_by_role("link", name="Next").click()
    page.wait_for_url("**/pillars/smart_foundations/")
    assert len(dialogs) == 2
    assert not DomainAnswer.objects.filter(assessment__trust__code="R0A", domain__code="WL01").exists()

    # Saved answers are not asked about.
    page.locator("#SF01-level-2").check()
    page.get_by_role("button", name="Save as draft").first.click()
    assert "Ensure Smart Foundations saved" in page.locator("main").inner_text()
    page.get_by_role("navigation", name="Pages of this assessment").get_by_role("link", name="Well Led").click()
    page.wait_for_url("**/pillars/well_led/")
    assert len(dialogs) == 2


def test_without_javascript_the_pillar_pages_still_save_and_move_on(browser, live_server, demo_cycle):
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    try:
        log_in(page, "lead-r0a")
        page.wait_for_url("**/trusts/R0A/")
        page.goto(ASSESSMENT + "pillars/well_led/")
        page.locator("#WL01-level-2").check()
        page.get_by_role("navigation", name="Pages of this assessment").get_by_role(
            "link", name="Safe Practice"
        ).click()
        page.wait_for_url("**/pillars/safe_practice/")  # no warning without JavaScript: the page still works

        page.goto(ASSESSMENT + "pillars/well_led/")
        page.locator("#WL01-level-2").check()
        page.get_by_role("button", name="Save and continue").first.click()
        page.wait_for_url("**/pillars/smart_foundations/")
        assert "Well Led saved" in page.locator("main").inner_text()
        assert (
            DomainAnswer.objects.get(
                assessment__trust__code="R0A", domain__code="WL01", assessment__care_setting="acute"
            ).level
            == 2
        )
    finally:
        context.close()
