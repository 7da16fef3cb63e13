"""Money and people: digital spend against the 5 % benchmark and DDaT vacancy rates on the ICS and national
dashboards, beside the overall score, with the minimum-group rule; and both in the exports and the API.

The world: Greater Manchester (QOP) has 4 returns, too few for an aggregate shown to those not named for it;
Cheshire and Merseyside (QYG) has 6, where the trusts spending 5 % or more score a level higher."""

import csv
import io

import pandas as pd
import pytest

from maturity.models import IndicatorValue
from reports.dashboards.money import figure_sentences, link_sentence
from reports.models import AreaStat
from reports.summaries import tables
from tests.factories import CycleFactory, ICSFactory, RegionFactory, TrustFactory, analyst, lead_of, reviewer_of
from tests.reports.test_dashboards import submitted_assessment

QOP_SPEND = {"RS1": 1.25, "RS2": 2.25, "RS3": 6.25, "RS4": 7.25}
QYG_SPEND = {"RT1": 2.0, "RT2": 3.0, "RT3": 4.0, "RT4": 6.0, "RT5": 7.0, "RT6": 8.0}


def points(pairs):
    return pd.DataFrame(pairs, columns=["spend", "score"])


def test_the_answer_names_the_difference_in_scores_at_the_benchmark():
    higher = points([(6, 3.5), (7, 3.3), (2, 3.0), (3, 2.9)])
    assert link_sentence(higher, "trusts") == (
        "Trusts spending 5 % or more score 0.4 higher on average than those spending less."
    )
    lower = points([(6, 2.0), (2, 3.0)])
    assert (
        link_sentence(lower, "ICSs") == "ICSs spending 5 % or more score 1.0 lower on average than those spending less."
    )


def test_a_small_difference_or_one_sided_points_are_no_clear_link():
    assert link_sentence(points([(6, 3.0), (2, 2.95)]), "trusts").startswith("No clear link: Trusts spending")
    assert "all trusts shown spend less than 5 %" in link_sentence(points([(2, 3.0), (3, 4.0)]), "trusts")
    assert "all ICSs shown spend 5 % or more" in link_sentence(points([(6, 3.0)]), "ICSs")
    assert link_sentence(points([(None, 3.0)]), "trusts").startswith("No digital spend")


def test_each_figure_says_its_median_or_why_it_is_not_shown():
    stats = pd.DataFrame([{"metric_code": "digital_spend_pct", "n": 6, "mean": 5.0, "median": 5.0, "share_met": 0.5}])
    spend, vacancies = figure_sentences(stats, {"ddat_vacancy_pct"}, "Cheshire")
    assert (
        spend
        == "Cheshire: median digital spend as a share of budget 5.0 %, over 6 returns; 50 % of them below the 5 % "
        "benchmark."
    )
    assert vacancies == "Cheshire: DDaT vacancy rate: fewer than 5 returns: not shown."
    assert figure_sentences(stats.iloc[0:0], set(), "X")[1] == "X: no DDaT vacancy rate was reported."


@pytest.fixture
def world(transactional_db):
    """Committed (transactional), so the export served by PostgreSQL's COPY, on its own connection, reads it."""
    north = RegionFactory(code="Y62", name="North West")
    qop = ICSFactory(code="QOP", name="NHS Greater Manchester Integrated Care Board", region=north)
    qyg = ICSFactory(code="QYG", name="NHS Cheshire and Merseyside Integrated Care Board", region=north)
    cycle = CycleFactory()
    trusts = {}
    for ics, spends in ((qop, QOP_SPEND), (qyg, QYG_SPEND)):
        for code, spend in spends.items():
            trusts[code] = TrustFactory(code=code, name=f"Trust {code}", ics=ics)
            assessment = submitted_assessment(cycle, trusts[code], level_shift=1 if spend >= 5 else 0)
            IndicatorValue.objects.create(assessment=assessment, indicator_code="digital_spend_pct", number=spend)
            IndicatorValue.objects.create(assessment=assessment, indicator_code="ddat_vacancy_pct", number=spend + 10)
    tables.rebuild()
    return {
        "analyst": analyst(),
        "reviewer": reviewer_of(qop),
        "other reviewer": reviewer_of(qyg),
        "lead": lead_of(trusts["RS1"]),
    }


