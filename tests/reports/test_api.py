"""The REST API: every endpoint for every role, token and session authentication, the token page and command, writes
through the same action as the forms (validation, version check, audit, refresh mark), the datasets' filters,
pagination and CSV, one error body for every error, the schema and the documentation page."""

import csv
import datetime
import io
import json
import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.http import HttpResponse
from django.test import Client
from django.utils import timezone
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from maturity import access
from maturity.models import (
    Assessment,
    AuditEvent,
    Cycle,
    CycleKind,
    CycleState,
    DomainAnswer,
    IndicatorValue,
    Pillar,
    PublishedScore,
    RefreshMark,
    Source,
    Status,
)
from reports.api.auth import token_or_login_required
from reports.api.pagination import PageNumberPagination
from reports.exports.datasets import DATASETS, visible_rows
from reports.models import ApiToken
from reports.summaries import tables
from tests.factories import (
    AssessmentFactory,
    CycleFactory,
    ICSFactory,
    RegionFactory,
    TrustFactory,
    UserFactory,
    analyst,
    api_token,
    lead_of,
    reviewer_of,
)
from trusts.models import CareSetting
from trusts.permissions import viewer_of

API = "/api/v1/"
ROLES = ["lead", "reviewer", "other reviewer", "analyst", "admin", "no role"]
LEVELS = {"WL01": 3, "SF01": 2, "SF02": 4}
PILLAR_SCORES_CONTRACT = [
    "cycle",
    "region_code",
    "region_name",
    "ics_code",
    "ics_name",
    "org_code",
    "org_name",
    "org_type",
    "trust_type",
    "care_setting",
    "pillar_code",
    "pillar_name",
    "score",
    "source",
    "status",
]
DATASET_ENDPOINTS = {
    "pillar-scores": "pillar-scores",
    "domain-scores": "domain-scores",
    "indicators": "indicators",
    "gaps": "gaps",
    "assessments": "assessments-status",
}


def answered(assessment, status=Status.SUBMITTED):
    DomainAnswer.objects.bulk_create(
        DomainAnswer(assessment=assessment, domain=domain, level=LEVELS[domain.code])
        for domain in assessment.applicable_domains()
    )
    IndicatorValue.objects.create(assessment=assessment, indicator_code="unsupported_devices_pct", number=4)
    Assessment.objects.filter(pk=assessment.pk).update(status=status)
    assessment.refresh_from_db()
    return assessment


@pytest.fixture
def world(db):
    """ICS QOP (north) with trusts R0A and RBV, ICS QVV (south) with R0D; the 2026 cycle open: R0A's acute return a
    draft (the one written to), its community return, RBV's and QOP's own submitted, R0D's approved; and NHS
    England's published 2025 result for R0D, public to everyone."""
    north = RegionFactory(code="Y62", name="North West")
    south = RegionFactory(code="Y58", name="South West")
    qop = ICSFactory(code="QOP", name="NHS Greater Manchester Integrated Care Board", region=north)
    qvv = ICSFactory(code="QVV", name="NHS Dorset Integrated Care Board", region=south)
    r0a = TrustFactory(
        code="R0A",
        name="Manchester University NHS FT",
        ics=qop,
        care_settings=[CareSetting.ACUTE, CareSetting.COMMUNITY],
    )
    # A name a spreadsheet would run as a formula: the CSV must neutralise it.
    rbv = TrustFactory(code="RBV", name="=HYPERLINK(1) Christie NHS FT", ics=qop)
    r0d = TrustFactory(code="R0D", name="University Hospitals Dorset NHS FT", ics=qvv)
    cycle = CycleFactory()
    draft = AssessmentFactory(cycle=cycle, trust=r0a)
    assessments = {
        "r0a draft": draft,
        "r0a community": answered(AssessmentFactory(cycle=cycle, trust=r0a, care_setting_id=CareSetting.COMMUNITY)),
        "rbv": answered(AssessmentFactory(cycle=cycle, trust=rbv)),
        "r0d": answered(AssessmentFactory(cycle=cycle, trust=r0d), status=Status.APPROVED),
        "qop own": answered(
            Assessment.objects.create(cycle=cycle, ics=qop, region=north, framework=cycle.ics_framework)
        ),
        "qvv own": Assessment.objects.create(cycle=cycle, ics=qvv, region=south, framework=cycle.ics_framework),
    }
    history = Cycle.objects.create(year=2025, kind=CycleKind.PUBLISHED_HISTORY, state=CycleState.PUBLISHED)
    published = Assessment.objects.create(
        cycle=history,
        trust=r0d,
        care_setting_id=CareSetting.ACUTE,
        ics=qvv,
        region=south,
        source=Source.PUBLISHED,
        status=Status.PUBLISHED,
    )
    for code, _ in Pillar.ALL:
        PublishedScore.objects.create(assessment=published, pillar=Pillar.objects.get(code=code), score=2.5)
    PublishedScore.objects.create(assessment=published, pillar=None, score=2.4)
    assessments["r0d published"] = published
    tables.rebuild()
    users = {
        "lead": lead_of(r0a, user__username="lead-r0a"),
        "reviewer": reviewer_of(qop, user__username="ics-qop"),
        "other reviewer": reviewer_of(qvv, user__username="ics-qvv"),
        "analyst": analyst(user__username="analyst"),
        "admin": get_user_model().objects.create_superuser("admin", password="x"),
        "no role": UserFactory(username="nobody"),
    }
    return SimpleNamespace(cycle=cycle, history=history, draft=draft, assessments=assessments, users=users)


