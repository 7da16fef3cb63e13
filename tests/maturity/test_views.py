import datetime
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from maturity.models import Assessment, AuditEvent, DomainAnswer, Pillar, Status
from maturity.pages import in_sentence
from tests.factories import (
    AssessmentFactory,
    CycleFactory,
    DomainFactory,
    ICSFactory,
    TrustFactory,
    analyst,
    lead_of,
    reviewer_of,
)
from trusts.models import CareSetting

URL = "/trusts/R0A/assessments/2026/acute/"
ICS_URL = "/ics/QOP/assessments/2026/"


@pytest.fixture
def world(db):
    ics = ICSFactory(code="QOP")
    trust = TrustFactory(code="R0A", ics=ics, care_settings=[CareSetting.ACUTE, CareSetting.COMMUNITY])
    neighbour = TrustFactory(code="RBV", ics=ics)
    cycle = CycleFactory()
    assessment = AssessmentFactory(cycle=cycle, trust=trust)
    return SimpleNamespace(
        ics=ics,
        trust=trust,
        cycle=cycle,
        assessment=assessment,
        users={
            "lead": lead_of(trust),
            "neighbour lead": lead_of(neighbour),
            "reviewer": reviewer_of(ics),
            "other reviewer": reviewer_of(ICSFactory(code="QVV")),
            "analyst": analyst(),
            "admin": get_user_model().objects.create_superuser("admin", password="x"),
        },
    )


def as_user(client, world, role):
    client.force_login(world.users[role])
    return client


def full_form(version, **overrides):
    data = {"version": version, "WL01-level": "3", "WL01-evidence_note": "Board paper", "WL01-evidence_link": ""}
    data.update(overrides)
    return data


def post_all_answers(client):
    client.post(URL + "pillars/well_led/", full_form(1))
    client.post(URL + "pillars/smart_foundations/", {"version": 2, "SF01-level": "2", "SF02-level": "4"})
    client.post(URL + "indicators/", {"version": 3, "indicator-unsupported_devices_pct": "4"})


PAGES = [
    "",
    "pillars/well_led/",
    "indicators/",
    "check/",
    "submit/",
    "history/",
    "template.xlsx",
    "template.csv",
    "upload/",
]
CAN_SEE = {"lead", "reviewer", "analyst", "admin"}


@pytest.mark.parametrize("role", ["lead", "neighbour lead", "reviewer", "other reviewer", "analyst", "admin"])
@pytest.mark.parametrize("page", PAGES)
def test_assessment_pages_for_every_role(client, world, role, page):
    response = as_user(client, world, role).get(URL + page)
    assert response.status_code == (200 if role in CAN_SEE else 403)


@pytest.mark.parametrize("role", ["lead", "neighbour lead", "reviewer", "other reviewer", "analyst"])
def test_ics_assessment_pages_for_every_role(client, world, role):
    Assessment.objects.create(
        cycle=world.cycle, ics=world.ics, region=world.ics.region, framework=world.cycle.ics_framework
    )
    response = as_user(client, world, role).get(ICS_URL)
    assert response.status_code == (200 if role in {"reviewer", "analyst"} else 403)


@pytest.mark.parametrize(
    "url",
    [
        "/trusts/R0A/assessments/2019/acute/",
        "/trusts/R0A/assessments/2026/dentistry/",
        "/trusts/ZZZ/assessments/2026/acute/",
    ],
)
def test_unknown_cycle_setting_or_trust_is_not_found(client, world, url):
    assert as_user(client, world, "analyst").get(url).status_code == 404


def test_a_setting_the_trust_does_not_return_for_is_not_found(client, world):
    assert as_user(client, world, "lead").get("/trusts/R0A/assessments/2026/ambulance/").status_code == 404


def test_a_lead_starts_an_assessment_for_another_of_its_settings(client, world):
    client = as_user(client, world, "lead")
    page = client.get("/trusts/R0A/assessments/2026/community/")
    assert b"Start the assessment" in page.content
    response = client.post("/trusts/R0A/assessments/2026/community/start/")
    assert response.status_code == 302
    created = Assessment.objects.get(care_setting_id=CareSetting.COMMUNITY)
    assert created.status == Status.DRAFT and created.ics == world.ics and created.region == world.ics.region


