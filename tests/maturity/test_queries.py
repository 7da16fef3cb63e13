"""Queries on the review page: a cross-check that fires on a submitted return is sent to the trust with a return
(only one that fires now, in the words the lead reads, kept as sent), the lead answers it by changing the answer or
explaining it before resubmitting, the reviewer reads the answer (and whether the check still fires) and approving
resolves it; every step is audited and kept on the history page, and only the right people may take each one.

The world is test_views' (R0A's 2026 acute return under a small framework: WL01, SF01 legacy IT, SF02 EPR) with two
checks of its own: SF01 at level 4 or more while over 10% of devices are unsupported, and the devices figure
outside 0 to 30%."""

import pytest
from django.core.exceptions import PermissionDenied

from maturity import actions, checks
from maturity.actions import Comment, Conflict, Invalid, QueriesUnanswered, WrongState
from maturity.models import Assessment, AuditEvent, CheckRule, QueryAnswer, ReviewQuery, Status
from tests.maturity.test_views import URL, as_user, main_of
from tests.maturity.test_views import world as world  # noqa: F401 (the views' fixture)

RULES = """\
code: query-checks
version: "1"
name: Checks for the query tests
rules:
  - code: legacy
    kind: level_while_indicator_above
    theme: legacy_it
    min_level: 4
    indicator: unsupported_devices_pct
    above: 10
    message: "{domain} is at level {level}, but {value}% of devices are unsupported ({source})."
  - code: devices_range
    kind: indicator_outside
    indicator: unsupported_devices_pct
    min: 0
    max: 30
    message: "{value}% of devices unsupported is outside {min} to {max}%."
"""
LEGACY = f"SF01 Infrastructure is at level 4, but 40% of devices are unsupported ({checks.ENTERED})."
DEVICES = "40% of devices unsupported is outside 0 to 30%."
SIGN_OFF = {"sign_off_name": "Jo Bloggs", "sign_off_role": "CEO", "declared": True}


@pytest.fixture
def submitted(world, tmp_path):
    """R0A's return, submitted with SF01 at level 4 and 40% of devices unsupported: both checks fire."""
    path = tmp_path / "query-checks-1.yaml"
    path.write_text(RULES)
    checks.load_checks(path)
    lead = world.users["lead"]
    assessment = actions.save_answers(
        by=lead,
        assessment=world.assessment,
        expected_version=1,
        answers={"WL01": {"level": "3"}, "SF01": {"level": "4"}, "SF02": {"level": "4"}},
        indicators={"unsupported_devices_pct": "40"},
    )
    actions.submit_assessment(by=lead, assessment=assessment, expected_version=assessment.version, **SIGN_OFF)
    return world


def current(world) -> Assessment:
    return Assessment.objects.get(pk=world.assessment.pk)


def return_with(world, queries, comments=(), by="reviewer"):
    assessment = current(world)
    return actions.return_assessment(
        by=world.users[by],
        assessment=assessment,
        expected_version=assessment.version,
        comments=list(comments),
        queries=queries,
    )


def answer(world, query, kind, explanation="", by="lead"):
    return actions.answer_query(
        by=world.users[by],
        query=query,
        expected_version=current(world).version,
        answer=kind,
        explanation=explanation,
    )


def resubmit(world):
    assessment = current(world)
    return actions.submit_assessment(
        by=world.users["lead"], assessment=assessment, expected_version=assessment.version, **SIGN_OFF
    )


# --- The actions -------------------------------------------------------------------------------------------------


def test_a_return_with_only_queries_sends_them_frozen_as_worded_and_audited(submitted):
    return_with(submitted, ["legacy-SF01", "devices_range-unsupported_devices_pct"])

    assessment = current(submitted)
    assert assessment.status == Status.RETURNED
    legacy, devices = ReviewQuery.objects.order_by("pk")
    assert (legacy.rule_code, legacy.subject, legacy.message, legacy.round) == ("legacy", "SF01", LEGACY, 1)
    assert (devices.domain, devices.indicator_code, devices.message) == (None, "unsupported_devices_pct", DEVICES)
    assert legacy.check_set.version == "1" and legacy.sent_by == submitted.users["reviewer"]
    assert legacy.is_open and not legacy.is_answered

    event = AuditEvent.objects.filter(action="return").get()
    assert event.summary == "Returned for changes with 2 queries"
    assert event.after["sent_queries"] == [
        {"rule": "legacy", "about": "SF01", "round": 1, "message": LEGACY},
        {"rule": "devices_range", "about": "unsupported_devices_pct", "round": 1, "message": DEVICES},
    ]
    # A later wording of the check does not change what was asked.
    CheckRule.objects.filter(code="legacy").update(message="{domain} reworded")
    assert ReviewQuery.objects.get(pk=legacy.pk).message == LEGACY


