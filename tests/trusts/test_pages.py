import pytest
from django.urls import reverse

PAGES = {
    "national": "/national/",
    "region north": "/regions/Y62/",
    "region south": "/regions/Y58/",
    "ics a": "/ics/QOP/",
    "ics b": "/ics/QVV/",
    "trust a1": "/trusts/R0A/",
    "trust a2": "/trusts/RBV/",
    "trust b1": "/trusts/R0D/",
    "search": "/search/?q=trust",
    "accessibility": "/accessibility/",
    "health": "/health/",
}
EVERYWHERE = set(PAGES)
OPEN_TO_ALL = {"national", "region north", "region south", "search", "accessibility", "health"}
ALLOWED = {
    "lead": OPEN_TO_ALL | {"ics a", "trust a1"},
    "reviewer": OPEN_TO_ALL | {"ics a", "trust a1", "trust a2"},
    "analyst": EVERYWHERE,
    "admin": EVERYWHERE,
    "no-role": OPEN_TO_ALL,
}


@pytest.mark.parametrize("role", ALLOWED)
@pytest.mark.parametrize("page", PAGES)
def test_every_page_for_every_role(client, world, role, page):
    client.force_login(world.users[role])
    response = client.get(PAGES[page])
    assert response.status_code == (200 if page in ALLOWED[role] else 403)


@pytest.mark.parametrize("page", sorted(EVERYWHERE - {"accessibility", "health"}))
def test_anonymous_visitors_are_sent_to_log_in(client, world, page):
    response = client.get(PAGES[page])
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("url", ["/trusts/ZZZ/", "/ics/QZZ/", "/regions/Y99/"])
@pytest.mark.parametrize("role", ["lead", "analyst"])
def test_unknown_codes_are_not_found(client, world, role, url):
    client.force_login(world.users[role])
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("url", ["/trusts/r0a/", "/ics/qop/", "/regions/y62/"])
def test_codes_are_case_insensitive(client, world, url):
    client.force_login(world.users["analyst"])
    assert client.get(url).status_code == 200


def test_refused_page_explains_itself(client, world):
    client.force_login(world.users["lead"])
    response = client.get("/trusts/R0D/")
    assert response.status_code == 403
    assert b"You cannot open this page" in response.content


@pytest.mark.parametrize(
    ("role", "destination"),
    [("lead", "/trusts/R0A/"), ("reviewer", "/ics/QOP/"), ("analyst", "/national/"), ("admin", "/national/")],
)
def test_home_takes_each_role_to_its_place(client, world, role, destination):
    client.force_login(world.users[role])
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == destination


def test_home_lets_a_user_with_two_roles_choose(client, world):
    from tests.factories import MembershipFactory

    lead = world.users["lead"]
    MembershipFactory(user=lead, role="ics-reviewer", trust=None, ics=world.ics_b)
    client.force_login(lead)
    response = client.get("/")
    assert response.status_code == 200
    assert b'href="/trusts/R0A/"' in response.content
    assert b'href="/ics/QVV/"' in response.content


def test_home_tells_a_user_without_a_role_what_to_do(client, world):
    client.force_login(world.users["no-role"])
    response = client.get("/")
    assert response.status_code == 200
    assert b"not linked to a trust" in response.content


def test_header_names_the_users_organisation(client, world):
    client.force_login(world.users["lead"])
    response = client.get("/national/")
    assert b"Manchester University NHS Foundation Trust" in response.content
    assert b'href="/trusts/R0A/"' in response.content


def test_ics_page_lists_member_trusts_linking_only_where_allowed(client, world):
    client.force_login(world.users["lead"])
    content = client.get("/ics/QOP/").content.decode()
    assert "The Christie NHS Foundation Trust" in content
    assert 'href="/trusts/R0A/"' in content
    assert 'href="/trusts/RBV/"' not in content


def test_national_page_counts_regions_icss_and_trusts(client, world):
    client.force_login(world.users["analyst"])
    response = client.get("/national/")
    assert "2 NHS England regions, 2 integrated care systems and 3 NHS trusts" in response.content.decode()