def test_a_reviewer_cannot_start_a_trusts_assessment(client, world):
    response = as_user(client, world, "reviewer").post("/trusts/R0A/assessments/2026/community/start/")
    assert response.status_code == 403
    assert not Assessment.objects.filter(care_setting_id=CareSetting.COMMUNITY).exists()


def test_the_pillar_page_shows_each_level_descriptor_as_a_radio(client, world):
    content = as_user(client, world, "lead").get(URL + "pillars/well_led/").content.decode()
    assert 'name="WL01-level"' in content
    assert "Embedded" in content and 'id="WL01-level-4"' in content


def test_saving_a_pillar_saves_and_moves_on(client, world):
    response = as_user(client, world, "lead").post(URL + "pillars/well_led/", {**full_form(1), "continue": "1"})
    assert response.status_code == 302
    assert response["Location"].endswith("pillars/smart_foundations/")
    assert DomainAnswer.objects.get(domain__code="WL01").level == 3


def test_an_invalid_answer_is_listed_in_the_error_summary_and_kept_in_the_form(client, world):
    response = as_user(client, world, "lead").post(
        URL + "pillars/well_led/", full_form(1, **{"WL01-evidence_link": "not a link"})
    )
    assert response.status_code == 400
    content = response.content.decode()
    assert 'href="#WL01-evidence_link"' in content
    assert "Evidence link must be a web address" in content
    assert 'value="not a link"' in content
    assert not DomainAnswer.objects.exists()


def test_a_stale_form_shows_the_conflict_and_keeps_what_was_typed(client, world):
    colleague = lead_of(world.trust, user__username="colleague")
    client.force_login(colleague)
    client.post(URL + "pillars/well_led/", full_form(1, **{"WL01-level": "4"}))
    client.force_login(world.users["lead"])
    response = client.post(URL + "pillars/well_led/", full_form(1, **{"WL01-level": "2"}))
    assert response.status_code == 409
    content = response.content.decode()
    assert "Someone else changed this assessment" in content
    assert "colleague" in content
    saved_at = timezone.localtime(AuditEvent.objects.filter(actor=colleague).get().at)
    assert f"colleague on {saved_at:%-d %B %Y} at {saved_at:%H:%M}" in content
    assert 'value="2" aria-describedby="WL01-level-2-hint" checked' in content
    assert 'name="version" value="2"' in content
    assert DomainAnswer.objects.get().level == 4


def test_a_lead_submits_and_the_reviewer_returns_then_approves(client, world):
    lead = as_user(client, world, "lead")
    post_all_answers(lead)
    response = lead.post(
        URL + "submit/", {"version": 4, "sign_off_name": "Jo Bloggs", "sign_off_role": "CEO", "declared": "yes"}
    )
    assert response.status_code == 302
    world.assessment.refresh_from_db()
    assert world.assessment.status == Status.SUBMITTED

    reviewer = as_user(client, world, "reviewer")
    assert b"R0A" in reviewer.get("/ics/QOP/reviews/").content or b"Place" in reviewer.get("/ics/QOP/reviews/").content
    reviewer.post(URL + "review/", {"version": 5, "decision": "return", "comment-WL01": "Show the board paper"})
    world.assessment.refresh_from_db()
    assert world.assessment.status == Status.RETURNED

    lead = as_user(client, world, "lead")
    assert "Show the board paper" in lead.get(URL + "pillars/well_led/").content.decode()
    lead.post(URL + "pillars/well_led/", full_form(6, **{"WL01-evidence_link": "https://example.nhs.uk/board"}))
    lead.post(URL + "submit/", {"version": 7, "sign_off_name": "Jo Bloggs", "sign_off_role": "CEO", "declared": "yes"})

    reviewer = as_user(client, world, "reviewer")
    reviewer.post(URL + "review/", {"version": 8, "decision": "approve"})
    world.assessment.refresh_from_db()
    assert world.assessment.status == Status.APPROVED

    # Read-only from now on: no form, and a post changes nothing.
    lead = as_user(client, world, "lead")
    assert b'method="post"' not in lead.get(URL + "pillars/well_led/").content.split(b"<main")[1].split(b"</main>")[0]
    lead.post(URL + "pillars/well_led/", full_form(9, **{"WL01-level": "1"}))
    assert DomainAnswer.objects.get(domain__code="WL01").level == 3

    history = lead.get(URL + "history/").content.decode()
    for summary in ["Submitted, signed off by Jo Bloggs", "Returned for changes", "Approved"]:
        assert summary in history