def test_a_query_whose_check_does_not_fire_now_is_refused_and_nothing_is_sent(submitted):
    with pytest.raises(Invalid) as refused:
        return_with(submitted, ["legacy-SF01", "legacy-SF02"], comments=[Comment("See the queries")])
    assert refused.value.errors == {
        "query-legacy-SF02": "The check legacy-SF02 does not fire on this return now, so it cannot be sent as a "
        "query: open the review page again to see the checks that fire"
    }
    assert current(submitted).status == Status.SUBMITTED
    assert not ReviewQuery.objects.exists() and not AuditEvent.objects.filter(action="return").exists()


def test_a_return_with_neither_comment_nor_query_is_refused(submitted):
    with pytest.raises(Invalid) as refused:
        return_with(submitted, [], comments=[Comment("  ")])
    assert "send a query" in refused.value.errors["comment"]


def test_submitting_again_is_refused_while_a_query_is_unanswered(submitted):
    return_with(submitted, ["legacy-SF01"])
    with pytest.raises(QueriesUnanswered) as refused:
        resubmit(submitted)
    assert [query.subject for query in refused.value.queries] == ["SF01"]
    assert current(submitted).status == Status.RETURNED


def test_the_lead_explains_and_submits_again(submitted):
    return_with(submitted, ["legacy-SF01"])
    query = ReviewQuery.objects.get()
    answer(submitted, query, QueryAnswer.EXPLAINED, "  The 40% are isolated lab devices, replaced in March.  ")

    query.refresh_from_db()
    assert (query.answer, query.explanation) == ("explained", "The 40% are isolated lab devices, replaced in March.")
    assert query.answered_by == submitted.users["lead"] and query.is_open
    event = AuditEvent.objects.filter(action="answer_query").get()
    assert event.summary == "Answered the query on SF01: explained the answer"
    assert event.after == {
        "query": LEGACY,
        "answer": "explained",
        "explanation": "The 40% are isolated lab devices, replaced in March.",
    }
    assert event.version == current(submitted).version
    resubmit(submitted)
    assert current(submitted).status == Status.SUBMITTED


def test_an_explanation_cannot_be_empty_and_an_answer_must_say_which(submitted):
    return_with(submitted, ["legacy-SF01"])
    query = ReviewQuery.objects.get()
    with pytest.raises(Invalid) as refused:
        answer(submitted, query, QueryAnswer.EXPLAINED, "   ")
    assert refused.value.errors == {"explanation": "Enter your explanation: why the answer stands despite the query"}
    with pytest.raises(Invalid) as refused:
        answer(submitted, query, "", "Because")
    assert list(refused.value.errors) == ["answer"]
    assert not ReviewQuery.objects.get().is_answered


def test_the_lead_changes_the_answer_and_may_say_so_while_the_check_still_fires(submitted):
    return_with(submitted, ["legacy-SF01"])
    answer(submitted, ReviewQuery.objects.get(), QueryAnswer.CHANGED)
    resubmit(submitted)
    assert ReviewQuery.objects.get().answer == "changed"
    assert current(submitted).status == Status.SUBMITTED


def test_approving_resolves_every_open_query(submitted):
    return_with(submitted, ["legacy-SF01", "devices_range-unsupported_devices_pct"])
    for query in ReviewQuery.objects.all():
        answer(submitted, query, QueryAnswer.EXPLAINED, "Lab devices")
    resubmit(submitted)
    assessment = current(submitted)
    actions.approve_assessment(
        by=submitted.users["reviewer"], assessment=assessment, expected_version=assessment.version
    )

    assert all(
        (query.resolved_by, query.is_open) == (submitted.users["reviewer"], False)
        for query in ReviewQuery.objects.all()
    )
    event = AuditEvent.objects.filter(action="approve").get()
    assert event.summary == "Approved, resolving 2 queries"
    assert [query["about"] for query in event.after["resolved_queries"]] == ["SF01", "unsupported_devices_pct"]


