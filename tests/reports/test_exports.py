"""CSV and XLSX exports: the published 2025 pillar scores against the source workbook, a round trip back to the
summary table, the contract's columns, the formula guard, role scoping of every dataset, the filters and the page.

On PostgreSQL the CSV is written by COPY on a connection of its own, which sees only committed rows: the tests run
as transactional tests there, so the same assertions exercise the COPY path."""

import csv
import datetime
import io
import threading
from pathlib import Path
from types import SimpleNamespace

import openpyxl
import pandas as pd
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from maturity import actions
from maturity.models import (
    Assessment,
    Cycle,
    CycleKind,
    CycleState,
    DomainAnswer,
    IndicatorValue,
    Pillar,
    PublishedScore,
    Source,
    Status,
)
from maturity.published import import_published_dma
from reports.exports import files
from reports.exports.datasets import DATASETS, visible_rows
from reports.models import PillarScore
from reports.summaries import tables
from tests.factories import (
    AssessmentFactory,
    CycleFactory,
    ICSFactory,
    RegionFactory,
    TrustFactory,
    UserFactory,
    analyst,
    lead_of,
    reviewer_of,
)
from trusts.models import CareSetting, TrustType
from trusts.ods import load_organisations

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
POSTGRES = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
PILLARS = [code for code, _ in Pillar.ALL]
ORG = [
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
]
CONTRACT = {
    "pillar-scores": [*ORG, "pillar_code", "pillar_name", "score", "source", "status"],
    "domain-scores": [
        *ORG,
        "domain_code",
        "domain_name",
        "pillar_code",
        "pillar_name",
        "level",
        "evidence",
        "source",
        "status",
    ],
    "indicators": [*ORG, "indicator_code", "value_number", "value_text", "source", "status"],
    "gaps": [
        *ORG,
        "theme",
        "target_description",
        "target",
        "measured",
        "measured_text",
        "gap",
        "met",
        "source",
        "status",
    ],
    "assessments": [*ORG, "status", "source", "version", "submitted_at", "reviewed_at", "is_demo"],
}
ROLES = ["lead", "reviewer", "other reviewer", "analyst", "admin", "no role"]


# Committed data on PostgreSQL, where COPY reads on a connection of its own; a rolled-back transaction elsewhere.
pytestmark = pytest.mark.django_db(transaction=POSTGRES)


def download(client, user, dataset, fmt="csv", **params):
    if user is not None:
        client.force_login(user)
    return client.get(f"/exports/{dataset}.{fmt}", params)


def csv_body(response) -> bytes:
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    body = b"".join(response.streaming_content)
    assert body.startswith(files.BOM)
    return body


def csv_rows(client, user, dataset, **params) -> list[dict]:
    body = csv_body(download(client, user, dataset, **params))
    reader = csv.DictReader(io.StringIO(body.decode("utf-8-sig"), newline=""))
    assert reader.fieldnames == DATASETS[dataset].column_names
    return list(reader)


# --- Published 2025 pillar scores ----------------------------------------------------------------------------------


@pytest.fixture
def published():
    load_organisations(FIXTURES / "ods")
    import_published_dma(FIXTURES / "dma" / "dma_2024_2025_results_v2.xlsx", FIXTURES / "dma" / "provider_aliases.csv")
    tables.rebuild()
    return analyst()


def workbook_pillar_rows() -> list[tuple]:
    """(care setting, 7 pillar scores) of every provider row of the source workbook, read independently of the
    importer: the header row starts with 'Region', the data ends at the 'Source:' footer."""
    book = openpyxl.load_workbook(FIXTURES / "dma" / "dma_2024_2025_results_v2.xlsx", read_only=True)
    rows, header = [], None
    for values in book["SC - 2025 Pillar Summary"].iter_rows(values_only=True):
        cells = list(values[1:])
        if header is None:
            header = cells if cells[:1] == ["Region"] else None
            continue
        if not cells[0]:
            continue
        if str(cells[0]).startswith("Source"):
            break
        record = dict(zip(header, cells, strict=True))
        rows.append((record["Provider"], record["Care Setting"], *[record[name] for _, name in Pillar.ALL]))
    return rows