def test_a_return_without_any_comment_is_refused(client, world):
    lead = as_user(client, world, "lead")
    post_all_answers(lead)
    lead.post(URL + "submit/", {"version": 4, "sign_off_name": "Jo", "sign_off_role": "CEO", "declared": "yes"})
    response = as_user(client, world, "reviewer").post(URL + "review/", {"version": 5, "decision": "return"})
    assert response.status_code == 400
    assert b"Say what needs changing" in response.content


@pytest.mark.parametrize("role", ["lead", "neighbour lead", "analyst", "other reviewer"])
def test_only_the_ics_reviewer_may_open_the_review_page(client, world, role):
    world.assessment.status = Status.SUBMITTED
    world.assessment.save()
    assert as_user(client, world, role).get(URL + "review/").status_code == 403


def test_an_analyst_reopens_an_approved_assessment(client, world):
    world.assessment.status = Status.APPROVED
    world.assessment.save()
    response = as_user(client, world, "analyst").post(URL + "reopen/", {"version": 1, "reason": "Wrong setting"})
    assert response.status_code == 302
    world.assessment.refresh_from_db()
    assert world.assessment.status == Status.DRAFT


@pytest.mark.parametrize(
    ("role", "status"), [("reviewer", 200), ("analyst", 200), ("lead", 403), ("other reviewer", 403)]
)
def test_the_review_queue(client, world, role, status):
    assert as_user(client, world, role).get("/ics/QOP/reviews/").status_code == status


@pytest.mark.parametrize(("role", "status"), [("analyst", 200), ("reviewer", 403), ("lead", 403)])
def test_the_icb_review_queue_is_for_analysts(client, world, role, status):
    assert as_user(client, world, role).get("/reviews/icbs/").status_code == status


def test_the_trust_page_links_to_its_assessments(client, world):
    content = as_user(client, world, "lead").get("/trusts/R0A/").content.decode()
    assert 'href="/trusts/R0A/assessments/2026/acute/"' in content
    assert 'href="/trusts/R0A/assessments/2026/community/"' in content


# --- The lead's journey: pillar pages, what is missing, check your answers ------------------------------------


def test_a_question_keeps_the_capitals_of_acronyms_and_names(client, world):
    DomainFactory(
        framework=world.cycle.trust_framework,
        pillar=Pillar.objects.get(code="smart_foundations"),
        code="SF03",
        name="EPR optimisation and usability",
    )
    content = as_user(client, world, "lead").get(URL + "pillars/smart_foundations/").content.decode()
    assert "Which level best describes EPR optimisation and usability?" in content
    assert "Which level best describes infrastructure?" in content


@pytest.mark.parametrize(
    ("name", "in_a_sentence"),
    [
        ("Digital strategy", "digital strategy"),
        ("EPR optimisation and usability", "EPR optimisation and usability"),
        ("NHS App and patient portal", "NHS App and patient portal"),
        ("DDaT vacancy rate", "DDaT vacancy rate"),
        ("Mental health risk and Mental Health Act recording", "mental health risk and Mental Health Act recording"),
        ("Computer-aided dispatch", "computer-aided dispatch"),
    ],
)
def test_names_read_inside_a_sentence_keep_their_acronyms(name, in_a_sentence):
    assert in_sentence(name) == in_a_sentence