def api(world, role) -> Client:
    """A client authenticated with the role's API token, as a script would be (one token per user and role)."""
    tokens = vars(world).setdefault("tokens", {})
    if role not in tokens:
        tokens[role] = api_token(world.users[role])
    return Client(HTTP_AUTHORIZATION=f"Token {tokens[role]}")


def results(response) -> list[dict]:
    assert response.status_code == 200, response.content[:500]
    return response.json()["results"]


def assert_error(response, status: int, code: str | None = None) -> dict:
    """Every error has the one body: {"error": {"status", "code", "message", "fields"}}."""
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/json")
    error = json.loads(response.content)["error"]
    assert error["status"] == status
    assert error["message"]
    assert isinstance(error["fields"], dict)
    if code is not None:
        assert error["code"] == code
    return error


# --- Authentication ----------------------------------------------------------------------------------------------

ENDPOINTS = [
    "regions/",
    "regions/Y62/",
    "icss/",
    "icss/QOP/",
    "trusts/",
    "trusts/R0A/",
    "cycles/",
    "cycles/2026/",
    "frameworks/",
    "assessments/",
    *(f"{endpoint}/" for endpoint in DATASET_ENDPOINTS.values()),
]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_anonymous_requests_are_refused_with_401(client, world, endpoint):
    response = client.get(API + endpoint)
    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == "Token"


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_an_analyst_reads_every_endpoint_with_a_token(world, endpoint):
    assert api(world, "analyst").get(API + endpoint).status_code == 200


def test_a_session_works_too(client, world):
    client.force_login(world.users["analyst"])
    assert client.get(API + "trusts/").status_code == 200


def test_a_wrong_token_is_refused(world):
    response = Client(HTTP_AUTHORIZATION="Token not-a-real-token").get(API + "trusts/")
    assert_error(response, 401, "authentication_failed")


def test_a_token_sees_exactly_what_its_user_sees(client, world):
    client.force_login(world.users["reviewer"])
    by_session = client.get(API + "assessments/").json()
    assert api(world, "reviewer").get(API + "assessments/").json() == by_session


def test_writes_with_the_session_need_the_csrf_token_and_with_a_token_do_not(world):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(world.users["lead"])
    body = {"version": world.draft.version, "answers": {"WL01": {"level": 2}}}
    url = f"{API}assessments/{world.draft.pk}/answers/"
    assert_error(browser.patch(url, body, content_type="application/json"), 403, "permission_denied")
    assert api(world, "lead").patch(url, body, content_type="application/json").status_code == 200


# --- Tokens: the page and the command ---------------------------------------------------------------------------