def test_published_2025_pillar_scores_carry_every_provider_with_ods_codes(client, published):
    rows = csv_rows(client, published, "pillar-scores", cycle="2025", source="published")
    providers = [row for row in rows if row["org_type"] == "trust"]
    assert len(providers) == 285 * 8  # seven pillars and the overall score
    assert {row["pillar_code"] for row in providers} == {*PILLARS, "overall"}
    assert len({(row["org_code"], row["care_setting"]) for row in providers}) == 285
    for row in providers:
        assert row["org_code"] and row["region_code"].startswith("Y") and row["ics_code"].startswith("Q")
        assert (row["source"], row["status"]) == ("published", "published")
    # The ICBs' own returns are there too, apart.
    assert len([row for row in rows if row["org_type"] == "ics"]) == 42 * 8

    # Every provider row of the source workbook, score for score (matched by care setting and scores, independently
    # of the importer's name matching).
    source = workbook_pillar_rows()
    assert len(source) == 285
    setting = {name: slug for slug, name, _ in CareSetting.ALL}
    exported = {}
    for row in providers:
        if row["pillar_code"] != "overall":
            exported.setdefault((row["org_code"], row["care_setting"]), {})[row["pillar_code"]] = float(row["score"])
    assert sorted((care, *[round(scores[p], 1) for p in PILLARS]) for (_, care), scores in exported.items()) == sorted(
        (setting[care], *[round(float(v), 1) for v in values]) for _, care, *values in source
    )
    # A sample by name: Salisbury NHS FT (RNZ), acute, the first row of the sheet.
    salisbury = next(row for row in source if row[0] == "SALISBURY NHS FOUNDATION TRUST")
    assert [exported[("RNZ", "acute")][p] for p in PILLARS] == list(salisbury[2:])

    # England's published means.
    frame = pd.DataFrame(providers).astype({"score": float})
    means = frame[frame["pillar_code"] != "overall"].groupby("pillar_code")["score"].mean().round(2)
    assert [means[p] for p in PILLARS] == [2.83, 2.61, 2.49, 2.64, 2.02, 2.38, 2.23]


def test_the_csv_reads_back_into_pandas_as_the_summary_table(client, published):
    body = csv_body(download(client, published, "pillar-scores"))
    exported = pd.read_csv(io.BytesIO(body), encoding="utf-8-sig", keep_default_na=False)
    assert list(exported.columns) == DATASETS["pillar-scores"].column_names
    fields = [
        "cycle_year",
        *ORG[1:],
        "pillar_code",
        "pillar_name",
        "score",
        "source",
        "status",
        "is_demo",
        "verified_share",
        "verified_score",
    ]
    table = pd.DataFrame(list(PillarScore.objects.values_list(*fields)), columns=exported.columns)
    table["score"] = table["score"].round(3)
    # Published scores have no domains, so nothing verified: empty cells, read as "" here.
    assert table[["verified_share", "verified_score"]].isna().all().all()
    table[["verified_share", "verified_score"]] = ""
    key = ["cycle", "org_code", "care_setting", "pillar_code"]
    assert len(exported) == PillarScore.objects.count() > 285 * 8  # 2025 pillars, 2024 and 2025 overall
    pd.testing.assert_frame_equal(
        exported.sort_values(key).reset_index(drop=True),
        table.sort_values(key).reset_index(drop=True),
        check_dtype=False,
    )
    assert exported["score"].dtype == float and exported["cycle"].dtype == int


# --- A small world: two ICSs, returns entered here in every status, one published result --------------------------


def answered(assessment, level=3):
    DomainAnswer.objects.bulk_create(
        DomainAnswer(assessment=assessment, domain=domain, level=level) for domain in assessment.applicable_domains()
    )
    return assessment


