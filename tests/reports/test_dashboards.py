"""Every dashboard for every role: who sees names, who sees aggregates, the CSV of a chart, the cache, and a query
count that stays flat as the number of trusts grows."""

import csv
import io
import re
from types import SimpleNamespace

import pandas as pd
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from maturity.models import Assessment, DomainAnswer, IndicatorValue, Status
from reports.dashboards import charts, sections
from reports.summaries import refresh, tables
from tests.factories import (
    AssessmentFactory,
    CycleFactory,
    ICSFactory,
    RegionFactory,
    TrustFactory,
    analyst,
    lead_of,
    reviewer_of,
)

LEVELS = {"WL01": 3, "SF01": 2, "SF02": 4}


def submitted_assessment(cycle, trust, level_shift=0, status=Status.SUBMITTED):
    assessment = AssessmentFactory(cycle=cycle, trust=trust, status=status)
    DomainAnswer.objects.bulk_create(
        DomainAnswer(assessment=assessment, domain=domain, level=min(5, LEVELS[domain.code] + level_shift))
        for domain in assessment.applicable_domains()
    )
    IndicatorValue.objects.create(
        assessment=assessment, indicator_code="unsupported_devices_pct", number=4 + level_shift
    )
    return assessment


def build_world(trusts_per_ics=6):
    north = RegionFactory(code="Y62", name="North West")
    qop = ICSFactory(code="QOP", name="NHS Greater Manchester Integrated Care Board", region=north)
    qyg = ICSFactory(code="QYG", name="NHS Cheshire and Merseyside Integrated Care Board", region=north)
    cycle = CycleFactory()
    trusts = []
    for number in range(trusts_per_ics * 2):
        ics = qop if number % 2 == 0 else qyg
        trust = TrustFactory(code=f"R{number:02d}", name=f"Trust {number:02d}", ics=ics)
        submitted_assessment(cycle, trust, level_shift=number % 2)
        trusts.append(trust)
    Assessment.objects.create(
        cycle=cycle, ics=qop, region=north, framework=cycle.ics_framework, status=Status.SUBMITTED
    )
    tables.rebuild()
    return SimpleNamespace(north=north, qop=qop, qyg=qyg, cycle=cycle, trusts=trusts)


@pytest.fixture
def world(db):
    world = build_world()
    qop_trust = world.trusts[0]
    world.users = {
        "lead": lead_of(qop_trust),
        "reviewer": reviewer_of(world.qop),
        "other reviewer": reviewer_of(world.qyg),
        "analyst": analyst(),
        "admin": get_user_model().objects.create_superuser("admin", password="x"),
    }
    return world


def page(client, world, role, url):
    client.force_login(world.users[role])
    return client.get(url)


PAGES = {
    "national": "/national/",
    "region": "/regions/Y62/",
    "ics": "/ics/QOP/",
    "print": "/ics/QOP/print/",
    "trust": "/trusts/R00/",
}
ALLOWED = {
    "lead": {"national", "region", "ics", "print", "trust"},
    "reviewer": {"national", "region", "ics", "print", "trust"},
    "other reviewer": {"national", "region"},
    "analyst": set(PAGES),
    "admin": set(PAGES),
}


@pytest.mark.parametrize("role", ALLOWED)
@pytest.mark.parametrize("name", PAGES)
def test_every_dashboard_for_every_role(client, world, role, name):
    response = page(client, world, role, PAGES[name])
    assert response.status_code == (200 if name in ALLOWED[role] else 403)
    if response.status_code == 200:
        assert b"At a glance: 2026" in response.content