def test_the_token_page_needs_a_login(client, world):
    response = client.get("/account/api-token/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_token_page_creates_shows_and_revokes_a_token(client, world):
    user = world.users["lead"]
    client.force_login(user)
    page = client.get("/account/api-token/")
    assert page.status_code == 200
    assert b"You have no API token" in page.content

    response = client.post("/account/api-token/", {"action": "create"})
    token = response.context["new_token"]
    assert token in response.content.decode() and "shown only once" in response.content.decode()
    assert response["Cache-Control"].startswith("max-age=0")
    assert token not in client.get("/account/api-token/").content.decode()  # shown once
    stored = ApiToken.objects.get(user=user)
    assert token not in (stored.digest, stored.token_key) and token.startswith(stored.token_key)
    assert stored.expiry.date() == (timezone.now() + timedelta(days=90)).date()
    assert stored.last_used_at is None
    assert Client(HTTP_AUTHORIZATION=f"Token {token}").get(API + "trusts/").status_code == 200
    stored.refresh_from_db()
    assert stored.last_used_at is not None
    assert "Last used" in client.get("/account/api-token/").content.decode()

    client.post("/account/api-token/", {"action": "revoke"})
    assert not ApiToken.objects.filter(user=user).exists()
    assert Client(HTTP_AUTHORIZATION=f"Token {token}").get(API + "trusts/").status_code == 401


def test_an_expired_token_is_refused(world):
    token = api_token(world.users["lead"])
    ApiToken.objects.update(expiry=timezone.now() - timedelta(seconds=1))
    assert Client(HTTP_AUTHORIZATION=f"Token {token}").get(API + "trusts/").status_code == 401


def test_creating_again_replaces_the_token(client, world):
    client.force_login(world.users["lead"])
    first = client.post("/account/api-token/", {"action": "create"}).context["new_token"]
    second = client.post("/account/api-token/", {"action": "create"}).context["new_token"]
    assert first != second and ApiToken.objects.filter(user=world.users["lead"]).count() == 1
    assert Client(HTTP_AUTHORIZATION=f"Token {first}").get(API + "trusts/").status_code == 401


@pytest.mark.parametrize(("data", "message"), [({"action": "renew"}, "not ‘renew’"), ({}, "did not say whether")])
def test_a_token_page_post_without_one_of_its_buttons_is_a_bad_request_that_changes_nothing(
    client, world, data, message
):
    token = api_token(world.users["lead"])
    client.force_login(world.users["lead"])
    response = client.post("/account/api-token/", data)
    assert response.status_code == 400 and message in response.content.decode()
    assert Client(HTTP_AUTHORIZATION=f"Token {token}").get(API + "trusts/").status_code == 200


def test_the_token_page_touches_only_its_users_token(client, world):
    other = api_token(world.users["analyst"])
    client.force_login(world.users["lead"])
    client.post("/account/api-token/", {"action": "revoke"})
    assert Client(HTTP_AUTHORIZATION=f"Token {other}").get(API + "trusts/").status_code == 200


def test_create_api_token_command_makes_a_working_token(world):
    out = io.StringIO()
    call_command("create_api_token", "analyst", stdout=out)
    token = out.getvalue().split()[-1]
    assert Client(HTTP_AUTHORIZATION=f"Token {token}").get(API + "trusts/").status_code == 200


# --- Organisations and reference data, by role ------------------------------------------------------------------

SEES_TRUSTS = {
    "lead": {"R0A"},
    "reviewer": {"R0A", "RBV"},
    "other reviewer": {"R0D"},
    "analyst": {"R0A", "RBV", "R0D"},
    "admin": {"R0A", "RBV", "R0D"},
    "no role": set(),
}
SEES_ICSS = {
    "lead": {"QOP"},
    "reviewer": {"QOP"},
    "other reviewer": {"QVV"},
    "analyst": {"QOP", "QVV"},
    "admin": {"QOP", "QVV"},
    "no role": set(),
}


@pytest.mark.parametrize("role", ROLES)
def test_trusts_list_holds_the_trusts_a_role_may_open(world, role):
    assert {trust["code"] for trust in results(api(world, role).get(API + "trusts/"))} == SEES_TRUSTS[role]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("code", ["R0A", "RBV", "R0D"])
def test_a_trust_outside_the_list_is_refused_not_hidden(world, role, code):
    response = api(world, role).get(f"{API}trusts/{code}/")
    if code in SEES_TRUSTS[role]:
        assert response.json()["code"] == code
    else:
        assert_error(response, 403, "permission_denied")


def test_trust_codes_are_case_insensitive_and_unknown_ones_404(world):
    client = api(world, "analyst")
    trust = client.get(API + "trusts/r0a/").json()
    assert trust["code"] == "R0A"
    assert trust["ics"] == "QOP" and trust["region"] == "Y62"
    assert trust["care_settings"] == ["acute", "community"]
    assert_error(client.get(API + "trusts/ZZZ/"), 404, "not_found")


def test_trusts_filter(world):
    client = api(world, "analyst")
    assert {t["code"] for t in results(client.get(API + "trusts/", {"ics": "qop"}))} == {"R0A", "RBV"}
    assert {t["code"] for t in results(client.get(API + "trusts/", {"region": "Y58"}))} == {"R0D"}
    assert {t["code"] for t in results(client.get(API + "trusts/", {"care_setting": "community"}))} == {"R0A"}
    assert_error(client.get(API + "trusts/", {"trust_type": "dentistry"}), 400, "invalid")


@pytest.mark.parametrize("role", ROLES)
def test_icss_list_holds_the_icss_a_role_may_open(world, role):
    client = api(world, role)
    assert {ics["code"] for ics in results(client.get(API + "icss/"))} == SEES_ICSS[role]
    for code in {"QOP", "QVV"} - SEES_ICSS[role]:
        assert_error(client.get(f"{API}icss/{code.lower()}/"), 403)


@pytest.mark.parametrize("role", ROLES)
def test_everyone_sees_regions_cycles_and_frameworks(world, role):
    client = api(world, role)
    assert {region["code"] for region in results(client.get(API + "regions/"))} == {"Y62", "Y58"}
    assert client.get(API + "regions/y62/").json()["name"] == "North West"
    assert [cycle["year"] for cycle in results(client.get(API + "cycles/"))] == [2026, 2025]
    assert len(results(client.get(API + "frameworks/"))) == 2


def test_a_cycle_by_year(world):
    cycle = api(world, "lead").get(API + "cycles/2026/").json()
    assert cycle["state"] == "open"
    assert cycle["trust_framework"] == world.cycle.trust_framework_id
    assert_error(api(world, "lead").get(API + "cycles/1999/"), 404)


def test_a_framework_has_its_pillars_domains_and_indicators(world):
    framework = api(world, "lead").get(f"{API}frameworks/{world.cycle.trust_framework_id}/").json()
    assert [pillar["code"] for pillar in framework["pillars"]] == ["well_led", "smart_foundations"]
    foundations = framework["pillars"][1]["domains"]
    assert [domain["code"] for domain in foundations] == ["SF01", "SF02"]
    sf02 = foundations[1]
    assert set(sf02) >= {
        "code",
        "name",
        "description",
        "levels",
        "care_settings",
        "themes",
        "weight",
        "comparable_with",
    }
    assert sf02["care_settings"] == ["acute"] and sf02["themes"] == ["epr"] and len(sf02["levels"]) == 5
    assert sf02["weight"] == 1 and sf02["comparable_with"] is None
    assert {indicator["code"] for indicator in framework["indicators"]} == {"unsupported_devices_pct", "epr_supplier"}


# --- Assessments, by role ---------------------------------------------------------------------------------------

SEES_ASSESSMENTS = {
    "lead": {"r0a draft", "r0a community"},
    "reviewer": {"r0a draft", "r0a community", "rbv", "qop own"},
    "other reviewer": {"r0d", "qvv own", "r0d published"},
    "analyst": {"r0a draft", "r0a community", "rbv", "r0d", "qop own", "qvv own", "r0d published"},
    "admin": {"r0a draft", "r0a community", "rbv", "r0d", "qop own", "qvv own", "r0d published"},
    "no role": set(),
}


@pytest.mark.parametrize("role", ROLES)
def test_assessments_list_holds_what_the_role_may_see_named(world, role):
    names = {assessment.pk: name for name, assessment in world.assessments.items()}
    listed = {names[row["id"]] for row in results(api(world, role).get(API + "assessments/"))}
    assert listed == SEES_ASSESSMENTS[role]


@pytest.mark.parametrize("role", ROLES)
def test_the_list_filter_is_may_view_assessment_by_assessment(world, role):
    user = world.users[role]
    listed = set(Assessment.objects.named_to(viewer_of(user)).values_list("pk", flat=True))
    assert listed == {a.pk for a in Assessment.objects.all() if access.may_view(user, a)}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", ["r0a draft", "rbv", "qop own", "r0d published"])
def test_an_assessment_outside_the_list_is_refused(world, role, name):
    response = api(world, role).get(f"{API}assessments/{world.assessments[name].pk}/")
    if name in SEES_ASSESSMENTS[role]:
        assert response.json()["id"] == world.assessments[name].pk
    else:
        assert_error(response, 403, "permission_denied")


def test_an_unknown_assessment_is_404(world):
    assert_error(api(world, "analyst").get(f"{API}assessments/999999/"), 404, "not_found")
    assert_error(api(world, "analyst").get(f"{API}assessments/abc/"), 404, "not_found")


def test_an_assessment_carries_its_answers_and_indicator_values(world):
    assessment = api(world, "reviewer").get(f"{API}assessments/{world.assessments['rbv'].pk}/").json()
    assert assessment["org_type"] == "trust" and assessment["org_code"] == "RBV"
    assert assessment["cycle"] == 2026 and assessment["care_setting"] == "acute" and assessment["status"] == "submitted"
    assert assessment["answers"]["WL01"] == {
        "pillar": "well_led",
        "level": 3,
        "evidence_note": "",
        "evidence_link": "",
        "evidence_verified_at": None,
        "evidence_verified_by": "",
    }
    assert set(assessment["answers"]) == {"WL01", "SF01", "SF02"}
    assert assessment["indicators"] == {"unsupported_devices_pct": "4", "epr_supplier": ""}


def test_an_answer_says_when_and_by_whom_its_evidence_was_verified(world):
    reviewer = world.users["reviewer"]
    reviewer.first_name, reviewer.last_name = "Sam", "Reviewer"
    reviewer.save()
    when = datetime.datetime(2026, 7, 1, 9, 30, tzinfo=datetime.UTC)
    world.assessments["rbv"].answers.filter(domain__code="WL01").update(
        evidence_note="Board paper", evidence_verified_by=reviewer, evidence_verified_at=when
    )
    answers = api(world, "analyst").get(f"{API}assessments/{world.assessments['rbv'].pk}/").json()["answers"]
    assert answers["WL01"]["evidence_verified_by"] == "Sam Reviewer"
    assert datetime.datetime.fromisoformat(answers["WL01"]["evidence_verified_at"]) == when
    assert answers["SF01"]["evidence_verified_at"] is None and answers["SF01"]["evidence_verified_by"] == ""


def test_an_ics_assessment_names_its_icb(world):
    assessment = api(world, "reviewer").get(f"{API}assessments/{world.assessments['qop own'].pk}/").json()
    assert assessment["org_type"] == "ics" and assessment["org_code"] == "QOP" and assessment["trust"] is None
    assert set(assessment["answers"]) == {"WL01", "SF01"}  # SF02 is for acute returns only


def test_assessments_filter(world):
    client = api(world, "analyst")
    assert len(results(client.get(API + "assessments/", {"cycle": 2025}))) == 1
    assert {a["org_code"] for a in results(client.get(API + "assessments/", {"org_type": "ics"}))} == {"QOP", "QVV"}
    assert {a["status"] for a in results(client.get(API + "assessments/", {"trust": "r0a"}))} == {"draft", "submitted"}


# --- Writes: the same action as the forms -----------------------------------------------------------------------


def patch_answers(client, assessment, body):
    return client.patch(f"{API}assessments/{assessment.pk}/answers/", body, content_type="application/json")


def test_a_lead_saves_answers_and_indicators(world):
    body = {
        "version": world.draft.version,
        "answers": {"WL01": {"level": 3, "evidence_note": "Board paper", "evidence_link": "https://example.nhs.uk/p"}},
        "indicators": {"unsupported_devices_pct": "4.5", "epr_supplier": "epic"},
    }
    response = patch_answers(api(world, "lead"), world.draft, body)
    assert response.status_code == 200, response.content
    saved = response.json()
    assert saved["version"] == world.draft.version + 1
    assert saved["answers"]["WL01"]["level"] == 3
    assert saved["indicators"] == {"unsupported_devices_pct": "4.5", "epr_supplier": "Epic"}
    answer = DomainAnswer.objects.get(assessment=world.draft, domain__code="WL01")
    assert (answer.level, answer.evidence_note) == (3, "Board paper")


def test_a_save_through_the_api_is_audited(world):
    patch_answers(api(world, "lead"), world.draft, {"version": world.draft.version, "answers": {"WL01": {"level": 4}}})
    event = AuditEvent.objects.get(assessment=world.draft, action="api")
    assert event.actor == world.users["lead"]
    assert event.after == {"WL01": {"level": 4, "evidence_note": "", "evidence_link": ""}}
    assert event.version == world.draft.version + 1
    # A draft counts in no summary, so its saves mark nothing for refresh (maturity.refresh.mark_if_counted).
    assert not RefreshMark.objects.filter(assessment=world.draft).exists()


def test_answer_fields_left_out_keep_their_values(world):
    client = api(world, "lead")
    patch_answers(
        client, world.draft, {"version": 1, "answers": {"WL01": {"level": 2, "evidence_note": "Board paper"}}}
    )
    response = patch_answers(client, world.draft, {"version": 2, "answers": {"WL01": {"level": 3}}})
    assert response.json()["answers"]["WL01"] == {
        "pillar": "well_led",
        "level": 3,
        "evidence_note": "Board paper",
        "evidence_link": "",
        "evidence_verified_at": None,
        "evidence_verified_by": "",
    }


def test_sending_back_what_was_read_changes_nothing(world):
    client = api(world, "lead")
    read = client.get(f"{API}assessments/{world.draft.pk}/").json()
    answers = {code: {k: v for k, v in answer.items() if k != "pillar"} for code, answer in read["answers"].items()}
    response = patch_answers(client, world.draft, {"version": read["version"], **{"answers": answers}})
    assert response.json()["version"] == read["version"]
    assert not AuditEvent.objects.filter(assessment=world.draft, action="api").exists()


def test_invalid_values_answer_400_with_the_forms_field_keys_and_messages(client, world):
    body = {"version": 1, "answers": {"WL01": {"level": 7}}, "indicators": {"unsupported_devices_pct": "lots"}}
    error = assert_error(patch_answers(api(world, "lead"), world.draft, body), 400, "invalid")
    assert set(error["fields"]) == {"WL01-level", "indicator-unsupported_devices_pct"}
    assert "Level must be a whole number from 1 to 5, not ‘7’" in error["fields"]["WL01-level"]
    assert not DomainAnswer.objects.filter(assessment=world.draft).exists()
    # The form says the same, because both go through maturity.actions.save_answers.
    client.force_login(world.users["lead"])
    form = client.post("/trusts/R0A/assessments/2026/acute/pillars/well_led/", {"version": 1, "WL01-level": "7"})
    assert form.status_code == 400
    assert error["fields"]["WL01-level"] in form.content.decode()


def test_unknown_codes_are_invalid(world):
    body = {"version": 1, "answers": {"XX99": {"level": 3}}, "indicators": {"nope": "1"}}
    error = assert_error(patch_answers(api(world, "lead"), world.draft, body), 400, "invalid")
    assert set(error["fields"]) == {"XX99-level", "indicator-nope"}


def test_a_malformed_body_answers_400_and_a_form_body_415(world):
    client = api(world, "lead")
    error = assert_error(patch_answers(client, world.draft, {"answers": {"WL01": {"level": 3}}}), 400, "invalid")
    assert "version" in error["fields"]
    error = assert_error(patch_answers(client, world.draft, {"version": 1, "answers": ["WL01"]}), 400, "invalid")
    assert "answers" in error["fields"]
    response = client.patch(
        f"{API}assessments/{world.draft.pk}/answers/",
        "version=1",
        content_type="application/x-www-form-urlencoded",
    )
    assert_error(response, 415, "unsupported_media_type")


def test_a_stale_version_answers_409_with_what_changed(world):
    client = api(world, "lead")
    patch_answers(client, world.draft, {"version": 1, "answers": {"WL01": {"level": 2}}})
    error = assert_error(
        patch_answers(client, world.draft, {"version": 1, "answers": {"WL01": {"level": 5}}}), 409, "conflict"
    )
    assert error["version"] == 2
    [change] = error["changes"]
    assert change["who"] == "lead-r0a" and change["summary"] == "Changed WL01" and change["version"] == 2
    assert change["when"]
    assert DomainAnswer.objects.get(assessment=world.draft).level == 2


def test_a_version_the_assessment_never_had_is_a_bad_request_naming_the_current_one(world):
    client = api(world, "lead")
    error = assert_error(
        patch_answers(client, world.draft, {"version": 99, "answers": {"WL01": {"level": 5}}}), 400, "invalid"
    )
    assert "it is at version 1" in error["fields"]["version"]
    assert not DomainAnswer.objects.filter(assessment=world.draft).exists()


def test_a_submitted_assessment_cannot_be_changed(world):
    assessment = world.assessments["r0a community"]
    response = patch_answers(api(world, "lead"), assessment, {"version": assessment.version, "answers": {}})
    assert_error(response, 409, "wrong_state")


@pytest.mark.parametrize(
    ("role", "status"),
    [("lead", 200), ("reviewer", 403), ("other reviewer", 403), ("analyst", 403), ("admin", 200), ("no role", 403)],
)
def test_only_the_trusts_lead_writes_its_answers(world, role, status):
    response = patch_answers(api(world, role), world.draft, {"version": 1, "answers": {"WL01": {"level": 2}}})
    assert response.status_code == status
    if status != 200:
        assert_error(response, status, "permission_denied")
        assert not DomainAnswer.objects.filter(assessment=world.draft).exists()


def test_an_icb_reviewer_writes_its_icbs_own_assessment(world):
    own = world.assessments["qvv own"]
    response = patch_answers(
        api(world, "other reviewer"), own, {"version": own.version, "answers": {"WL01": {"level": 3}}}
    )
    assert response.status_code == 200
    assert_error(patch_answers(api(world, "reviewer"), own, {"version": own.version}), 403)


def test_anonymous_writes_are_401(client, world):
    assert_error(patch_answers(client, world.draft, {"version": 1}), 401)


def test_only_patch_writes(world):
    client = api(world, "lead")
    assert_error(client.post(f"{API}assessments/{world.draft.pk}/answers/", {}), 405, "method_not_allowed")
    assert_error(client.delete(f"{API}assessments/{world.draft.pk}/"), 405, "method_not_allowed")
    assert_error(client.post(API + "trusts/", {}), 405, "method_not_allowed")


# --- Datasets ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("dataset", DATASET_ENDPOINTS)
def test_each_dataset_holds_the_rows_the_role_may_export(world, role, dataset):
    response = api(world, role).get(f"{API}{DATASET_ENDPOINTS[dataset]}/", {"page_size": 1000})
    assert response.status_code == 200
    assert response.json()["count"] == visible_rows(DATASETS[dataset], world.users[role]).count()


PILLAR_SCORE_ORGS = {
    "lead": {("R0A", "return"), ("R0D", "published")},
    "reviewer": {("R0A", "return"), ("RBV", "return"), ("QOP", "return"), ("R0D", "published")},
    "other reviewer": {("R0D", "return"), ("R0D", "published")},
    "analyst": {("R0A", "return"), ("RBV", "return"), ("QOP", "return"), ("R0D", "return"), ("R0D", "published")},
    "no role": {("R0D", "published")},
}


@pytest.mark.parametrize("role", PILLAR_SCORE_ORGS)
def test_pillar_scores_are_scoped_by_role(world, role):
    rows = results(api(world, role).get(API + "pillar-scores/", {"page_size": 1000}))
    assert {(row["org_code"], row["source"]) for row in rows} == PILLAR_SCORE_ORGS[role]


def test_pillar_score_rows_name_the_contracts_columns_in_order(world):
    rows = results(api(world, "analyst").get(API + "pillar-scores/", {"cycle": 2025}))
    assert list(rows[0])[: len(PILLAR_SCORES_CONTRACT)] == PILLAR_SCORES_CONTRACT
    scores = {row["pillar_code"]: row["score"] for row in rows}
    assert scores == {"overall": 2.4, **{code: 2.5 for code, _ in Pillar.ALL}}
    assert {(row["cycle"], row["org_code"], row["source"], row["status"]) for row in rows} == {
        (2025, "R0D", "published", "published")
    }


def test_datasets_take_the_export_filters(world):
    client = api(world, "analyst")

    def orgs(**params):
        return {(row["cycle"], row["org_code"]) for row in results(client.get(API + "pillar-scores/", params))}

    assert orgs(cycle=2025) == {(2025, "R0D")}
    assert orgs(cycle=2026, ics="qop") == {(2026, "R0A"), (2026, "RBV"), (2026, "QOP")}
    assert orgs(region="Y58", source="return") == {(2026, "R0D")}
    assert orgs(trust="rbv") == {(2026, "RBV")}
    assert orgs(care_setting="community") == {(2026, "R0A")}
    rows = results(client.get(API + "pillar-scores/", {"pillar": "overall", "cycle": 2025}))
    assert [row["pillar_code"] for row in rows] == ["overall"]
    statuses = {row["status"] for row in results(client.get(API + "assessments-status/", {"ics": "QOP"}))}
    assert statuses == {"draft", "submitted"}


def test_a_bad_filter_answers_400_naming_the_parameter(world):
    error = assert_error(api(world, "analyst").get(API + "pillar-scores/", {"cycle": "last year"}), 400, "invalid")
    assert set(error["fields"]) == {"cycle"}
    assert_error(api(world, "analyst").get(API + "gaps/", {"region": "north"}), 400, "invalid")


def test_datasets_paginate(world):
    client = api(world, "analyst")
    total = client.get(API + "pillar-scores/").json()["count"]
    first = client.get(API + "pillar-scores/", {"page_size": 5})
    body = first.json()
    assert body["count"] == total > 5 and len(body["results"]) == 5
    assert "page=2" in body["next"] and body["previous"] is None
    assert first["X-Total-Count"] == str(total) and 'rel="next"' in first["Link"]
    second = client.get(API + "pillar-scores/", {"page_size": 5, "page": 2}).json()["results"]
    assert not {tuple(row.values()) for row in second} & {tuple(row.values()) for row in body["results"]}
    assert_error(client.get(API + "pillar-scores/", {"page": 999}), 404, "not_found")


def test_a_page_holds_at_most_1000_rows(world):
    assert PageNumberPagination.max_page_size == 1000
    response = api(world, "analyst").get(API + "pillar-scores/", {"page_size": 100000})
    assert response.status_code == 200


def csv_of(response) -> list[list[str]]:
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment;")
    return list(csv.reader(io.StringIO(response.content.decode("utf-8"), newline="")))


@pytest.mark.parametrize("dataset", DATASET_ENDPOINTS)
def test_csv_has_the_contracts_columns_in_order(world, dataset):
    client = api(world, "analyst")
    rows = csv_of(client.get(f"{API}{DATASET_ENDPOINTS[dataset]}/", {"format": "csv"}))
    assert rows[0] == DATASETS[dataset].column_names
    assert len(rows) - 1 == len(results(client.get(f"{API}{DATASET_ENDPOINTS[dataset]}/")))


def test_pillar_scores_csv(world):
    rows = csv_of(api(world, "analyst").get(API + "pillar-scores/", {"format": "csv", "cycle": 2025}))
    assert rows[0][: len(PILLAR_SCORES_CONTRACT)] == PILLAR_SCORES_CONTRACT
    records = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert {record["pillar_code"]: record["score"] for record in records}["overall"] == "2.4"
    assert {(record["cycle"], record["org_code"], record["is_demo"]) for record in records} == {
        ("2025", "R0D", "false")
    }


def test_csv_neutralises_formulas_and_json_does_not(world):
    client = api(world, "analyst")
    rows = csv_of(client.get(API + "pillar-scores/", {"format": "csv", "trust": "RBV"}))
    names = {dict(zip(rows[0], row, strict=True))["org_name"] for row in rows[1:]}
    assert names == {"'=HYPERLINK(1) Christie NHS FT"}
    [row, *_] = results(client.get(API + "pillar-scores/", {"trust": "RBV"}))
    assert row["org_name"] == "=HYPERLINK(1) Christie NHS FT"


def test_csv_pages_like_json(world):
    response = api(world, "analyst").get(API + "pillar-scores/", {"format": "csv", "page_size": 3})
    assert len(csv_of(response)) == 4
    assert 'rel="next"' in response["Link"]


def test_errors_stay_json_when_csv_was_asked_for(world):
    assert_error(api(world, "analyst").get(API + "pillar-scores/", {"format": "csv", "cycle": "x"}), 400, "invalid")


def test_an_unknown_format_is_404(world):
    assert_error(api(world, "analyst").get(API + "pillar-scores/", {"format": "xml"}), 404)


# --- Errors -----------------------------------------------------------------------------------------------------


def test_unknown_api_urls_answer_the_api_404(world):
    client = api(world, "analyst")
    assert_error(client.get("/api/v1/nothing-here/"), 404, "not_found")
    assert_error(client.get("/api/v1/icss/Q.P/"), 404, "not_found")
    assert_error(client.get("/api/v1/icss/Q%0AP/"), 404, "not_found")
    assert client.get("/api/v1/nothing-here").status_code == 301  # CommonMiddleware adds the slash first


def test_too_many_requests_answer_429_with_retry_after(world, monkeypatch):
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "2/minute"})
    client = api(world, "analyst")
    assert client.get(API + "regions/").status_code == 200
    assert client.get(API + "regions/").status_code == 200
    response = client.get(API + "regions/")
    assert_error(response, 429, "throttled")
    assert int(response["Retry-After"]) > 0