@pytest.fixture
def world():
    CareSetting.objects.ensure_all()
    Pillar.objects.ensure_all()
    north, midlands = RegionFactory(code="Y62", name="North West"), RegionFactory(code="Y60", name="Midlands")
    qop = ICSFactory(code="QOP", name="NHS Greater Manchester Integrated Care Board", region=north)
    qj2 = ICSFactory(code="QJ2", name="NHS Derby and Derbyshire Integrated Care Board", region=midlands)
    cycle = CycleFactory(year=2026)
    an_analyst = analyst()
    actions.set_gap_targets(
        by=an_analyst,
        cycle=cycle,
        targets=[
            {"theme": "epr", "kind": "domain_level", "value": 3, "description": "Level 3 on EPR domains"},
            {
                "theme": "legacy_it",
                "kind": "indicator_at_most",
                "indicator_code": "unsupported_devices_pct",
                "value": 5,
                "description": "At most 5% unsupported",
            },
        ],
    )
    trusts = {
        "R00": TrustFactory(code="R00", name="Trust Zero NHS FT", ics=qop),
        "R02": TrustFactory(code="R02", name="Trust Two NHS FT", ics=qop, trust_type=TrustType.ACUTE_SPECIALIST),
        # Formula injection through a name: neutralised in the files, shown as typed on pages.
        "R04": TrustFactory(code="R04", name='=HYPERLINK("http://example.com","Click")', ics=qop),
        "R01": TrustFactory(code="R01", name="Trust One NHS FT", ics=qj2),
        "R03": TrustFactory(
            code="R03",
            name="Trust Three, Community NHS Trust",
            ics=qj2,
            trust_type=TrustType.COMMUNITY,
            care_settings=[CareSetting.COMMUNITY],
        ),
    }
    counted = {
        code: answered(
            AssessmentFactory(
                cycle=cycle,
                trust=trust,
                care_setting_id=trust.care_settings.first().slug,
                status=Status.APPROVED if code == "R01" else Status.SUBMITTED,
                submitted_at=timezone.now(),
            )
        )
        for code, trust in trusts.items()
    }
    IndicatorValue.objects.create(assessment=counted["R00"], indicator_code="unsupported_devices_pct", number=-2.5)
    IndicatorValue.objects.create(assessment=counted["R00"], indicator_code="epr_supplier", text="@SUM(1+1)")
    IndicatorValue.objects.create(assessment=counted["R01"], indicator_code="unsupported_devices_pct", number=7.25)
    IndicatorValue.objects.create(assessment=counted["R01"], indicator_code="epr_supplier", text="\tTabbed")
    # The ICB's own return, and returns that count nowhere but in the assessments dataset.
    answered(
        Assessment.objects.create(
            cycle=cycle, ics=qop, region=north, framework=cycle.ics_framework, status=Status.SUBMITTED
        )
    )
    AssessmentFactory(cycle=cycle, trust=trusts["R02"], care_setting_id=CareSetting.COMMUNITY, status=Status.DRAFT)
    AssessmentFactory(cycle=cycle, trust=trusts["R01"], care_setting_id=CareSetting.COMMUNITY, status=Status.RETURNED)
    # NHS England's published result for one trust of the other ICS, public to everyone.
    history = Cycle.objects.create(year=2025, kind=CycleKind.PUBLISHED_HISTORY, state=CycleState.PUBLISHED)
    published = Assessment.objects.create(
        cycle=history,
        trust=trusts["R01"],
        care_setting_id=CareSetting.ACUTE,
        ics=qj2,
        region=midlands,
        source=Source.PUBLISHED,
        status=Status.PUBLISHED,
    )
    for code in PILLARS:
        PublishedScore.objects.create(assessment=published, pillar=Pillar.objects.get(code=code), score=2.5)
    PublishedScore.objects.create(assessment=published, pillar=None, score=2.4)
    tables.rebuild()
    users = {
        "lead": lead_of(trusts["R00"]),
        "reviewer": reviewer_of(qop),
        "other reviewer": reviewer_of(qj2),
        "analyst": an_analyst,
        "admin": get_user_model().objects.create_superuser("admin", password="x"),
        "no role": UserFactory(),
    }
    return SimpleNamespace(cycle=cycle, trusts=trusts, users=users)