def chart_csv(client, world, role, url, chart):
    response = page(client, world, role, f"{url}?cycle=2026&chart={chart}&format=csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_the_ics_reviewer_sees_every_member_trust_by_name(client, world):
    rows = chart_csv(client, world, "reviewer", "/ics/QOP/", "heatmap")
    names = {row[0] for row in rows[1:]}
    assert names == {f"Trust {n:02d} – Acute" for n in range(0, 12, 2)}


def test_a_trust_lead_sees_only_its_own_trust_in_the_ics_heatmap(client, world):
    rows = chart_csv(client, world, "lead", "/ics/QOP/", "heatmap")
    assert {row[0] for row in rows[1:]} == {"Trust 00 – Acute"}
    content = page(client, world, "lead", "/ics/QOP/").content.decode()
    assert "Trust 02 – Acute" not in content  # the member list (reference data) still names it
    assert "shown only in aggregates of at least 5" in content


def test_the_icb_own_assessment_is_for_its_reviewers_and_analysts(client, world):
    assert "its own assessment" in page(client, world, "reviewer", "/ics/QOP/").content.decode()
    assert "shown to its reviewers and to NHS England" in page(client, world, "lead", "/ics/QOP/").content.decode()


def test_the_regional_ranking_lists_icss_with_their_spread(client, world):
    rows = chart_csv(client, world, "lead", "/regions/Y62/", "ics-ranked")
    assert rows[0][0] == "ICS"
    # The ICSs ranked, then the means they are read against (England's, the region's), each with its ODS code.
    codes = {row[0]: row[rows[0].index("ODS code")] for row in rows[1:]}
    assert codes == {"Greater Manchester": "QOP", "Cheshire and Merseyside": "QYG", "England": "", "North West": "Y62"}
    assert [row[0] for row in rows[-2:]] == ["England", "North West"]


def test_rankings_draw_england_as_a_reference_line(world):
    from reports.dashboards import sections

    year, cycles = sections.choose_cycle(None)
    dashboard = sections.area_dashboard(world.north, year, cycles, world.users["analyst"]).load()
    lines = {shape["name"] for shape in dashboard.chart("ics-ranked").figure["layout"]["shapes"]}
    assert {name.split(" (")[0] for name in lines} == {"England mean", "North West mean"}


def csv_records(client, world, role, url, chart):
    rows = chart_csv(client, world, role, url, chart)
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def test_the_ics_heatmap_csv_joins_on_ods_codes_with_cycle_and_source(client, world):
    records = csv_records(client, world, "reviewer", "/ics/QOP/", "heatmap")
    assert {r["Trust and care setting"]: r["ODS code"] for r in records} == {
        f"Trust {n:02d} – Acute": f"R{n:02d}" for n in range(0, 12, 2)
    }
    assert {(r["Cycle"], r["Source"]) for r in records} == {("2026", charts.SOURCE_ENTERED)}
    assert list(records[0])[-3:] == ["ODS code", "Cycle", "Source"]
    assert "Overall" in records[0]


ORGANISATION_CHARTS = {
    "/national/": {"ics-ranked", "regions-ranked", "progress"},
    "/regions/Y62/": {"ics-ranked", "deciles", "progress"},
    "/ics/QOP/": {"heatmap", "distribution", "progress"},
    "/trusts/R00/": {"compare-acute", "trend-acute"},
}


@pytest.mark.parametrize("url", ORGANISATION_CHARTS)
def test_every_chart_csv_has_its_cycle_source_codes_and_numbers_as_shown(client, world, url):
    content = page(client, world, "analyst", url).content.decode()
    chart_ids = set(re.findall(r"chart=([a-z0-9_-]+)&amp;format=csv", content))
    assert chart_ids >= ORGANISATION_CHARTS[url]
    for chart in chart_ids:
        rows = chart_csv(client, world, "analyst", url, chart)
        header, body = rows[0], rows[1:]
        assert {"Cycle", "Source"} <= set(header), chart
        assert all(row[header.index("Cycle")] == "2026" for row in body), chart
        # The dashboard's source; a trend's rows are cycles, each saying how its own return stands.
        own = charts.SOURCE_PROVISIONAL if chart.startswith("trend-") else charts.SOURCE_ENTERED
        assert all(row[header.index("Source")] == own for row in body), chart
        # Numbers rounded as the table shows them: never more than 2 decimal places.
        assert not [cell for row in body for cell in row if re.fullmatch(r"-?\d+\.\d{3,}", cell)], chart
        if chart in ORGANISATION_CHARTS[url]:
            codes = [row[header.index("ODS code")] for row in body]
            assert any(codes) and set(codes) <= {"", "QOP", "QYG", "Y62", *(f"R{n:02d}" for n in range(12))}, chart


def test_small_groups_are_hidden_from_those_who_may_not_see_names(client, db):
    world = build_world(trusts_per_ics=2)  # two assessments per ICS: fewer than 5
    lead = lead_of(world.trusts[0])
    client.force_login(lead)
    content = client.get("/regions/Y62/").content.decode()
    assert "2 ICSs with fewer than 5 assessments entered here are not shown" in content
    client.force_login(analyst())
    content = client.get("/regions/Y62/").content.decode()
    assert "fewer than 5" not in content


def test_a_trust_sees_itself_against_its_ics_england_and_peers(client, world):
    rows = chart_csv(client, world, "lead", "/trusts/R00/", "compare-acute")
    header, body = rows[0], {row[0]: row[1:] for row in rows[1:]}
    assert header[:4] == ["Pillar", "This trust", "ICS mean", "England median"]
    # Trust 00 scores 3 on Well Led; QOP's six trusts all score 3; England's twelve split 3 and 4.
    assert [float(value) for value in body["Well Led"][:3]] == [3, 3, 3.5]


def test_the_cycle_is_chosen_in_the_url_and_unknown_cycles_fall_back(client, world):
    response = page(client, world, "analyst", "/national/?cycle=1999")
    assert b"Digital maturity in 2026" in response.content


def test_an_unknown_chart_is_not_found(client, world):
    assert page(client, world, "analyst", "/national/?chart=nope&format=csv").status_code == 404


def test_dashboards_allow_inline_styles_for_plotly_but_never_inline_scripts(client, world):
    policy = page(client, world, "analyst", "/ics/QOP/")["Content-Security-Policy"]
    assert "style-src 'self' 'unsafe-inline'" in policy
    assert "script-src 'self';" in policy or policy.endswith("script-src 'self'")


def test_a_refresh_invalidates_the_cached_dashboard(client, world):
    before = chart_csv(client, world, "analyst", "/ics/QOP/", "heatmap")
    answer = DomainAnswer.objects.get(assessment__trust__code="R00", domain__code="WL01")
    answer.level = 5
    answer.save()
    assert chart_csv(client, world, "analyst", "/ics/QOP/", "heatmap") == before  # cached
    refresh.refresh_assessment(answer.assessment_id)
    after = chart_csv(client, world, "analyst", "/ics/QOP/", "heatmap")
    assert after != before
    assert float([row for row in after if row[0] == "Trust 00 – Acute"][0][1]) == 5


@pytest.mark.parametrize("url", ["/ics/QOP/", "/regions/Y62/", "/national/", "/trusts/R00/"])
def test_no_dashboard_aggregates_raw_answers_and_queries_stay_flat(client, db, url):
    def queries_for(trusts_per_ics):
        world = build_world(trusts_per_ics)
        client.force_login(analyst())
        from django.core.cache import cache

        cache.clear()
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        sql = " ".join(query["sql"] for query in captured.captured_queries)
        assert "maturity_domainanswer" not in sql
        for model in (DomainAnswer, IndicatorValue, Assessment):
            model.objects.all().delete()
        for trust in world.trusts:
            trust.delete()
        world.cycle.delete()
        world.qop.delete()
        world.qyg.delete()
        world.north.delete()
        return len(captured.captured_queries)

    assert queries_for(3) == queries_for(9)


@pytest.mark.parametrize(("role", "status"), [("analyst", 200), ("reviewer", 403), ("lead", 403)])
def test_the_summary_runs_page_is_for_analysts(client, world, role, status):
    assert page(client, world, role, "/summaries/").status_code == status


def test_an_analyst_rebuilds_the_summaries_from_the_button(client, world, django_capture_on_commit_callbacks):
    from maturity.models import AuditEvent, RefreshMark
    from reports.models import RefreshRun

    client.force_login(world.users["analyst"])
    with django_capture_on_commit_callbacks(execute=not settings.REDIS_URL):
        response = client.post("/summaries/")
    assert response.status_code == 302
    # A mark for everything, so a broker that is down only delays the rebuild to the sweep; and who asked.
    assert RefreshMark.objects.filter(reason="rebuild requested", assessment=None, cycle=None).exists()
    assert AuditEvent.objects.filter(action="request_rebuild", actor=world.users["analyst"]).exists()
    if not settings.REDIS_URL:  # eager: it has run already
        assert RefreshRun.objects.filter(kind="full", status="ok").exists()
    assert "Rebuild all summaries now" in client.get("/summaries/").content.decode()


def test_dashboards_are_sent_compressed(client, world):
    client.force_login(world.users["analyst"])
    response = client.get("/ics/QOP/", headers={"accept-encoding": "gzip"})
    assert response["Content-Encoding"] == "gzip"


@pytest.mark.parametrize("url", ["/ics/QOP/", "/regions/Y62/", "/national/", "/trusts/R00/"])
def test_a_warm_dashboard_reads_no_summary_table(client, world, url):
    """Cached dashboards stay up while a rebuild holds the summary tables, and cost a warm page only its
    organisation part."""
    client.force_login(world.users["analyst"])
    assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    sql = " ".join(query["sql"] for query in captured.captured_queries)
    for table in ("reports_pillarscore", "reports_gapscore", "reports_indicatorscore", "reports_areastat"):
        assert table not in sql


def test_every_chart_is_a_valid_plotly_figure(world):
    """Figures are built as plain dicts (no validation per request); Plotly's own schema checks them here, every
    chart of every dashboard."""
    import plotly.graph_objects as go

    from reports.dashboards import sections

    year, cycles = sections.choose_cycle(None)
    user = world.users["analyst"]
    dashboards = [
        sections.area_dashboard(None, year, cycles, user),
        sections.area_dashboard(world.north, year, cycles, user),
        sections.ics_dashboard(world.qop, year, cycles, user),
        sections.trust_dashboard(world.trusts[0], year, cycles, user),
    ]
    charts = [chart for handle in dashboards for section in handle.load().sections for chart in section.charts]
    assert len(charts) > 15
    for chart in charts:
        go.Figure(chart.figure)  # raises on any property Plotly does not know or a value of the wrong type


def test_the_organisation_part_is_cached_until_the_organisations_are_loaded_again(client, world):
    from django.core.cache import cache

    from trusts.models import Trust
    from trusts.ods import ORGANISATIONS_TOKEN

    assert "Trust 00" in page(client, world, "analyst", "/ics/QOP/").content.decode()
    Trust.objects.filter(code="R00").update(name="Trust Zero")
    assert "Trust Zero" not in page(client, world, "analyst", "/ics/QOP/").content.decode()
    cache.set(ORGANISATIONS_TOKEN, "a-new-load", timeout=None)  # what load_organisations does once committed
    assert "Trust Zero" in page(client, world, "analyst", "/ics/QOP/").content.decode()


# --- Verified evidence -------------------------------------------------------------------------------------------


def numbers(cells: list[str]) -> list[float | None]:
    return [float(cell) if cell else None for cell in cells]


def verify_evidence_of(trusts, codes=("WL01",)):
    """Evidence on every answer of these trusts' returns, verified by a reviewer on `codes`, then a rebuild."""
    reviewer = analyst()
    answers = DomainAnswer.objects.filter(assessment__trust__in=trusts)
    answers.update(evidence_note="Board paper")
    answers.filter(domain__code__in=codes).update(evidence_verified_by=reviewer, evidence_verified_at=timezone.now())
    tables.rebuild()


def test_the_ics_dashboard_says_how_many_scores_are_backed_by_verified_evidence(client, world):
    # Greater Manchester's six returns each verify WL01 of their three answers: a third of their scores.
    verify_evidence_of(world.trusts[0::2])
    content = page(client, world, "reviewer", "/ics/QOP/").content.decode()
    assert "33 % of Greater Manchester&#x27;s scores are backed by verified evidence (6 returns)" in content
    rows = {row[0]: row for row in chart_csv(client, world, "reviewer", "/ics/QOP/", "evidence-ics")}
    header = rows["Pillar"]
    assert header[:5] == [
        "Pillar",
        charts.VERIFIED_SHARE_TITLE,
        "Mean score, every answer",
        "Mean score, verified answers only",
        "Assessments",
    ]
    # Well Led: WL01 alone, verified everywhere; Smart Foundations: nothing verified.
    assert numbers(rows["Well Led"][1:5]) == [100, 3, 3, 6]
    assert numbers(rows["Ensure Smart Foundations"][1:4]) == [0, 3, None]
    # England: the six verified returns of twelve.
    england = {row[0]: row for row in chart_csv(client, world, "reviewer", "/ics/QOP/", "evidence-england")}
    assert numbers(england["Well Led"][1:2]) == [50]


def test_the_region_and_england_show_the_verified_share_too(client, world):
    verify_evidence_of(world.trusts)
    for url, chart in [("/regions/Y62/", "evidence-region"), ("/national/", "evidence-england")]:
        rows = {row[0]: row for row in chart_csv(client, world, "lead", url, chart)}
        assert numbers(rows["Well Led"][1:2]) == [100], url


def test_an_ics_of_four_returns_shows_no_verified_share_to_those_not_named(client, db):
    world = build_world(trusts_per_ics=4)
    verify_evidence_of(world.trusts)
    client.force_login(lead_of(world.trusts[0]))
    content = client.get("/ics/QOP/").content.decode()
    assert "Greater Manchester&#x27;s share is not shown: fewer than 5 returns" in content
    assert 'id="chart-evidence-ics-caption"' not in content
    assert "of England&#x27;s scores are backed by verified evidence (8 returns)" in content
    client.force_login(reviewer_of(world.qop))
    assert 'id="chart-evidence-ics-caption"' in client.get("/ics/QOP/").content.decode()


def test_a_trust_page_shows_its_own_verified_share_per_pillar(client, world):
    verify_evidence_of(world.trusts[:1])
    content = page(client, world, "lead", "/trusts/R00/").content.decode()
    assert "33 % of the scores of Trust 00 – Acute are backed by verified evidence" in content
    rows = {row[0]: row for row in chart_csv(client, world, "lead", "/trusts/R00/", "evidence-acute")}
    assert numbers(rows["Well Led"][1:4]) == [100, 3, 3]


def test_the_verified_sentence_says_under_1_percent_rather_than_none():
    rows = pd.DataFrame([{"pillar_code": "overall", "share": 0.003, "score": 2.4, "verified_score": None, "n": 187}])
    assert sections.verified_sentence("England", rows) == (
        "Under 1 % of England's scores are backed by verified evidence (187 returns)."
    )