def test_trust_page_shows_its_ics_and_region(client, world):
    client.force_login(world.users["reviewer"])
    content = client.get("/trusts/RBV/").content.decode()
    assert "NHS Greater Manchester Integrated Care Board" in content
    assert 'href="/regions/Y62/"' in content


class TestSearch:
    def test_finds_by_name_within_what_the_user_may_open(self, client, world):
        client.force_login(world.users["reviewer"])
        content = client.get("/search/", {"q": "foundation"}).content.decode()
        assert "Manchester University NHS Foundation Trust" in content
        assert "The Christie NHS Foundation Trust" in content
        assert "University Hospitals Dorset" not in content

    def test_an_exact_ods_code_goes_straight_to_the_page(self, client, world):
        client.force_login(world.users["analyst"])
        response = client.get("/search/", {"q": "r0d"})
        assert response.status_code == 302
        assert response["Location"] == "/trusts/R0D/"

    def test_an_ics_code_goes_to_the_ics(self, client, world):
        client.force_login(world.users["analyst"])
        assert client.get("/search/", {"q": "QVV"})["Location"] == "/ics/QVV/"

    def test_no_match_says_so(self, client, world):
        client.force_login(world.users["lead"])
        content = client.get("/search/", {"q": "Dorset"}).content.decode()
        assert "0 results" in content
        assert "No trust or integrated care system that you may open matches" in content

    def test_an_empty_query_shows_the_form(self, client, world):
        client.force_login(world.users["lead"])
        response = client.get("/search/")
        assert response.status_code == 200
        assert b'name="q"' in response.content


def test_a_warm_trust_page_reads_a_fixed_few_rows_whatever_its_returns(client, world):
    """The lead's own trust, with a submitted return for each care setting in two current cycles: each row (and its
    planner link) is read with the rest, not one query a row. What remains are the page's fixed reads: session
    user, trust and its settings, memberships, cycles, returns, and the summary versions in one query (cache reads
    not counted: on the database cache they are queries too)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from maturity.models import CycleState, DomainAnswer, Status
    from reports.summaries import tables
    from tests.factories import AssessmentFactory, CycleFactory

    trust = world.trust_a1
    for year in (2026, 2027):
        cycle = CycleFactory(year=year, state=CycleState.OPEN)
        for setting in trust.care_settings.all():
            assessment = AssessmentFactory(
                cycle=cycle, trust=trust, care_setting_id=setting.slug, status=Status.SUBMITTED
            )
            DomainAnswer.objects.bulk_create(
                DomainAnswer(assessment=assessment, domain=domain, level=3)
                for domain in assessment.applicable_domains()
            )
    tables.rebuild()
    client.force_login(world.users["lead"])
    assert client.get(f"/trusts/{trust.code}/").status_code == 200  # warms the cache
    with CaptureQueriesContext(connection) as done:
        page = client.get(f"/trusts/{trust.code}/")
    assert page.status_code == 200 and "plan<span" in page.content.decode()
    queries = [query["sql"] for query in done.captured_queries if "django_cache" not in query["sql"]]
    assert len(queries) <= 7, "\n\n".join(queries)


def test_the_ics_page_counts_its_member_returns_awaiting_review_and_lists_its_own(client, world):
    from maturity.models import CycleState, Status
    from tests.factories import AssessmentFactory, CycleFactory

    cycle = CycleFactory(year=2026, state=CycleState.OPEN)
    AssessmentFactory(cycle=cycle, trust=world.trust_a1, status=Status.SUBMITTED)
    AssessmentFactory(cycle=cycle, trust=world.trust_a2, status=Status.DRAFT)
    AssessmentFactory(cycle=cycle, trust=world.trust_b1, status=Status.SUBMITTED)  # another ICS's
    AssessmentFactory(
        cycle=cycle,
        trust=None,
        care_setting_id=None,
        ics=world.ics_a,
        framework=cycle.ics_framework,
        status=Status.SUBMITTED,
    )
    client.force_login(world.users["reviewer"])
    page = client.get("/ics/QOP/").content.decode()
    assert "Member trusts' assessments</a>: 1 awaiting review." in page
    assert "/ics/QOP/assessments/2026/" in page