def test_anonymous_requests_are_refused_before_the_throttle(client, world, monkeypatch):
    # Authentication and permission come first in DRF: an anonymous caller always learns it must log in.
    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", {"anon": "1/minute"})
    for _ in range(3):
        assert_error(client.get(API + "regions/"), 401, "not_authenticated")


def test_a_server_error_has_the_error_body_too(world, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("reports.api.views.RegionViewSet.list", broken)
    client = api(world, "analyst")
    client.raise_request_exception = False
    error = assert_error(client.get(API + "regions/"), 500, "server_error")
    assert "boom" not in error["message"]


# --- Schema and documentation -----------------------------------------------------------------------------------


def test_the_schema_is_openapi_3_with_every_path(world):
    response = api(world, "analyst").get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["version"] == "1"
    paths = set(schema["paths"])
    for endpoint in ["regions/", "icss/", "trusts/", "cycles/", "frameworks/", "assessments/"]:
        assert API + endpoint in paths
    for endpoint in DATASET_ENDPOINTS.values():
        assert f"{API}{endpoint}/" in paths
    assert "/api/v1/assessments/{id}/answers/" in paths
    assert "/api/v1/trusts/{code}/" in paths


def test_every_operation_declares_its_errors(world):
    schema = api(world, "analyst").get("/api/schema/", {"format": "json"}).json()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            declared = set(operation["responses"])
            assert {"200", "400", "401", "403", "404", "429"} <= declared, (method, path)
            if method == "patch":
                assert {"409", "415"} <= declared


def test_the_schema_needs_a_login(client, world):
    assert client.get("/api/schema/").status_code == 401


def test_the_docs_page_uses_only_our_own_static_files(client, world):
    client.force_login(world.users["lead"])
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    references = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert "/static/dist/swagger/swagger-ui.css" in references
    assert "/static/dist/swagger/swagger-ui-bundle.js" in references
    assert "/static/js/api_docs.js" in references
    assert not [ref for ref in references if ref.startswith(("http:", "https:", "//"))]
    for ref in references:
        if ref.startswith("/static/"):
            assert finders.find(ref.removeprefix("/static/")), f"{ref} is not in our static files"
    assert "<script>" not in html  # no inline script
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy  # the site's strict policy, unchanged


def test_the_docs_page_needs_a_login(client, world):
    assert client.get("/api/docs/").status_code == 302


# --- Tokens on the export files ---------------------------------------------------------------------------------


def whoami(request):
    return HttpResponse(request.user.get_username())


@pytest.mark.parametrize(
    ("authorization", "status"), [("token", 200), ("Token wrong", 401), ("", 302), ("Basic eDp5", 302)]
)
def test_token_or_login_required_lets_scripts_fetch_plain_views(rf, world, authorization, status):
    token = api_token(world.users["analyst"])
    header = f"Token {token}" if authorization == "token" else authorization
    request = rf.get("/exports/pillar-scores.csv", HTTP_AUTHORIZATION=header) if header else rf.get("/exports/")
    request.user = AnonymousUser()
    response = token_or_login_required(whoami)(request)
    assert response.status_code == status
    if status == 200:
        assert response.content == b"analyst"
    if status == 401:
        assert_error(response, 401, "authentication_failed")


@pytest.mark.parametrize("endpoint", ["", "trusts/", "trusts/R0A/", "pillar-scores/?cycle=2025", "assessments/"])
def test_the_browsable_api_renders_for_a_person(client, world, endpoint):
    client.force_login(world.users["reviewer"])
    response = client.get(API + endpoint, HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")


def test_the_browsable_api_renders_an_assessment_with_its_write_form(client, world):
    client.force_login(world.users["lead"])
    response = client.get(f"{API}assessments/{world.draft.pk}/answers/", HTTP_ACCEPT="text/html")
    assert response.status_code == 405  # PATCH only; the page still renders, with the PATCH form
    assert b"PATCH" in response.content