def test_returning_again_resolves_the_answered_queries_and_may_send_a_check_again(submitted):
    return_with(submitted, ["legacy-SF01"])
    answer(submitted, ReviewQuery.objects.get(), QueryAnswer.CHANGED)
    resubmit(submitted)
    return_with(submitted, ["legacy-SF01"], comments=[Comment("Still 40%: change the level or the figure")])

    first, second = ReviewQuery.objects.order_by("pk")
    assert (first.round, first.is_open, first.resolved_by) == (1, False, submitted.users["reviewer"])
    assert (second.round, second.is_open, second.is_answered) == (2, True, False)
    event = AuditEvent.objects.filter(action="return").order_by("pk").last()
    assert event.summary == "Returned for changes with 1 comment and 1 query"
    assert [query["round"] for query in event.after["resolved_queries"]] == [1]
    with pytest.raises(QueriesUnanswered):
        resubmit(submitted)


def test_a_resolved_query_or_a_submitted_return_takes_no_answer(submitted):
    return_with(submitted, ["legacy-SF01"])
    query = ReviewQuery.objects.get()
    answer(submitted, query, QueryAnswer.CHANGED)
    resubmit(submitted)
    with pytest.raises(WrongState):
        answer(submitted, query, QueryAnswer.EXPLAINED, "Too late")
    assessment = current(submitted)
    actions.approve_assessment(
        by=submitted.users["reviewer"], assessment=assessment, expected_version=assessment.version
    )
    with pytest.raises(WrongState):
        answer(submitted, query, QueryAnswer.EXPLAINED, "Too late")
    assert ReviewQuery.objects.get().explanation == ""


def test_an_answer_from_a_page_opened_before_another_change_is_refused(submitted):
    return_with(submitted, ["legacy-SF01"])
    query = ReviewQuery.objects.get()
    stale = current(submitted).version
    answer(submitted, query, QueryAnswer.CHANGED)
    with pytest.raises(Conflict):
        actions.answer_query(
            by=submitted.users["lead"], query=query, expected_version=stale, answer="explained", explanation="Late"
        )
    assert ReviewQuery.objects.get().answer == "changed"


@pytest.mark.parametrize("role", ["neighbour lead", "reviewer", "other reviewer", "analyst"])
def test_only_the_trusts_lead_answers_a_query(submitted, role):
    return_with(submitted, ["legacy-SF01"])
    with pytest.raises(PermissionDenied):
        answer(submitted, ReviewQuery.objects.get(), QueryAnswer.EXPLAINED, "Not mine to say", by=role)
    assert not ReviewQuery.objects.get().is_answered


@pytest.mark.parametrize("role", ["lead", "other reviewer"])
def test_only_the_ics_reviewer_sends_queries(submitted, role):
    with pytest.raises(PermissionDenied):
        return_with(submitted, ["legacy-SF01"], by=role)
    assert not ReviewQuery.objects.exists()


# --- The pages ---------------------------------------------------------------------------------------------------


def test_the_review_page_offers_each_query_with_a_box_and_a_return_sends_the_ticked_ones(client, submitted):
    reviewer = as_user(client, submitted, "reviewer")
    page = main_of(reviewer.get(URL + "review/"))
    row = page[page.index('id="domain-SF01"') : page.index('id="domain-SF02"')]
    assert f'<strong class="nhsuk-tag nhsuk-tag--yellow">Query</strong> {LEGACY}' in row
    assert 'id="query-legacy-SF01" name="query-legacy-SF01" type="checkbox" value="yes"' in row
    assert "Send this query to the trust" in row
    assert 'name="query-devices_range-unsupported_devices_pct"' in page

    version = current(submitted).version
    response = reviewer.post(URL + "review/", {"version": version, "decision": "return", "query-legacy-SF01": "yes"})
    assert response.status_code == 302
    assert [query.subject for query in ReviewQuery.objects.all()] == ["SF01"]


def test_a_query_that_no_longer_fires_is_refused_on_the_page_and_the_ticks_are_kept(client, submitted):
    reviewer = as_user(client, submitted, "reviewer")
    data = {
        "version": current(submitted).version,
        "decision": "return",
        "query-legacy-SF01": "yes",
        "query-legacy-WL01": "yes",
    }
    response = reviewer.post(URL + "review/", data)
    assert response.status_code == 400
    page = main_of(response)
    assert 'href="#query-legacy-WL01">The check legacy-WL01 does not fire on this return now' in page
    assert 'id="query-legacy-SF01" name="query-legacy-SF01" type="checkbox" value="yes" checked' in page
    assert not ReviewQuery.objects.exists()