# --- Columns and format --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dataset", DATASETS)
def test_columns_follow_the_contract_in_order(client, world, dataset):
    rows = csv_rows(client, world.users["analyst"], dataset)
    names = DATASETS[dataset].column_names
    assert names[: len(CONTRACT[dataset])] == CONTRACT[dataset]
    # After the contract's columns: is_demo, and for pillar scores the share verified and the verified-only score.
    extra = ["is_demo", "verified_share", "verified_score"] if dataset == "pillar-scores" else ["is_demo"]
    assert names[len(CONTRACT[dataset]) :] in ([], extra)
    assert rows, f"{dataset} has rows to check"


def test_the_csv_is_tidy_with_numbers_as_numbers(client, world):
    body = csv_body(download(client, world.users["analyst"], "pillar-scores", cycle="2026"))
    text = body.decode("utf-8-sig")
    row = next(r for r in csv.DictReader(io.StringIO(text, newline="")) if r["org_code"] == "R00")
    assert row["score"] == "3" and row["cycle"] == "2026" and row["is_demo"] == "false"
    # A name holding a comma is quoted; nothing else is.
    assert '"Trust Three, Community NHS Trust"' in text
    assert row["trust_type"] == "acute" and row["care_setting"] == "acute"
    icb = next(r for r in csv.DictReader(io.StringIO(text, newline="")) if r["org_type"] == "ics")
    assert icb["trust_type"] == "" and icb["care_setting"] == ""
    assessments = csv_rows(client, world.users["analyst"], "assessments", cycle="2026", trust="R00")
    submitted = datetime.datetime.strptime(assessments[0]["submitted_at"], "%Y-%m-%dT%H:%M:%SZ")
    assert abs(submitted.replace(tzinfo=datetime.UTC) - timezone.now()) < datetime.timedelta(minutes=5)
    assert assessments[0]["reviewed_at"] == "" and assessments[0]["version"] == "1"


def test_formulas_are_neutralised_and_numbers_left_alone_in_the_csv(client, world):
    analyst_user = world.users["analyst"]
    pillars = csv_rows(client, analyst_user, "pillar-scores", trust="R04")
    assert pillars and all(row["org_name"] == '\'=HYPERLINK("http://example.com","Click")' for row in pillars)
    indicators = {(row["org_code"], row["indicator_code"]): row for row in csv_rows(client, analyst_user, "indicators")}
    assert indicators[("R00", "epr_supplier")]["value_text"] == "'@SUM(1+1)"
    assert indicators[("R01", "epr_supplier")]["value_text"] == "'\tTabbed"
    assert indicators[("R00", "unsupported_devices_pct")]["value_number"] == "-2.5"
    assert indicators[("R01", "unsupported_devices_pct")]["value_number"] == "7.25"
    gaps = csv_rows(client, analyst_user, "gaps", trust="R01")
    legacy = next(row for row in gaps if row["theme"] == "legacy_it")
    assert (legacy["measured"], legacy["gap"], legacy["met"]) == ("7.25", "2.25", "false")