def test_the_area_figures_are_summarised_with_the_share_at_the_benchmark(world):
    qyg = AreaStat.objects.get(area_type="ics", area_code="QYG", metric_code="digital_spend_pct")
    assert (qyg.metric_type, qyg.n, qyg.median, qyg.share_met) == ("indicator", 6, 5.0, 0.5)
    vacancies = AreaStat.objects.get(area_type="england", metric_code="ddat_vacancy_pct")
    assert (vacancies.n, vacancies.share_met) == (10, None)


def csv_of(client, url):
    response = client.get(f"{url}?cycle=2026&chart=spend-and-scores&format=csv")
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def section_of(client, url) -> str:
    content = client.get(url).content.decode()
    assert 'id="money-and-people"' in content, url
    return content.split('id="money-and-people"')[1].split("</section>")[0]


def test_an_analyst_sees_every_trusts_spend_beside_its_score(client, world):
    client.force_login(world["analyst"])
    section = section_of(client, "/national/")
    assert "England: median digital spend as a share of budget 5.0 %, over 10 returns" in section
    assert "Trusts spending 5 % or more score 1.0 higher on average" in section
    rows = csv_of(client, "/national/")
    assert rows[0][:3] == ["Trust", "Digital spend (% of budget)", "Overall score (level 1 to 5)"]
    assert {row[0] for row in rows[1:]} == {f"Trust {code}" for code in {**QOP_SPEND, **QYG_SPEND}}


def test_the_reviewer_sees_its_own_icss_trusts_and_its_small_figures(client, world):
    client.force_login(world["reviewer"])
    section = section_of(client, "/ics/QOP/")
    assert "Greater Manchester: median digital spend as a share of budget 4.2 %, over 4 returns" in section
    assert {row[0] for row in csv_of(client, "/ics/QOP/")[1:]} == {f"Trust {code}" for code in QOP_SPEND}


@pytest.mark.parametrize("role", ["other reviewer", "lead"])
def test_others_see_icss_over_at_least_five_returns_only(client, world, role):
    client.force_login(world[role])
    national = csv_of(client, "/national/")
    assert national[0][0] == "ICS" and "Assessments" in national[0]
    assert [row[0] for row in national[1:]] == ["Cheshire and Merseyside"]
    assert int(national[1][national[0].index("Assessments")]) == 6
    assert "all ICSs shown spend 5 % or more of their budget" in section_of(client, "/national/")
    if role == "lead":
        section = section_of(client, "/ics/QOP/")
        assert "Greater Manchester: digital spend as a share of budget: fewer than 5 returns: not shown." in section
        assert "England: median DDaT vacancy rate 15.0 %, over 10 returns." in section
        assert "4.2" not in section
        assert not {row[0] for row in csv_of(client, "/ics/QOP/")[1:]} & {f"Trust {code}" for code in QOP_SPEND}


def test_spend_and_vacancies_are_in_the_export_and_api_for_those_named(client, world):
    client.force_login(world["other reviewer"])
    body = b"".join(client.get("/exports/indicators.csv").streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(body)))
    found = {(row["org_code"], row["indicator_code"]): float(row["value_number"]) for row in rows}
    assert found[("RT1", "digital_spend_pct")] == 2.0 and found[("RT1", "ddat_vacancy_pct")] == 12.0
    assert not {code for code, _ in found} & QOP_SPEND.keys()
    api = client.get("/api/v1/indicators/", {"page_size": 1000}).json()["results"]
    codes = {(row["org_code"], row["indicator_code"]) for row in api}
    assert ("RT6", "ddat_vacancy_pct") in codes and not {code for code, _ in codes} & QOP_SPEND.keys()