def test_approving_with_queries_ticked_is_refused(client, submitted):
    reviewer = as_user(client, submitted, "reviewer")
    data = {"version": current(submitted).version, "decision": "approve", "query-legacy-SF01": "yes"}
    response = reviewer.post(URL + "review/", data)
    assert response.status_code == 400
    assert "they go back only with a return" in main_of(response)
    assert current(submitted).status == Status.SUBMITTED


def test_a_query_box_the_page_cannot_send_is_a_bad_request(client, submitted):
    reviewer = as_user(client, submitted, "reviewer")
    data = {"version": current(submitted).version, "decision": "return", "query-legacy-SF01": "on"}
    response = reviewer.post(URL + "review/", data)
    assert response.status_code == 400
    assert "sends ‘yes’ when it is ticked, not ‘on’" in response.content.decode()
    assert not ReviewQuery.objects.exists()


def test_the_lead_sees_the_query_beside_the_answer_and_answers_it_on_the_page(client, submitted):
    return_with(submitted, ["legacy-SF01"])
    query = ReviewQuery.objects.get()
    lead = as_user(client, submitted, "lead")

    overview = main_of(lead.get(URL))
    assert "Queries from your reviewer" in overview and LEGACY in overview
    answer_link = f"{URL}pillars/smart_foundations/#query-{query.pk}"
    assert f'href="{answer_link}">Answer the query' in overview

    pillar = main_of(lead.get(URL + "pillars/smart_foundations/"))
    assert f'id="query-{query.pk}"' in pillar and f'action="{URL}queries/{query.pk}/"' in pillar
    card = pillar[pillar.index("SF01 Infrastructure</h2>") : pillar.index("SF02 ")]
    assert f'<a href="#query-{query.pk}">Answer the query' in card

    # An explanation left empty comes back on the query's page with the error summary linking to the box.
    version = current(submitted).version
    response = lead.post(f"{URL}queries/{query.pk}/", {"version": version, "answer": "explained", "explanation": ""})
    assert response.status_code == 400
    page = main_of(response)
    assert f'href="#query-{query.pk}-explanation">Enter your explanation' in page
    assert 'value="explained" checked' in page

    data = {"version": version, "answer": "explained", "explanation": "Lab devices, off the network"}
    response = lead.post(f"{URL}queries/{query.pk}/", data)
    assert response.status_code == 302 and response["Location"] == answer_link
    assert ReviewQuery.objects.get().explanation == "Lab devices, off the network"


def test_a_query_on_an_indicator_is_answered_on_the_indicators_page(client, submitted):
    return_with(submitted, ["devices_range-unsupported_devices_pct"])
    query = ReviewQuery.objects.get()
    lead = as_user(client, submitted, "lead")
    page = main_of(lead.get(URL + "indicators/"))
    assert f'id="query-{query.pk}"' in page and DEVICES in page
    assert f'<a href="#query-{query.pk}">Answer the query' in page
    data = {"version": current(submitted).version, "answer": "changed", "explanation": ""}
    response = lead.post(f"{URL}queries/{query.pk}/", data)
    assert response["Location"] == f"{URL}indicators/#query-{query.pk}"
    assert ReviewQuery.objects.get().answer == "changed"


def test_the_submit_page_lists_unanswered_queries_with_links_and_refuses_the_submission(client, submitted):
    return_with(submitted, ["legacy-SF01"])
    query = ReviewQuery.objects.get()
    lead = as_user(client, submitted, "lead")
    page = main_of(lead.get(URL + "submit/"))
    assert "Queries to answer" in page
    assert f'<a href="{URL}pillars/smart_foundations/#query-{query.pk}">SF01 Infrastructure</a>: {LEGACY}' in page
    assert "Submit the assessment</button>" not in page

    data = {"version": current(submitted).version, "sign_off_name": "Jo", "sign_off_role": "CEO", "declared": "yes"}
    response = lead.post(URL + "submit/", data)
    assert response.status_code == 400
    assert 'href="#queries">Answer your reviewer&#x27;s queries before you submit' in main_of(response)
    assert current(submitted).status == Status.RETURNED


