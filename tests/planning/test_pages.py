"""The planner's pages, its links, and the board pack's "Improvement plans" section."""

import pytest
from django.urls import reverse

from planning.models import PlannedStep
from tests.factories import ICSFactory, TrustFactory, analyst, lead_of, reviewer_of
from trusts import permissions


def plan_path(assessment):
    return reverse("planning:plan", args=[assessment.trust.code, assessment.cycle.year, "acute"])


def form(**rows):
    """The planner's post: each domain row as level, date, owner; blank rows are "No change"."""
    data = {"action": rows.pop("action", "simulate"), "version": rows.pop("version", "0")}
    for code, (level, date, owner) in rows.items():
        data |= {f"{code}-level": level, f"{code}-target_date": date, f"{code}-owner": owner}
    return data


@pytest.fixture
def lead(world):
    return lead_of(world["assessment"].trust)


def test_the_planner_shows_each_pillar_what_holds_it_back_and_where_the_trust_stands(client, world, lead):
    client.force_login(lead)
    response = client.get(plan_path(world["assessment"]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Held below level 3 by SF01 (level 1), SF02 (level 2)" in page
    assert "Raising the first 1 to level 3 is enough." in page
    assert "percentile in Greater Manchester" in page
    assert "No plan has been saved yet" in page


def test_a_post_recomputes_the_simulation_without_saving(client, world, lead):
    client.force_login(lead)
    response = client.post(plan_path(world["assessment"]), form(SF01=("3", "2027-03-31", "Head of infrastructure")))
    assert response.status_code == 200
    page = response.content.decode()
    # Smart foundations: levels 1, 2, 4 now (2.33); 3, 2, 4 with the step (3.00), its next whole level.
    assert "2.33" in page and "Level 3 reached" in page
    assert "They are not saved until you choose" in page
    assert not PlannedStep.objects.exists()


def test_save_plan_saves_it_and_the_page_shows_it_again(client, world, lead):
    client.force_login(lead)
    path = plan_path(world["assessment"])
    response = client.post(path, form(action="save", SF01=("3", "2027-03-31", "Head of infrastructure")))
    assert response.status_code == 302 and response["Location"] == path
    assert PlannedStep.objects.get().owner == "Head of infrastructure"
    page = client.get(path).content.decode()
    assert 'value="Head of infrastructure"' in page and 'value="2027-03-31"' in page
    assert "Level 3 reached" in page


def test_a_save_over_someone_elses_keeps_the_typed_steps_and_a_second_save_replaces_it(client, world, lead):
    path = plan_path(world["assessment"])
    client.force_login(reviewer_of(world["ics"]))
    client.post(path, form(action="save", WL01=("3", "2027-03-31", "ICS digital lead")))
    client.force_login(lead)
    # The lead's page was opened before the reviewer saved: it carries version 0.
    response = client.post(path, form(action="save", SF01=("3", "2027-03-31", "Head of infrastructure")))
    page = response.content.decode()
    assert "Someone saved this plan since you opened the page" in page
    assert 'value="Head of infrastructure"' in page and 'name="version" value="1"' in page
    assert dict(PlannedStep.objects.values_list("domain__code", "owner")) == {"WL01": "ICS digital lead"}
    again = form(action="save", version="1", SF01=("3", "2027-03-31", "Head of infrastructure"))
    assert client.post(path, again).status_code == 302
    assert dict(PlannedStep.objects.values_list("domain__code", "owner")) == {"SF01": "Head of infrastructure"}


def test_a_wrong_step_is_shown_beside_its_field_with_an_error_summary(client, world, lead):
    client.force_login(lead)
    response = client.post(plan_path(world["assessment"]), form(action="save", SF01=("3", "2020-01-01", "")))
    assert response.status_code == 400
    page = response.content.decode()
    assert 'href="#id_SF01-target_date"' in page and 'href="#id_SF01-owner"' in page
    assert "when the 2026 cycle opened" in page and "enter who owns this step" in page
    assert not PlannedStep.objects.exists()


def test_a_planned_level_without_a_date_is_asked_for(client, world, lead):
    client.force_login(lead)
    response = client.post(plan_path(world["assessment"]), form(SF01=("3", "", "Someone")))
    assert response.status_code == 400
    assert 'href="#id_SF01-target_date"' in response.content.decode()
    assert "enter a target date for the step" in response.content.decode()


def test_a_post_the_page_could_not_send_is_refused(client, world, lead):
    client.force_login(lead)
    response = client.post(plan_path(world["assessment"]), {"action": "publish", "version": "0"})
    assert response.status_code == 400
    assert client.post(plan_path(world["assessment"]), {"action": "save"}).status_code == 400


@pytest.mark.parametrize(
    "who",
    [
        lambda world: lead_of(TrustFactory(ics=world["ics"])),
        lambda world: reviewer_of(ICSFactory()),
    ],
    ids=["other trust's lead", "other ICS's reviewer"],
)
def test_nobody_else_learns_the_planner_exists(client, world, who):
    client.force_login(who(world))
    path = plan_path(world["assessment"])
    assert client.get(path).status_code == 404
    assert client.post(path, form(action="save", SF01=("3", "2027-03-31", "Someone"))).status_code == 404
    assert client.get(reverse("planning:choose", args=[world["assessment"].trust.code, 2026])).status_code == 404
    assert not PlannedStep.objects.exists()


def test_the_anonymous_are_sent_to_log_in(client, world):
    response = client.get(plan_path(world["assessment"]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("who", [lambda world: reviewer_of(world["ics"]), lambda world: analyst()])
def test_the_ics_reviewer_and_analysts_open_the_planner(client, world, who):
    client.force_login(who(world))
    assert client.get(plan_path(world["assessment"])).status_code == 200


def test_the_trust_planner_goes_straight_to_its_only_return(client, world, lead):
    client.force_login(lead)
    assessment = world["assessment"]
    response = client.get(reverse("planning:choose", args=[assessment.trust.code.lower(), 2026]))
    assert response.status_code == 302 and response["Location"] == plan_path(assessment)


def test_the_assessment_overview_and_the_trust_page_link_to_the_planner(client, world, lead):
    client.force_login(lead)
    assessment = world["assessment"]
    overview = reverse("trust_assessment:overview", args=[assessment.trust.code, 2026, "acute"])
    assert plan_path(assessment) in client.get(overview).content.decode()
    assert plan_path(assessment) in client.get(reverse("trust", args=[assessment.trust.code])).content.decode()


# --- The board pack ------------------------------------------------------------------------------------------------


def save_a_plan(client, world):
    client.force_login(lead_of(world["assessment"].trust))
    client.post(plan_path(world["assessment"]), form(action="save", SF01=("3", "2027-03-31", "Head of infra")))
    client.logout()


def test_the_board_pack_lists_the_member_trusts_plans_for_the_ics_reviewer(client, world):
    save_a_plan(client, world)
    client.force_login(reviewer_of(world["ics"]))
    page = client.get(reverse("ics_print", args=[world["ics"].code])).content.decode()
    assert "Improvement plans" in page
    # After the appendix, on a page of its own: the body keeps to six pages.
    assert page.index("Appendix: the data behind each chart") < page.index("Improvement plans")
    section = page[page.index("Improvement plans") :]
    assert world["assessment"].trust.name in section
    assert "Ensure Smart Foundations" in section  # the pillar that would reach its next level
    assert "31 Mar 2027" in section


def test_a_plan_saved_after_the_pack_was_drawn_appears_in_it(client, world):
    client.force_login(reviewer_of(world["ics"]))
    path = reverse("ics_print", args=[world["ics"].code])
    assert "Improvement plans" not in client.get(path).content.decode()  # no section without a plan
    save_a_plan(client, world)
    client.force_login(reviewer_of(world["ics"]))
    assert world["assessment"].trust.name in client.get(path).content.decode().split("Improvement plans")[1]


def test_a_lead_sees_no_plans_in_the_board_pack(client, world):
    save_a_plan(client, world)
    client.force_login(lead_of(world["assessment"].trust))
    page = client.get(reverse("ics_print", args=[world["ics"].code])).content.decode()
    assert "Improvement plans" not in page
    assert "board-pack-live-part" not in page


def test_the_board_packs_plans_are_read_in_a_fixed_few_queries_whatever_their_number(
    world, django_assert_max_num_queries
):
    import datetime

    from planning import actions, plans

    reviewer = reviewer_of(world["ics"])
    viewer = permissions.viewer_of(reviewer)
    step = actions.Step(5, datetime.date(2027, 3, 31), "Chief information officer")
    for number, assessment in enumerate([world["assessment"], *world["others"][:3]], start=1):
        domain = next(answer.code for answer in plans.answers_of(assessment) if answer.level and answer.level < 5)
        actions.save_plan(by=reviewer, assessment=assessment, steps={domain: step}, expected_version=0)
        if number in (1, 4):
            # The same few reads for one plan as for four.
            with django_assert_max_num_queries(6):
                found = plans.ics_plan_summaries(viewer, world["ics"], assessment.cycle.year)
            assert len(found) == number


def test_the_admin_shows_a_saved_plan_and_its_steps_read_only(client, world, lead, django_user_model):
    client.force_login(lead)
    client.post(plan_path(world["assessment"]), form(action="save", SF01=("3", "2027-03-31", "Head of infrastructure")))
    plan = PlannedStep.objects.get().plan
    client.force_login(django_user_model.objects.create_superuser("admin", password="x"))

    listing = client.get("/admin/planning/plan/").content.decode()
    assert world["assessment"].trust.name in listing
    page = client.get(f"/admin/planning/plan/{plan.pk}/change/").content.decode()
    assert "<p>Head of infrastructure</p>" in page and "<p>31 Mar 2027</p>" in page
    assert 'name="_save"' not in page
