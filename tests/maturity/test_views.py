from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model

from maturity.models import Assessment, DomainAnswer, Status
from tests.factories import AssessmentFactory, CycleFactory, ICSFactory, TrustFactory, analyst, lead_of, reviewer_of
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


PAGES = ["", "pillars/well_led/", "indicators/", "submit/", "history/", "template.xlsx", "template.csv", "upload/"]
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
    assert 'value="2" aria-describedby="WL01-level-2-hint" checked' in content
    assert 'name="version" value="2"' in content
    assert DomainAnswer.objects.get().level == 4


def test_submit_lists_what_is_missing(client, world):
    client = as_user(client, world, "lead")
    client.post(URL + "pillars/well_led/", full_form(1))
    content = client.get(URL + "submit/").content.decode()
    assert "Still to answer" in content and "SF01" in content and "unsupported_devices_pct" in content


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