def test_the_xlsx_has_data_and_about_sheets_with_formulas_neutralised(client, world):
    user = world.users["analyst"]
    response = download(client, user, "indicators", fmt="xlsx", cycle="2026")
    assert response.status_code == 200
    assert response["Content-Type"] == files.XLSX_CONTENT_TYPE
    assert response["Content-Disposition"] == 'attachment; filename="indicators-2026.xlsx"'
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["Data", "About"]
    data = list(book["Data"].iter_rows(values_only=True))
    assert list(data[0]) == DATASETS["indicators"].column_names
    assert len(data) - 1 == len(csv_rows(client, user, "indicators", cycle="2026"))
    records = {(row[5], row[10]): dict(zip(data[0], row, strict=True)) for row in data[1:]}
    assert records[("R00", "epr_supplier")]["value_text"] == "'@SUM(1+1)"
    assert records[("R00", "unsupported_devices_pct")]["value_number"] == -2.5
    assert records[("R00", "epr_supplier")]["cycle"] == 2026
    for row in book["Data"].iter_rows(min_row=2):
        assert all(cell.data_type != "f" for cell in row)  # no formula anywhere

    about = {row[0]: row[1] for row in book["About"].iter_rows(values_only=True) if row and row[0]}
    assert about["Filters"] == "cycle = 2026"
    assert about["Generated by"] == user.username
    assert "Open Government Licence v3.0" in about["Licence"]
    assert "Published by NHS England" in about["Source"]
    for column in DATASETS["indicators"].columns:
        assert about[column.name] == column.description


def test_the_xlsx_writes_names_neutralised_and_dates_as_dates(client, world):
    response = download(client, world.users["analyst"], "assessments", fmt="xlsx", trust="R04")
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    header, *rows = list(book["Data"].iter_rows(values_only=True))
    record = dict(zip(header, rows[0], strict=True))
    assert record["org_name"] == '\'=HYPERLINK("http://example.com","Click")'
    assert isinstance(record["submitted_at"], datetime.datetime) and record["version"] == 1
    assert record["is_demo"] is False


def test_the_xlsx_is_refused_above_excels_row_limit_pointing_to_the_csv(client, world, monkeypatch):
    monkeypatch.setattr(files, "XLSX_MAX_ROWS", 3)
    response = download(client, world.users["analyst"], "pillar-scores", fmt="xlsx")
    assert response.status_code == 400
    assert b"Download the CSV instead" in response.content
    assert b'href="/exports/pillar-scores.csv"' in response.content


# --- Who exports what --------------------------------------------------------------------------------------------


def allowed(role, row) -> bool:
    """The rule, restated: published rows for all; rows entered here by organisation."""
    if row["source"] == "published":
        return True
    return {
        "lead": row["org_code"] == "R00",
        "reviewer": row["ics_code"] == "QOP",
        "other reviewer": row["ics_code"] == "QJ2",
        "analyst": True,
        "admin": True,
        "no role": False,
    }[role]


def keys(rows) -> set:
    return {(row["cycle"], row["org_code"], row["care_setting"], row["source"], row["status"]) for row in rows}


@pytest.mark.parametrize("dataset", DATASETS)
@pytest.mark.parametrize("role", ROLES)
def test_each_role_exports_only_what_it_may_see(client, world, dataset, role):
    everything = csv_rows(client, world.users["analyst"], dataset)
    client.logout()
    rows = csv_rows(client, world.users[role], dataset)
    assert keys(rows) == keys(row for row in everything if allowed(role, row))
    assert len(rows) == len([row for row in everything if allowed(role, row)])
    # The queryset the API reads says the same.
    assert visible_rows(DATASETS[dataset], world.users[role]).count() == len(rows)


def test_the_scoping_is_not_vacuous(client, world):
    def orgs(role, dataset):
        return {(row["org_code"], row["source"]) for row in csv_rows(client, world.users[role], dataset)}

    assert orgs("lead", "pillar-scores") == {("R00", "return"), ("R01", "published")}
    assert orgs("reviewer", "pillar-scores") == {
        ("R00", "return"),
        ("R02", "return"),
        ("R04", "return"),
        ("QOP", "return"),
        ("R01", "published"),
    }
    assert orgs("other reviewer", "domain-scores") == {("R01", "return"), ("R03", "return")}
    assert orgs("no role", "pillar-scores") == {("R01", "published")}
    assert orgs("no role", "gaps") == set()