def test_the_reviewer_reads_the_answer_and_whether_the_check_still_fires(client, submitted):
    return_with(submitted, ["legacy-SF01", "devices_range-unsupported_devices_pct"])
    legacy, devices = ReviewQuery.objects.order_by("pk")
    answer(submitted, legacy, QueryAnswer.CHANGED)
    answer(submitted, devices, QueryAnswer.EXPLAINED, "Counted before the refresh")
    resubmit(submitted)

    page = main_of(as_user(client, submitted, "reviewer").get(URL + "review/"))
    row = page[page.index('id="domain-SF01"') : page.index('id="domain-SF02"')]
    assert "Query sent</strong> " + LEGACY in row
    assert "The trust's answer:</strong> Changed the answer" in row
    assert "Still fires</strong>" in row
    indicators = page[page.index('id="indicators"') :]
    assert "Explained the answer: Counted before the refresh" in indicators


def test_the_history_keeps_queries_sent_answered_and_resolved(client, submitted):
    return_with(submitted, ["legacy-SF01"])
    answer(submitted, ReviewQuery.objects.get(), QueryAnswer.EXPLAINED, "Lab devices")
    resubmit(submitted)
    assessment = current(submitted)
    actions.approve_assessment(
        by=submitted.users["reviewer"], assessment=assessment, expected_version=assessment.version
    )

    page = main_of(as_user(client, submitted, "lead").get(URL + "history/"))
    for summary in (
        "Returned for changes with 1 query",
        "Answered the query on SF01: explained the answer",
        "Approved, resolving 1 query",
    ):
        assert summary in page
    queries = page[page.index('id="queries"') :]
    assert LEGACY in queries and "Explained the answer: Lab devices" in queries and "Resolved</strong>" in queries


@pytest.mark.parametrize(("role", "status"), [("neighbour lead", 403), ("other reviewer", 403), ("reviewer", 403)])
def test_a_query_is_answered_only_by_its_trusts_lead(client, submitted, role, status):
    return_with(submitted, ["legacy-SF01"])
    query = ReviewQuery.objects.get()
    data = {"version": current(submitted).version, "answer": "explained", "explanation": "Not mine"}
    assert as_user(client, submitted, role).post(f"{URL}queries/{query.pk}/", data).status_code == status
    assert not ReviewQuery.objects.get().is_answered


def test_a_query_of_another_assessment_is_not_found(client, submitted):
    return_with(submitted, ["legacy-SF01"])
    query = ReviewQuery.objects.get()
    lead = as_user(client, submitted, "lead")
    assert lead.get(f"/trusts/R0A/assessments/2026/community/queries/{query.pk}/").status_code == 404
    assert lead.get(f"{URL}queries/{query.pk}/").status_code == 200


def test_the_return_e_mail_lists_the_queries_apart_from_the_comments(submitted):
    from notifications.models import Kind, OutboxEmail

    submitted.users["lead"].email = "lead@r0a.example.nhs.uk"
    submitted.users["lead"].save()
    return_with(submitted, ["legacy-SF01", "devices_range-unsupported_devices_pct"], [Comment("See the board paper.")])

    body = OutboxEmail.objects.get(kind=Kind.RETURNED).body
    comments, queries = body.split("Queries to answer before you submit again")
    assert "- See the board paper." in comments and "Query" not in comments
    assert f"- {LEGACY}" in queries and f"- {DEVICES}" in queries


# --- The admin ---------------------------------------------------------------------------------------------------


def test_the_admin_lists_queries_open_first_to_read_only(client, submitted):
    return_with(submitted, ["legacy-SF01"])
    query = ReviewQuery.objects.get()
    client.force_login(submitted.users["admin"])

    listing = client.get("/admin/maturity/reviewquery/?resolved_at__isempty=1").content.decode()
    assert ">legacy</a>" in listing and submitted.assessment.trust.name in listing
    page = client.get(f"/admin/maturity/reviewquery/{query.pk}/change/").content.decode()
    assert "40% of devices are unsupported" in page
    assert 'name="_save"' not in page  # written on the review pages only
    assert client.get("/admin/maturity/reviewquery/add/").status_code == 403

    answer(submitted, query, QueryAnswer.EXPLAINED, "Replacement under way")
    resubmit(submitted)
    actions.approve_assessment(
        by=submitted.users["reviewer"], assessment=current(submitted), expected_version=current(submitted).version
    )
    assert ">legacy</a>" not in client.get("/admin/maturity/reviewquery/?resolved_at__isempty=1").content.decode()
