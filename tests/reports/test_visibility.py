"""Nothing entered here reaches a viewer who may see it only in aggregates, through any door: every chart of every
dashboard page and its CSV, every export dataset and every API dataset, for each role that is not named for the data.

The world: Greater Manchester (QOP) has exactly 4 submitted returns, too few for any aggregate of its own; Cheshire
and Merseyside (QYG), in the same region, has 6. Each QOP return carries fingerprints no other row has: a trust name
and code, a share of unsupported devices and an EPR supplier. A viewer not named for a QOP trust must meet none of
its fingerprints, and no row labelled with QOP as an area (every such aggregate is over fewer than 5). The
fingerprints include each return's digital spend and DDaT vacancy rate, so the money-and-people section, its chart's
CSV and the indicators export are walked like everything else."""

import csv
import io
import re

import pytest
from django.contrib.auth import get_user_model

from maturity.models import DomainAnswer, GapTarget, IndicatorValue, Status, TargetKind, Theme
from reports.exports.datasets import DATASETS
from reports.summaries import tables
from tests.factories import (
    AssessmentFactory,
    CycleFactory,
    ICSFactory,
    RegionFactory,
    TrustFactory,
    lead_of,
    reviewer_of,
)

# code: (name, unsupported devices %, EPR supplier, digital spend %, DDaT vacancy %)
QOP_TRUSTS = {
    f"RS{n}": (f"Secret Trust {n}", 10 + n * 7.125, f"Supplier {n}", 40 + n * 1.1875, 60 + n * 2.0625)
    for n in range(1, 5)
}
QYG_TRUSTS = {f"RT{n}": (f"Open Trust {n}", 3.5, "Epic", 2.0 + n, 9.5) for n in range(1, 7)}
QOP_NAME = "NHS Greater Manchester Integrated Care Board"
LEVELS = {"WL01": 3, "SF01": 2, "SF02": 4}


def entered_return(cycle, trust, devices, supplier, spend, vacancies, shift):
    assessment = AssessmentFactory(cycle=cycle, trust=trust, status=Status.SUBMITTED)
    DomainAnswer.objects.bulk_create(
        DomainAnswer(assessment=assessment, domain=domain, level=min(5, LEVELS[domain.code] + shift))
        for domain in assessment.applicable_domains()
    )
    IndicatorValue.objects.create(assessment=assessment, indicator_code="unsupported_devices_pct", number=devices)
    IndicatorValue.objects.create(assessment=assessment, indicator_code="epr_supplier", text=supplier)
    IndicatorValue.objects.create(assessment=assessment, indicator_code="digital_spend_pct", number=spend)
    IndicatorValue.objects.create(assessment=assessment, indicator_code="ddat_vacancy_pct", number=vacancies)


@pytest.fixture
def world(transactional_db):
    """Committed (transactional), so the export served by PostgreSQL's COPY, on its own connection, reads it."""
    north = RegionFactory(code="Y62", name="North West")
    qop = ICSFactory(code="QOP", name=QOP_NAME, region=north)
    qyg = ICSFactory(code="QYG", name="NHS Cheshire and Merseyside Integrated Care Board", region=north)
    cycle = CycleFactory()
    GapTarget.objects.create(
        cycle=cycle,
        theme=Theme.LEGACY_IT,
        kind=TargetKind.INDICATOR_AT_MOST,
        indicator_code="unsupported_devices_pct",
        value=5,
        description="At most 5% of devices on unsupported systems",
    )
    GapTarget.objects.create(
        cycle=cycle, theme=Theme.EPR, kind=TargetKind.DOMAIN_LEVEL, value=3, description="Level 3 on the EPR domains"
    )
    trusts = {}
    for number, (ics, table) in enumerate([(qop, QOP_TRUSTS), (qyg, QYG_TRUSTS)]):
        for code, (name, *indicators) in table.items():
            trusts[code] = TrustFactory(code=code, name=name, ics=ics)
            entered_return(cycle, trusts[code], *indicators, shift=number)
    tables.rebuild()
    return {
        "lead of a Greater Manchester trust": (lead_of(trusts["RS1"]), {"RS1"}),
        "lead of a Cheshire trust": (lead_of(trusts["RT1"]), set()),
        "reviewer of Cheshire": (reviewer_of(qyg), set()),
        "anonymous": (None, set()),
    }


def fingerprints_hidden_from(own_codes: set[str]) -> list[str]:
    hidden = []
    for code, (name, devices, supplier, spend, vacancies) in QOP_TRUSTS.items():
        if code not in own_codes:
            hidden += [code, name, supplier]
            hidden += [f"{number:g}" for value in (devices, spend, vacancies) for number in _shown_as(value)]
    return hidden


def _shown_as(value: float) -> list[float]:
    """A number as a cell may show it: in full, or to 2 or 1 decimal places."""
    return [value, round(value, 2), round(value, 1)]


def _shows(cell: str, fingerprint: str) -> bool:
    """Whether the cell shows the fingerprint: a name or code anywhere in it; a number as a whole number (17.1 in
    "17.1" or "17.10", not in a time "12:56:17.105231")."""
    if not re.fullmatch(r"[0-9.]+", fingerprint):
        return fingerprint in cell
    return re.search(rf"(?<![0-9.]){re.escape(fingerprint)}0*(?![0-9])", cell) is not None