def test_drafts_and_returned_assessments_appear_only_in_the_assessments_dataset(client, world):
    user = world.users["analyst"]
    for dataset in ("pillar-scores", "domain-scores", "indicators", "gaps"):
        assert {row["status"] for row in csv_rows(client, user, dataset)} <= {"submitted", "approved", "published"}
    statuses = {row["status"] for row in csv_rows(client, user, "assessments")}
    assert statuses == {"draft", "submitted", "returned", "approved", "published"}
    # Its ICS reviewer sees the draft too; another ICS's does not.
    drafts = [r for r in csv_rows(client, world.users["reviewer"], "assessments") if r["status"] == "draft"]
    assert [(r["org_code"], r["care_setting"]) for r in drafts] == [("R02", "community")]
    assert not [r for r in csv_rows(client, world.users["other reviewer"], "assessments") if r["status"] == "draft"]


@pytest.mark.parametrize("url", ["/exports/", "/exports/pillar-scores.csv", "/exports/assessments.xlsx"])
def test_anonymous_users_are_sent_to_log_in(client, world, url):
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_an_unknown_dataset_is_not_found(client, world):
    client.force_login(world.users["analyst"])
    assert client.get("/exports/scores.csv").status_code == 404
    assert client.get("/exports/scores.xlsx").status_code == 404


# --- Filters -----------------------------------------------------------------------------------------------------

FILTERS = [
    ("cycle", "2025", lambda row: row["cycle"] == "2025"),
    ("region", "y60", lambda row: row["region_code"] == "Y60"),
    ("ics", "qop", lambda row: row["ics_code"] == "QOP"),
    ("trust", "r02", lambda row: row["org_code"] == "R02"),
    ("trust", "QOP", lambda row: row["org_code"] == "QOP"),
    ("trust_type", "acute-specialist", lambda row: row["trust_type"] == "acute-specialist"),
    ("care_setting", "community", lambda row: row["care_setting"] == "community"),
    ("source", "published", lambda row: row["source"] == "published"),
    ("source", "return", lambda row: row["source"] == "return"),
]


@pytest.mark.parametrize("dataset", ["pillar-scores", "assessments"])
@pytest.mark.parametrize(("name", "value", "matches"), FILTERS, ids=[f"{f[0]}={f[1]}" for f in FILTERS])
def test_each_filter_narrows_the_rows(client, world, dataset, name, value, matches):
    user = world.users["analyst"]
    everything = csv_rows(client, user, dataset)
    rows = csv_rows(client, user, dataset, **{name: value})
    expected = [row for row in everything if matches(row)]
    assert expected and len(expected) < len(everything), "the world lets this filter narrow"
    assert sorted(map(tuple, (r.values() for r in rows))) == sorted(map(tuple, (r.values() for r in expected)))


def test_the_pillar_filter_picks_a_pillar_or_the_overall_score(client, world):
    user = world.users["analyst"]
    rows = csv_rows(client, user, "pillar-scores", pillar="smart_foundations")
    assert rows and {row["pillar_code"] for row in rows} == {"smart_foundations"}
    assert {row["pillar_code"] for row in csv_rows(client, user, "pillar-scores", pillar="overall")} == {"overall"}
    domains = csv_rows(client, user, "domain-scores", pillar="smart_foundations")
    assert domains and {row["domain_code"] for row in domains} == {"SF01", "SF02"}
    # Datasets without pillars ignore it.
    assert len(csv_rows(client, user, "gaps", pillar="well_led")) == len(csv_rows(client, user, "gaps"))


def test_filters_combine(client, world):
    rows = csv_rows(client, world.users["analyst"], "pillar-scores", cycle="2026", ics="QOP", pillar="well_led")
    assert sorted(row["org_code"] for row in rows) == ["QOP", "R00", "R02", "R04"]