def test_a_pillar_page_has_its_buttons_and_the_pages_at_the_top_and_at_the_foot(client, world):
    content = main_of(as_user(client, world, "lead").get(URL + "pillars/smart_foundations/"))
    form = content[content.index("<form") : content.index("</form>")]
    buttons = form.split('name="continue"')
    assert len(buttons) == 3, "Save and continue at the top and at the foot of the form"
    assert form.count('name="draft"') == 2
    assert buttons[0].count("nhsuk-card") == 0, "the first buttons come before the first question"
    assert buttons[2].count("nhsuk-card") == 0, "the last buttons come after the last question"

    before_form, after_form = content[: content.index("<form")], content[content.index("</form>") :]
    assert f'href="{URL}pillars/well_led/"' in before_form and f'href="{URL}indicators/"' in before_form
    assert '<span class="nhsuk-contents-list__current">Ensure Smart Foundations' in before_form
    assert f'href="{URL}pillars/well_led/" rel="prev"' in after_form
    assert f'href="{URL}indicators/" rel="next"' in after_form  # the last pillar of this small framework


def test_the_unsaved_changes_warning_is_loaded_for_editors_and_knows_when_answers_are_not_saved(client, world):
    lead = as_user(client, world, "lead")
    page = lead.get(URL + "pillars/well_led/").content.decode()
    assert '<script type="module" src="/static/js/unsaved_changes.js"></script>' in page
    assert 'data-unsaved-warning="saved"' in page
    after_an_error = lead.post(URL + "pillars/well_led/", full_form(1, **{"WL01-evidence_link": "not a link"}))
    assert 'data-unsaved-warning="changed"' in after_an_error.content.decode()

    world.assessment.status = Status.SUBMITTED
    world.assessment.save()
    assert "unsaved_changes.js" not in lead.get(URL + "pillars/well_led/").content.decode()


def test_saving_the_indicators_and_continuing_leads_to_check_your_answers(client, world):
    response = as_user(client, world, "lead").post(
        URL + "indicators/", {"version": 1, "indicator-unsupported_devices_pct": "4", "continue": "1"}
    )
    assert response.status_code == 302 and response["Location"] == URL + "check/"


def test_submit_lists_what_is_missing_by_pillar_with_names_and_links_to_each_field(client, world):
    client = as_user(client, world, "lead")
    client.post(URL + "pillars/well_led/", full_form(1))
    content = main_of(client.get(URL + "submit/"))
    missing = content[content.index('id="missing"') :]
    expected_in_order = [
        f'<a href="{URL}pillars/smart_foundations/">Ensure Smart Foundations</a>',
        f'<a href="{URL}pillars/smart_foundations/#SF01-level">SF01 Infrastructure</a>',
        f'<a href="{URL}pillars/smart_foundations/#SF02-level">SF02 Acute EPR</a>',
        f'<a href="{URL}indicators/">Contextual indicators</a>',
        f'<a href="{URL}indicators/#indicator-unsupported_devices_pct">Devices on unsupported systems</a>',
    ]
    positions = [missing.index(html) for html in expected_in_order]
    assert positions == sorted(positions)
    assert "Well Led" not in missing and "EPR supplier" not in missing  # answered, and optional
    assert 'name="declared"' not in content


def test_check_your_answers_lists_every_answer_with_a_change_link_and_leads_to_the_declaration(client, world):
    lead = as_user(client, world, "lead")
    post_all_answers(lead)
    content = main_of(lead.get(URL + "check/"))
    for code, level, pillar in [
        ("WL01", 3, "well_led"),
        ("SF01", 2, "smart_foundations"),
        ("SF02", 4, "smart_foundations"),
    ]:
        row = content[content.index(f'<dt class="nhsuk-summary-list__key">{code} ') :]
        row = row[: row.index("</div>")]
        assert f"<strong>Level {level}</strong>" in row
        assert f'href="{URL}pillars/{pillar}/#{code}-level">Change<span class="nhsuk-u-visually-hidden"> {code} ' in row
    assert "Board paper" in content  # the evidence note
    devices = content[content.index("Devices on unsupported systems</dt>") :]
    devices = devices[: devices.index("</div>")]
    assert "<p>4%</p>" in devices
    assert f'href="{URL}indicators/#indicator-unsupported_devices_pct">Change' in devices
    assert "Not answered (optional)" in content  # the EPR supplier
    assert f'<a class="nhsuk-button" href="{URL}submit/">Continue to sign-off</a>' in content
    assert 'id="missing"' not in content

    submit = main_of(lead.get(URL + "submit/"))
    assert 'name="declared"' in submit and f'href="{URL}check/"' in submit