def assert_nothing_hidden_in(cells: list[str], hidden: list[str], where: str, *, rows_of_one_return=False):
    """Exports and the API have rows of one return each, whose ICS columns name the ICS it belongs to; anywhere else
    a cell naming Greater Manchester labels an aggregate over its 4 returns."""
    for cell in cells:
        for fingerprint in hidden:
            assert not _shows(cell, fingerprint), f"{where}: {fingerprint!r} of a Greater Manchester return in {cell!r}"
        if not rows_of_one_return:
            assert "Greater Manchester" not in cell, (
                f"{where}: an aggregate over Greater Manchester's returns: {cell!r}"
            )


def csv_rows(response) -> list[list[str]]:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


DASHBOARDS = [
    "/national/",
    "/regions/Y62/",
    "/ics/QOP/",
    "/ics/QOP/print/",
    "/ics/QYG/",
    "/trusts/RS1/",
    "/trusts/RT1/",
]


@pytest.mark.parametrize(
    "viewer",
    ["lead of a Greater Manchester trust", "lead of a Cheshire trust", "reviewer of Cheshire", "anonymous"],
)
def test_no_entered_return_reaches_a_viewer_not_named_for_it(client, world, viewer):
    user, own_codes = world[viewer]
    if user is not None:
        client.force_login(user)
    hidden = fingerprints_hidden_from(own_codes)
    pages_read = charts_read = 0
    walked = set()

    for url in DASHBOARDS:
        response = client.get(url)
        if response.status_code != 200:
            assert response.status_code in (302, 403), url  # anonymous to the log-in page; others refused
            continue
        pages_read += 1
        # Every chart with data shows its table (on the board pack too, which has no download links).
        chart_ids = sorted(set(re.findall(r'id="chart-([a-z0-9_-]+)-caption"', response.content.decode())))
        assert chart_ids, f"{url} shows no chart at all"
        for chart in chart_ids:
            rows = csv_rows(client.get(f"{url}?cycle=2026&chart={chart}&format=csv"))
            charts_read += 1
            walked.add(chart)
            header, body = rows[0], rows[1:]
            assert_nothing_hidden_in([cell for row in body for cell in row], hidden, f"{url} chart {chart}")
            if "Assessments" in header:
                column = header.index("Assessments")
                counts = [int(row[column]) for row in body if row[column]]
                assert all(count >= 5 for count in counts), f"{url} chart {chart}: an aggregate over {counts}"

    for slug in DATASETS:
        export = client.get(f"/exports/{slug}.csv")
        api = client.get(f"/api/v1/{slug}/", {"page_size": 1000})
        if user is None:
            assert export.status_code in (302, 403) and api.status_code in (401, 403)
            continue
        assert export.status_code == 200 and api.status_code == 200
        export_rows = csv_rows(export)
        org_code = export_rows[0].index("org_code")
        assert not {row[org_code] for row in export_rows[1:]} & (QOP_TRUSTS.keys() - own_codes), slug
        cells = [cell for row in export_rows[1:] for cell in row]
        assert_nothing_hidden_in(cells, hidden, f"export {slug}", rows_of_one_return=True)
        api_rows = api.json()["results"]
        assert not {row["org_code"] for row in api_rows} & (QOP_TRUSTS.keys() - own_codes), slug
        cells = [str(value) for row in api_rows for value in row.values()]
        assert_nothing_hidden_in(cells, hidden, f"API {slug}", rows_of_one_return=True)

    if user is not None:
        assert pages_read >= 3 and charts_read >= 10
        assert "spend-and-scores" in walked


def test_the_viewers_own_and_named_data_is_still_shown(client, world):
    """The other side of the rule, so the test above cannot pass by showing nothing: the QOP trust's lead finds its
    own return, and an analyst finds all four with Greater Manchester's aggregates."""
    user, _ = world["lead of a Greater Manchester trust"]
    client.force_login(user)
    devices = csv_rows(client.get("/ics/QOP/?cycle=2026&chart=devices&format=csv"))
    assert any("Secret Trust 1" in row[0] for row in devices[1:])
    analyst = get_user_model().objects.create_superuser("analyst-admin", password="x")
    client.force_login(analyst)
    heatmap = csv_rows(client.get("/ics/QOP/?cycle=2026&chart=heatmap&format=csv"))
    assert {row[0].split(" – ")[0] for row in heatmap[1:]} == {name for name, *_ in QOP_TRUSTS.values()}
    distribution = csv_rows(client.get("/ics/QOP/?cycle=2026&chart=distribution&format=csv"))
    assert any("Greater Manchester" in cell for row in distribution[1:] for cell in row)
    spend = csv_rows(client.get("/ics/QOP/?cycle=2026&chart=spend-and-scores&format=csv"))
    assert {row[0] for row in spend[1:]} == {name for name, *_ in QOP_TRUSTS.values()}
    assert "41.19" in {row[1] for row in spend[1:]}