def test_filters_never_widen_a_roles_rows(client, world):
    assert csv_rows(client, world.users["lead"], "pillar-scores", trust="R02") == []
    rows = csv_rows(client, world.users["lead"], "pillar-scores", ics="QJ2")
    assert {row["source"] for row in rows} == {"published"}


INVALID = [
    ("cycle", "abc", "Enter a cycle as a year"),
    ("cycle", "2025.5", "Enter a cycle as a year"),
    ("cycle", "1066", "greater than or equal to 2000"),
    ("region", "QOP", "Enter a region"),
    ("ics", "Y62", "Enter an ICB"),
    ("trust", "not-a-code", "Enter an ODS code"),
    ("trust_type", "hospital", "Select a valid choice"),
    ("care_setting", "dental", "Select a valid choice"),
    ("pillar", "kindness", "Select a valid choice"),
    ("source", "both", "Select a valid choice"),
]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize(("name", "value", "message"), INVALID, ids=[f"{i[0]}={i[1]}" for i in INVALID])
def test_an_invalid_filter_is_a_400_naming_the_parameter(client, world, fmt, name, value, message):
    response = download(client, world.users["analyst"], "pillar-scores", fmt=fmt, **{name: value})
    assert response.status_code == 400
    content = response.content.decode()
    assert f"{name}: " in content and message in content
    assert 'class="nhsuk-error-summary"' in content and f'href="#{name}"' in content


def test_an_invalid_filter_on_the_page_is_shown_at_the_field(client, world):
    client.force_login(world.users["analyst"])
    response = client.get("/exports/", {"dataset": "gaps", "cycle": "next"})
    assert response.status_code == 400
    content = response.content.decode()
    assert 'id="cycle-error"' in content and "Download CSV" not in content
    assert client.get("/exports/", {"dataset": "everything"}).status_code == 400


# --- The page ----------------------------------------------------------------------------------------------------


def test_the_page_shows_the_row_count_and_the_download_links(client, world):
    client.force_login(world.users["analyst"])
    response = client.get("/exports/", {"dataset": "pillar-scores", "cycle": "2026", "ics": "qop", "trust": ""})
    assert response.status_code == 200
    content = response.content.decode()
    count = len(csv_rows(client, world.users["analyst"], "pillar-scores", cycle="2026", ics="QOP"))
    assert count == 4 * 3  # four returns × (two pillars + overall) in the small framework
    assert f"<strong>{count}</strong> rows match your choice" in content
    assert 'href="/exports/pillar-scores.csv?cycle=2026&amp;ics=qop"' in content
    assert 'href="/exports/pillar-scores.xlsx?cycle=2026&amp;ics=qop"' in content
    # The form keeps the choice (a GET form: the URL is shareable) and describes every dataset and column.
    assert 'value="pillar-scores" aria-describedby="dataset-pillar-scores-hint" checked' in content
    assert '<option value="QOP" selected>' in content and '<option value="2026" selected>' in content
    for dataset in DATASETS.values():
        assert dataset.description.replace("'", "&#x27;") in content
    assert "<code>score</code>" in content


def test_the_page_counts_only_what_the_role_may_see(client, world):
    client.force_login(world.users["lead"])
    content = client.get("/exports/", {"dataset": "assessments"}).content.decode()
    assert "<strong>2</strong> rows match your choice" in content  # its own return and the published one


def test_the_download_is_named_after_the_dataset_and_filters(client, world):
    response = download(client, world.users["analyst"], "pillar-scores", cycle="2026", ics="qop")
    csv_body(response)
    assert response["Content-Disposition"] == 'attachment; filename="pillar-scores-2026-qop.csv"'
    response = download(client, world.users["analyst"], "gaps")
    csv_body(response)
    assert response["Content-Disposition"] == 'attachment; filename="gaps.csv"'


def test_an_export_nobody_may_see_is_just_the_header(client, world):
    rows = csv_rows(client, world.users["no role"], "domain-scores")
    assert rows == []