def test_check_your_answers_with_questions_left_lists_them_instead_of_the_way_to_sign_off(client, world):
    lead = as_user(client, world, "lead")
    lead.post(URL + "pillars/well_led/", full_form(1))
    content = main_of(lead.get(URL + "check/"))
    assert "Not everything is answered" in content
    assert f'href="{URL}pillars/smart_foundations/#SF01-level">SF01 Infrastructure</a>' in content
    assert "Continue to sign-off" not in content


def test_a_reviewer_reads_every_answer_without_change_links(client, world):
    post_all_answers(as_user(client, world, "lead"))
    content = main_of(as_user(client, world, "reviewer").get(URL + "check/"))
    assert "<strong>Level 3</strong>" in content
    assert ">Change<" not in content and "Continue to sign-off" not in content


def test_the_status_line_has_no_separator_left_to_dangle(client, world):
    world.cycle.closes_on = datetime.date(2026, 12, 30)
    world.cycle.save()
    content = main_of(as_user(client, world, "lead").get(URL))
    assert "2026 cycle, deadline 30 December 2026" in content
    assert "·" not in content


def main_of(response) -> str:
    content = response.content.decode()
    return content[content.index("<main") : content.index("</main>")]


@pytest.mark.parametrize("version", [None, "", "seven"])
def test_a_form_without_its_version_is_a_bad_request_not_a_refusal(client, db, version):
    from tests.factories import AssessmentFactory, lead_of

    assessment = AssessmentFactory()
    client.force_login(lead_of(assessment.trust))
    data = {} if version is None else {"version": version}
    url = f"/trusts/{assessment.trust.code}/assessments/{assessment.cycle.year}/acute/pillars/well_led/"
    response = client.post(url, data)
    assert response.status_code == 400
    assert "The form could not be used" in response.content.decode()
    assert "it did not say which version of the assessment it changes" in response.content.decode()
    assert "does not give you access" not in response.content.decode()


@pytest.mark.parametrize(
    ("page", "data", "message"),
    [
        (
            "pillars/well_led/",
            {"WL01-level": "6"},
            "WL01 Board leadership: Level must be a whole number from 1 to 5, not ‘6’",
        ),
        ("pillars/well_led/", {"WL01-level": "3", "version": "-2"}, "did not say which version"),
        ("indicators/", {"version": "", "indicator-unsupported_devices_pct": "4"}, "did not say which version"),
        ("submit/", {"declared": "on"}, "The declaration&#x27;s box sends ‘yes’ when it is ticked, not ‘on’"),
        ("reopen/", {"version": "one", "reason": "Wrong setting"}, "did not say which version"),
    ],
)
def test_a_tampered_post_is_a_bad_request_that_says_what_was_wrong_and_changes_nothing(
    client, world, page, data, message
):
    world.assessment.status = Status.APPROVED if page == "reopen/" else Status.DRAFT
    world.assessment.save()
    client = as_user(client, world, "analyst" if page == "reopen/" else "lead")
    response = client.post(URL + page, {"version": "1", **data})
    assert response.status_code == 400
    content = response.content.decode()
    assert "The form could not be used" in content and message in content
    world.assessment.refresh_from_db()
    assert world.assessment.version == 1 and not DomainAnswer.objects.exists()
    assert world.assessment.status == (Status.APPROVED if page == "reopen/" else Status.DRAFT)


def test_a_typed_mistake_stays_on_the_page_beside_its_field_whatever_else_is_right(client, world):
    response = as_user(client, world, "lead").post(
        URL + "indicators/", {"version": "1", "indicator-unsupported_devices_pct": "lots"}
    )
    assert response.status_code == 400
    content = response.content.decode()
    assert 'href="#indicator-unsupported_devices_pct"' in content and 'value="lots"' in content
    assert "The form could not be used" not in content