# --- PostgreSQL writes the CSV itself ----------------------------------------------------------------------------

needs_postgres = pytest.mark.skipif(not POSTGRES, reason="the COPY path needs PostgreSQL (DATABASE_URL)")


@needs_postgres
@pytest.mark.parametrize("dataset", DATASETS)
def test_copy_writes_the_same_bytes_as_the_python_writer(client, world, dataset, monkeypatch):
    chosen = DATASETS[dataset]
    rows = visible_rows(chosen, world.users["analyst"])
    expected = b"".join(files._python_chunks(chosen, rows))
    # The view must not fall back to Python on PostgreSQL.
    monkeypatch.setattr(files, "_python_chunks", lambda *args: pytest.fail("COPY was not used"))
    assert csv_body(download(client, world.users["analyst"], dataset)) == expected


@needs_postgres
def test_a_download_abandoned_half_way_stops_the_copy_and_closes_its_connection(world, monkeypatch):
    from django.db import connections

    opened = []
    create_connection = connections.create_connection

    def recorded(alias):
        opened.append(create_connection(alias))
        return opened[-1]

    monkeypatch.setattr(connections, "create_connection", recorded)
    # Tiny chunks and a one-chunk queue, so the COPY is still running when the reader leaves.
    monkeypatch.setattr(files, "CHUNK_BYTES", 10)
    monkeypatch.setattr(files, "QUEUE_CHUNKS", 1)
    chunks = files.csv_chunks(DATASETS["pillar-scores"], visible_rows(DATASETS["pillar-scores"], world.users["admin"]))
    assert next(chunks) == files.BOM
    assert next(chunks).startswith(b"cycle,region_code")
    assert opened[0].connection is not None  # the COPY's own connection, open while it writes
    chunks.close()
    assert not [thread for thread in threading.enumerate() if thread.name.startswith("csv-export")]
    assert opened[0].connection is None  # closed by Django: PostgreSQL ends the COPY with it


def test_scripts_download_exports_with_an_api_token(client, db):
    from tests.factories import analyst, api_token

    token = api_token(analyst())
    response = client.get("/exports/pillar-scores.csv", headers={"authorization": f"Token {token}"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    refused = client.get("/exports/pillar-scores.csv", headers={"authorization": "Token not-a-real-token"})
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "authentication_failed"


def test_a_client_that_accepts_gzip_gets_the_same_csv_compressed(client, world):
    import gzip

    plain = csv_body(download(client, world.users["analyst"], "pillar-scores"))
    response = client.get("/exports/pillar-scores.csv", HTTP_ACCEPT_ENCODING="gzip, deflate")
    assert response["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response["Vary"]
    assert gzip.decompress(b"".join(response.streaming_content)) == plain


def test_the_exports_separate_verified_from_self_asserted_scores(client, world):
    assessment = Assessment.objects.get(trust__code="R00", cycle__year=2026)
    answers = list(assessment.answers.select_related("domain").order_by("domain__code"))
    for answer in answers[:3]:
        answer.evidence_note = "Board paper"
    DomainAnswer.objects.bulk_update(answers[:3], ["evidence_note"])
    verified = [answer.domain.code for answer in answers[:2]]
    actions.verify_evidence(
        by=world.users["reviewer"], assessment=assessment, expected_version=assessment.version, domain_codes=verified
    )
    tables.rebuild()

    levels = csv_rows(client, world.users["analyst"], "domain-scores", trust="R00")
    assert {row["domain_code"]: row["evidence"] for row in levels} == {
        answer.domain.code: "verified" if i < 2 else "self-asserted" if i < 3 else "none"
        for i, answer in enumerate(answers)
    }
    overall = next(
        row
        for row in csv_rows(client, world.users["analyst"], "pillar-scores", trust="R00")
        if row["pillar_code"] == "overall"
    )
    assert float(overall["verified_share"]) == round(2 / len(answers), 3)
    assert float(overall["verified_score"]) == 3.0
