"""The published-data importers against the real files in fixtures/, and broken copies of them."""

import csv
import io
import shutil
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Avg, F

from maturity.models import (
    Assessment,
    AuditEvent,
    Cycle,
    CycleKind,
    CycleState,
    IndicatorValue,
    PublishedScore,
    RefreshMark,
    Source,
    Status,
)
from maturity.published import (
    ALIASES_FILE,
    DMA_FILE,
    DMA_SOURCE_NOTE,
    DSPT_ICBS_FILE,
    DSPT_TRUSTS_FILE,
    LEGACY_FILE,
    PREDECESSORS_FILE,
    PublishedImportError,
    import_dspt,
    import_legacy_devices,
    import_published_dma,
    normalise_name,
    parse_dspt_status,
    published_results_for_trust,
    read_aliases,
)
from trusts.models import Trust
from trusts.ods import load_organisations

FIXTURES = Path(settings.BASE_DIR) / "fixtures"
WORKBOOK = Path(DMA_FILE).name
PILLARS_SHEET = "SC - 2025 Pillar Summary"
OVERALL_SHEET = "SC - 24 vs 25 Overall DMA"
ICB_PILLARS_SHEET = "ICB - 2025 Pillar Summary"
ICB_OVERALL_SHEET = "ICB -24 vs 25 Overall DMA "  # as published, with its trailing space
PILLAR_CODES = [
    "well_led",
    "smart_foundations",
    "safe_practice",
    "support_workforce",
    "empower_people",
    "improve_care",
    "healthy_populations",
]

pytestmark = pytest.mark.django_db


@pytest.fixture
def organisations():
    load_organisations(FIXTURES / "ods")


@pytest.fixture
def fixtures_copy(tmp_path):
    """A copy of the published files and curated tables, to break or change."""
    for directory in ["dma", "dspt", "legacy_it"]:
        shutil.copytree(FIXTURES / directory, tmp_path / directory)
    return tmp_path


def run_dma(directory=FIXTURES, **options):
    return import_published_dma(directory / DMA_FILE, directory / ALIASES_FILE, **options)


def run_dspt(directory=FIXTURES):
    return import_dspt(directory / DSPT_TRUSTS_FILE, directory / DSPT_ICBS_FILE, directory / PREDECESSORS_FILE)


def run_legacy(directory=FIXTURES):
    return import_legacy_devices(directory / LEGACY_FILE, directory / PREDECESSORS_FILE)


@pytest.fixture
def dma(organisations):
    return run_dma()


def published_state():
    """Everything the importers write, in a comparable form."""
    return (
        list(Cycle.objects.order_by("year").values_list()),
        list(
            Assessment.objects.order_by("pk").values_list(
                "pk", "cycle__year", "trust__code", "care_setting", "ics__code", "region__code", "published_name"
            )
        ),
        sorted(PublishedScore.objects.values_list("assessment_id", "pillar__code", "score"), key=str),
        sorted(
            IndicatorValue.objects.values_list(
                "indicator_code", "trust__code", "ics__code", "number", "text", "is_unknown", "edition", "as_of"
            ),
            key=str,
        ),
    )


def nothing_written():
    return not (
        Cycle.objects.exists()
        or Assessment.objects.exists()
        or IndicatorValue.objects.exists()
        or AuditEvent.objects.exists()
        or RefreshMark.objects.exists()
    )


def scores_of(code, setting, year=2025):
    assessment = Assessment.objects.get(cycle__year=year, trust__code=code, care_setting=setting)
    scores = {s.pillar.code if s.pillar else "overall": s.score for s in assessment.published_scores.all()}
    return assessment, scores


# DMA: the real workbook.


def test_every_provider_and_icb_row_is_matched_and_imported(dma):
    assert dma.unmatched == []
    assert dma.counts["provider_rows"] == 285
    assert (dma.counts["providers"], dma.counts["trusts_matched"]) == (204, 204)
    assert (dma.counts["icbs"], dma.counts["icbs_matched"]) == (42, 42)
    for year in (2024, 2025):
        in_cycle = Assessment.objects.filter(cycle__year=year)
        assert in_cycle.for_trusts().count() == 285
        assert in_cycle.for_trusts().values("trust").distinct().count() == 204
        assert in_cycle.for_icss().count() == 42
        assert not in_cycle.exclude(source=Source.PUBLISHED, status=Status.PUBLISHED).exists()
    by_setting = {
        setting: Assessment.objects.filter(cycle__year=2025, care_setting=setting).count()
        for setting in ["acute", "community", "mental-health", "ambulance"]
    }
    assert by_setting == {"acute": 134, "community": 90, "mental-health": 50, "ambulance": 11}
    assert (dma.counts["rows_acute"], dma.counts["rows_mental_health"]) == (134, 50)


def test_the_cycles_are_published_history_naming_the_publication(dma):
    for cycle in Cycle.objects.all():
        assert (cycle.kind, cycle.state) == (CycleKind.PUBLISHED_HISTORY, CycleState.PUBLISHED)
        assert cycle.source_note == DMA_SOURCE_NOTE
        assert cycle.trust_framework is None and cycle.ics_framework is None
    assert sorted(Cycle.objects.values_list("year", flat=True)) == [2024, 2025]
    assert not Assessment.objects.filter(framework__isnull=False).exists()


def test_2025_has_seven_pillar_scores_and_an_overall_score_2024_only_the_overall(dma):
    assert PublishedScore.objects.filter(assessment__cycle__year=2025).count() == (285 + 42) * 8
    assert PublishedScore.objects.filter(assessment__cycle__year=2024).count() == 285 + 42
    assert not PublishedScore.objects.filter(assessment__cycle__year=2024, pillar__isnull=False).exists()


def test_england_means_match_the_publication(dma):
    rows = PublishedScore.objects.filter(assessment__trust__isnull=False)
    means = {
        code: round(rows.filter(assessment__cycle__year=2025, pillar__code=code).aggregate(m=Avg("score"))["m"], 2)
        for code in PILLAR_CODES
    }
    assert list(means.values()) == [2.83, 2.61, 2.49, 2.64, 2.02, 2.38, 2.23]
    overall = {
        year: round(rows.filter(assessment__cycle__year=year, pillar=None).aggregate(m=Avg("score"))["m"], 2)
        for year in (2024, 2025)
    }
    assert overall == {2025: 2.52, 2024: 2.37}


def test_known_trusts_scores_are_the_workbooks_rounded(dma):
    assessment, scores = scores_of("RNZ", "acute")  # Salisbury, row 12
    assert assessment.published_name == "SALISBURY NHS FOUNDATION TRUST"
    assert [scores[code] for code in PILLAR_CODES] == [2.8, 2.4, 2.0, 2.0, 1.9, 2.0, 1.4]
    assert scores["overall"] == 2.095  # 2.0952380952380953
    assert scores_of("RNZ", "acute", 2024)[1] == {"overall": 2.155}  # 2.1547619047619047
    # Stored in the workbook as 2.2999999999999998 and 2.2000000000000002.
    _, ambulance = scores_of("RYA", "ambulance")
    assert ambulance["safe_practice"] == 2.3
    assert ambulance["overall"] == 2.111
    _, airedale = scores_of("RCF", "community")
    assert [airedale[code] for code in PILLAR_CODES] == [2.0, 2.4, 1.5, 2.5, 2.0, 2.0, 2.2]
    assert scores_of("RCF", "community", 2024)[1] == {"overall": 1.810}


def test_an_icb_has_its_own_assessment_with_its_scores(dma):
    assessment = Assessment.objects.get(cycle__year=2025, ics__code="QOX", trust=None)
    assert assessment.care_setting is None
    assert assessment.region.code == "Y58"
    scores = {s.pillar.code if s.pillar else "overall": s.score for s in assessment.published_scores.all()}
    assert [scores[code] for code in PILLAR_CODES] == [2.0, 4.0, 3.3, 1.5, 2.0, 2.8, 2.6]
    assert scores["overall"] == 2.792
    earlier = Assessment.objects.get(cycle__year=2024, ics__code="QOX", trust=None)
    assert [s.score for s in earlier.published_scores.all()] == [2.667]


def test_rx7_keeps_the_icb_it_was_published_under(dma):
    trust = Trust.objects.get(code="RX7")
    assert trust.ics.code == "QE1"  # its host ICS
    for year in (2024, 2025):
        assessment = Assessment.objects.get(cycle__year=year, trust=trust)
        assert (assessment.care_setting_id, assessment.ics.code, assessment.region.code) == ("ambulance", "QOP", "Y62")
    assert any(note.startswith("RX7 ") and "published under QOP" in note for note in dma.notes)
    # The only provider published under an ICB other than its host.
    moved = Assessment.objects.filter(cycle__year=2025, trust__isnull=False).exclude(ics=F("trust__ics"))
    assert list(moved.values_list("trust__code", flat=True)) == ["RX7"]


def test_renamed_and_merged_trusts_match_through_the_alias_table(dma):
    assert dma.counts["matched_by_alias"] == 9
    hiow = Assessment.objects.filter(cycle__year=2025, trust__code="RW1")
    assert set(hiow.values_list("care_setting", flat=True)) == {"community", "mental-health"}
    assert set(hiow.values_list("published_name", flat=True)) == {
        "HAMPSHIRE AND ISLE OF WIGHT HEALTHCARE NHS FOUNDATION TRUST"
    }
    assert Assessment.objects.get(cycle__year=2025, trust__code="RHU").published_name == (
        "PORTSMOUTH HOSPITALS UNIVERSITY NATIONAL HEALTH SERVICE TRUST"
    )
    low = [line for line in dma.matched if "low confidence" in line]
    assert low == [
        "NORTH LONDON NHS FOUNDATION TRUST -> TAF Camden and Islington NHS Foundation Trust (successor, low confidence)"
    ]
    assert "Loaded trusts with no published 2025 return: R1C, RAP, RRP, RVN, RY9, RYK" in dma.notes


def test_the_alias_table_covers_exactly_the_names_that_need_it(organisations):
    """Every alias row is for a published name that normalisation alone does not match, and every such name
    has a row: the table carries no dead weight and misses nothing."""
    trust_names = {normalise_name(name) for name in Trust.objects.values_list("name", flat=True)}
    workbook = openpyxl.load_workbook(FIXTURES / DMA_FILE, read_only=True)
    published = {row[3] for row in workbook[PILLARS_SHEET].iter_rows(min_row=12, values_only=True) if row[3]}
    workbook.close()
    needing = {normalise_name(name) for name in published} - trust_names
    aliases = read_aliases(FIXTURES / ALIASES_FILE)
    assert set(aliases) == needing
    assert all(alias.note and alias.kind in ("alias", "successor") for alias in aliases.values())


def test_name_normalisation():
    assert normalise_name(" Guy’s &  St Thomas' NHS Foundation Trust ") == "GUYS AND ST THOMAS NHS FOUNDATION TRUST"
    assert normalise_name("Portsmouth Hospitals National Health Service Trust") == "PORTSMOUTH HOSPITALS NHS TRUST"


def test_importing_again_replaces_the_rows_exactly(dma):
    before = published_state()
    again = run_dma()
    assert again.counts == dma.counts
    assert "Cycle 2025: 0 assessments created, 0 updated, 327 unchanged, 0 removed" in again.notes
    assert published_state() == before


def test_a_published_assessment_no_longer_in_the_file_is_removed(dma, fixtures_copy):
    path = fixtures_copy / DMA_FILE
    edit_workbook(path, lambda wb: blank_provider_rows(wb, "AIREDALE NHS FOUNDATION TRUST", "Community"))
    summary = run_dma(fixtures_copy)
    assert summary.counts["provider_rows"] == 284
    assert "Cycle 2025: 0 assessments created, 0 updated, 326 unchanged, 1 removed" in summary.notes
    assert not Assessment.objects.filter(trust__code="RCF", care_setting="community").exists()


def test_one_audit_event_and_a_refresh_mark_per_cycle(dma):
    event = AuditEvent.objects.get()
    assert (event.action, event.actor, event.cycle.year) == ("import_dma", None, 2025)
    assert event.after["file"] == WORKBOOK
    assert event.after["counts"]["provider_rows"] == 285
    assert event.after["cycles"]["2025"]["created"] == 327
    marks = RefreshMark.objects.all()
    assert sorted((m.reason, m.cycle.year, m.assessment) for m in marks) == [
        ("import", 2024, None),
        ("import", 2025, None),
    ]


def test_the_import_takes_a_bounded_number_of_queries(organisations, django_assert_max_num_queries):
    with django_assert_max_num_queries(60):
        run_dma()


def test_a_cycle_collected_here_is_never_overwritten(organisations):
    Cycle.objects.create(
        year=2025,
        kind=CycleKind.COLLECTED,
        trust_framework=_framework(),
        ics_framework=_framework("wgll-ics"),
    )
    with pytest.raises(PublishedImportError, match="cycle 2025 exists and is collected here"):
        run_dma()
    assert not Assessment.objects.exists()


def _framework(code="wgll-trust"):
    from maturity.models import Framework

    return Framework.objects.create(code=code, version="1", kind="trust", name=code, source_file="x", checksum="x")


def test_without_organisations_the_import_says_to_load_them():
    with pytest.raises(PublishedImportError, match="run manage.py load_organisations first"):
        run_dma()


# DMA: broken copies. Each names the sheet, row and column, and writes nothing.


def edit_workbook(path: Path, change) -> None:
    workbook = openpyxl.load_workbook(path)
    change(workbook)
    workbook.save(path)


def row_of(sheet, provider, setting=None) -> int:
    for row in sheet.iter_rows(min_row=12):
        if row[3].value == provider and (setting is None or row[4].value == setting):
            return row[0].row
    raise AssertionError(f"{provider} not in {sheet.title}")


def blank_provider_rows(workbook, provider, setting):
    for name in (PILLARS_SHEET, OVERALL_SHEET):
        sheet = workbook[name]
        for cell in sheet[row_of(sheet, provider, setting)]:
            cell.value = None


def rename_everywhere(workbook, old, new):
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.value == old:
                    cell.value = new


def missing_sheet(wb):
    del wb[ICB_PILLARS_SHEET]
    return f"{WORKBOOK}: no sheet '{ICB_PILLARS_SHEET}'"


def header_renamed(wb):
    wb[PILLARS_SHEET]["E11"] = "Setting"
    return f"{WORKBOOK}, sheet '{PILLARS_SHEET}', row 11: missing column 'Care Setting'"


def score_above_five(wb):
    wb[PILLARS_SHEET]["F20"] = 6
    return f"{WORKBOOK}, sheet '{PILLARS_SHEET}', row 20, column 'Well Led': score 6 is outside 1 to 5"


def score_below_one(wb):
    wb[OVERALL_SHEET]["G30"] = 0.5
    return f"{WORKBOOK}, sheet '{OVERALL_SHEET}', row 30, column '2024 Average': score 0.5 is outside 1 to 5"


def score_as_text(wb):
    wb[PILLARS_SHEET]["H40"] = "n/a"
    return f"{WORKBOOK}, sheet '{PILLARS_SHEET}', row 40, column 'Safe Practice': score 'n/a' is not a number"


def score_empty(wb):
    wb[ICB_PILLARS_SHEET]["D15"] = None
    return f"{WORKBOOK}, sheet '{ICB_PILLARS_SHEET}', row 15, column 'Well Led': empty score"


def unknown_care_setting(wb):
    wb[PILLARS_SHEET]["E25"] = "Primary Care"
    return (
        f"{WORKBOOK}, sheet '{PILLARS_SHEET}', row 25, column 'Care Setting': care setting 'Primary Care' is not one of"
    )


def provider_missing_from_the_overall_sheet(wb):
    sheet = wb[OVERALL_SHEET]
    for cell in sheet[row_of(sheet, "LEEDS TEACHING HOSPITALS NHS TRUST")]:
        cell.value = None
    row = row_of(wb[PILLARS_SHEET], "LEEDS TEACHING HOSPITALS NHS TRUST")
    return f"{WORKBOOK}, sheet '{PILLARS_SHEET}', row {row}: no row for this organisation and care setting in sheet"


def duplicate_row(wb):
    sheet = wb[PILLARS_SHEET]
    for column in "BCDE":
        sheet[f"{column}14"] = sheet[f"{column}13"].value
    return f"{WORKBOOK}, sheet '{PILLARS_SHEET}', row 14: duplicate organisation and care setting"


def unmatched_provider(wb):
    rename_everywhere(wb, "SALISBURY NHS FOUNDATION TRUST", "SALISBURY AND WILTON NHS FOUNDATION TRUST")
    return (
        f"{WORKBOOK}: 1 names match no loaded trust or ICB (add them to provider_aliases.csv): "
        f"SALISBURY AND WILTON NHS FOUNDATION TRUST (provider, sheet '{PILLARS_SHEET}' row 12)"
    )


def unmatched_icb(wb):
    rename_everywhere(wb, "NHS DORSET INTEGRATED CARE BOARD", "NHS DORSET AND WEYMOUTH INTEGRATED CARE BOARD")
    return f"{WORKBOOK}: 1 names match no loaded trust or ICB"


BROKEN_WORKBOOKS = [
    missing_sheet,
    header_renamed,
    score_above_five,
    score_below_one,
    score_as_text,
    score_empty,
    unknown_care_setting,
    provider_missing_from_the_overall_sheet,
    duplicate_row,
    unmatched_provider,
    unmatched_icb,
]


@pytest.mark.parametrize("break_workbook", BROKEN_WORKBOOKS, ids=lambda f: f.__name__)
def test_a_broken_workbook_is_named_with_sheet_and_row_and_nothing_is_written(
    organisations, fixtures_copy, break_workbook
):
    workbook = openpyxl.load_workbook(fixtures_copy / DMA_FILE)
    expected = break_workbook(workbook)
    workbook.save(fixtures_copy / DMA_FILE)
    with pytest.raises(PublishedImportError) as error:
        run_dma(fixtures_copy)
    assert str(error.value).startswith(expected)
    assert nothing_written()


def test_a_broken_workbook_changes_nothing_already_imported(dma, fixtures_copy):
    before = published_state()
    edit_workbook(fixtures_copy / DMA_FILE, score_as_text)
    with pytest.raises(PublishedImportError):
        run_dma(fixtures_copy)
    assert published_state() == before
    assert AuditEvent.objects.count() == 1


def test_a_file_that_is_not_a_workbook_or_is_missing(organisations, fixtures_copy):
    (fixtures_copy / DMA_FILE).write_text("Region,ICS\n")
    with pytest.raises(PublishedImportError, match=f"^{WORKBOOK}: not an Excel workbook"):
        run_dma(fixtures_copy)
    (fixtures_copy / DMA_FILE).unlink()
    with pytest.raises(PublishedImportError, match=f"^{WORKBOOK}: file not found"):
        run_dma(fixtures_copy)


def alias_bad_kind(path):
    replace_in(path, ",RWW,alias,", ",RWW,renamed,")
    return "provider_aliases.csv line 2, column 'kind': kind 'renamed' is not one of alias, successor"


def alias_without_note(path):
    lines = path.read_text().splitlines()
    lines[2] = "WIRRAL COMMUNITY HEALTH AND CARE NHS FOUNDATION TRUST,RY7,alias,high,"
    path.write_text("\n".join(lines) + "\n")
    return "provider_aliases.csv line 3, column 'note': empty note"


def alias_of_an_unknown_code(path):
    replace_in(path, ",RWW,alias,", ",RQF,alias,")
    return "provider_aliases.csv line 2, column 'ods_code': 'RQF' is not a loaded trust or ICB"


def alias_duplicate_name(path):
    with path.open("a") as f:
        f.write("Wirral Community Health & Care NHS Foundation Trust,RY7,alias,high,again\n")
    return "provider_aliases.csv line 11: duplicate published name"


def replace_in(path, old, new):
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def alias_mapping_two_names_to_one_trust(path):
    replace_in(path, ",RWW,alias,", ",RWD,alias,")  # Warrington's name onto United Lincolnshire, both Acute
    return "provider_aliases.csv: 'UNITED LINCOLNSHIRE TEACHING HOSPITALS NHS TRUST' (sheet"


@pytest.mark.parametrize(
    "break_aliases",
    [
        alias_bad_kind,
        alias_without_note,
        alias_of_an_unknown_code,
        alias_duplicate_name,
        alias_mapping_two_names_to_one_trust,
    ],
    ids=lambda f: f.__name__,
)
def test_a_broken_alias_table_is_named_with_its_line(organisations, fixtures_copy, break_aliases):
    expected = break_aliases(fixtures_copy / ALIASES_FILE)
    with pytest.raises(PublishedImportError) as error:
        run_dma(fixtures_copy)
    assert str(error.value).startswith(expected)
    assert nothing_written()


def test_without_strict_unmatched_names_are_reported_and_the_rest_imported(organisations, fixtures_copy):
    edit_workbook(fixtures_copy / DMA_FILE, unmatched_provider)
    summary = run_dma(fixtures_copy, strict=False)
    assert summary.unmatched == [
        f"SALISBURY AND WILTON NHS FOUNDATION TRUST (provider, sheet '{PILLARS_SHEET}' row 12)"
    ]
    assert "  Unmatched (1):" in summary.lines()
    assert Assessment.objects.filter(cycle__year=2025, trust__isnull=False).count() == 284
    assert not Assessment.objects.filter(trust__code="RNZ").exists()


# The trust page's read helper.


def test_published_results_for_a_trust_in_one_query(dma, django_assert_num_queries):
    trust = Trust.objects.get(code="RCF")
    with django_assert_num_queries(1):
        results = published_results_for_trust(trust)
    assert (results["pillar_year"], results["years"]) == (2025, [2024, 2025])
    acute, community = results["settings"]
    assert (acute["slug"], community["slug"]) == ("acute", "community")
    assert community["published_name"] == "AIREDALE NHS FOUNDATION TRUST"
    assert (community["ics_code"], community["ics_name"]) == ("QWO", "NHS West Yorkshire Integrated Care Board")
    assert [p["code"] for p in community["pillars"]] == PILLAR_CODES
    assert [p["score"] for p in community["pillars"]] == [2.0, 2.4, 1.5, 2.5, 2.0, 2.0, 2.2]
    assert community["overall"] == [{"year": 2024, "score": 1.81}, {"year": 2025, "score": 2.214}]
    assert community["change"] == 0.404


def test_published_results_for_a_trust_without_any(dma):
    results = published_results_for_trust(Trust.objects.get(code="R1C"))  # merged into RW1 before DMA 2025
    assert results == {"pillar_year": None, "years": [], "settings": []}


# DSPT.


def test_dspt_status_of_every_trust_and_icb(organisations):
    summary = run_dspt()
    assert summary.counts == {
        "trust_rows": 211,
        "trusts_matched": 210,
        "icb_rows": 42,
        "icbs_matched": 42,
        "skipped": 1,
        "values_written": 252,
        "values_replaced": 0,
    }
    values = IndicatorValue.objects.filter(indicator_code="dspt_status")
    assert values.filter(trust__isnull=False).count() == 210
    assert values.filter(ics__isnull=False).count() == 42
    assert set(values.values_list("edition", flat=True)) == {"22/23"}
    assert not values.filter(text__startswith="22/23").exists()
    counts = {text: values.filter(trust__isnull=False, text=text).count() for text in ["Standards Exceeded"]}
    assert counts == {"Standards Exceeded": 15}
    r0a = values.get(trust__code="R0A")
    assert (r0a.text, r0a.as_of, r0a.source, r0a.source_note) == (
        "Standards Met",
        date(2023, 6, 30),
        Source.PUBLISHED,
        "dspt_trusts_2023-11-16.csv",
    )
    assert values.get(ics__code="QRV").text == "Standards Exceeded"


def test_dspt_a_closed_trust_is_skipped_with_the_reason(organisations):
    summary = run_dspt()
    assert summary.skipped == [
        "dspt_trusts_2023-11-16.csv line 13: RA4 YEOVIL DISTRICT HOSPITAL NHS FOUNDATION TRUST: closed: succeeded "
        "by RH5 (which has its own row); a DSPT status is the organisation's own return, so it is not carried over"
    ]
    assert IndicatorValue.objects.get(indicator_code="dspt_status", trust__code="RH5").text == "Standards Exceeded"


def test_dspt_not_published_takes_the_files_edition_and_a_blank_date_the_snapshots(organisations, fixtures_copy):
    path = fixtures_copy / DSPT_TRUSTS_FILE
    replace_in(path, "22/23 Standards Met,30/06/2023", "Not Published,")
    add_line(path, "211,RYT,W00,,,,PUBLIC HEALTH WALES NHS TRUST,22/23 Standards Met,30/06/2023,NHS Trust,")
    summary = run_dspt(fixtures_copy)
    value = IndicatorValue.objects.get(indicator_code="dspt_status", trust__code="R0A")
    assert (value.text, value.edition, value.as_of, value.is_unknown) == (
        "Not Published",
        "22/23",
        date(2023, 11, 16),
        False,
    )
    assert "RYT PUBLIC HEALTH WALES NHS TRUST: not a loaded trust" in summary.skipped[-1]


def add_line(path, line):
    """Append a row; the legacy file has no newline after its last row."""
    text = path.read_text(encoding="utf-8")
    path.write_text(text + ("" if text.endswith("\n") else "\n") + line + "\n", encoding="utf-8")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("22/23 Standards Met", ("Standards Met", "22/23", False)),
        ("22/23 Approaching Standards", ("Approaching Standards", "22/23", False)),
        ("21/22 Standards Not Met", ("Standards Not Met", "21/22", False)),
        ("22/23  standards exceeded ", ("Standards Exceeded", "22/23", False)),
        ("Not Published", ("Not Published", None, False)),
        ("#N/A", ("", None, True)),
    ],
)
def test_dspt_status_parsing(value, expected):
    status = parse_dspt_status(value, None, "Status")
    assert (status.text, status.edition, status.is_unknown) == expected


def dspt_unknown_status(d):
    replace_in(d / DSPT_TRUSTS_FILE, "22/23 Standards Exceeded,15/06/2023", "22/23 Excellent,15/06/2023")
    return "dspt_trusts_2023-11-16.csv line 3, column 'Status': status '22/23 Excellent' is not one of"


def dspt_bad_date(d):
    replace_in(d / DSPT_ICBS_FILE, "26/06/2023", "2023-06-26")
    return "dspt_icbs_2023-11-16.csv line 2, column 'Date Of Publication': date '2023-06-26' is not dd/mm/yyyy"


def dspt_missing_column(d):
    replace_in(d / DSPT_TRUSTS_FILE, "Date Of Publication", "Published")
    return "dspt_trusts_2023-11-16.csv line 1: missing column 'Date Of Publication'"


def dspt_duplicate_code(d):
    replace_in(d / DSPT_TRUSTS_FILE, "1,R0B,", "1,R0A,")
    return "dspt_trusts_2023-11-16.csv line 3: duplicate code 'R0A' (first on line 2)"


@pytest.mark.parametrize(
    "break_copy",
    [dspt_unknown_status, dspt_bad_date, dspt_missing_column, dspt_duplicate_code],
    ids=lambda f: f.__name__,
)
def test_dspt_broken_files_are_named_with_line_and_column(organisations, fixtures_copy, break_copy):
    expected = break_copy(fixtures_copy)
    with pytest.raises(PublishedImportError) as error:
        run_dspt(fixtures_copy)
    assert str(error.value).startswith(expected)
    assert nothing_written()


def test_dspt_importing_again_replaces_the_values(organisations):
    run_dspt()
    before = published_state()
    again = run_dspt()
    assert (again.counts["values_written"], again.counts["values_replaced"]) == (252, 252)
    assert published_state() == before


def test_dspt_one_audit_event_and_one_refresh_of_everything(organisations):
    run_dspt()
    event = AuditEvent.objects.get()
    assert (event.action, event.cycle) == ("import_dspt", None)
    assert event.after["trusts"]["file"] == "dspt_trusts_2023-11-16.csv"
    mark = RefreshMark.objects.get()
    assert (mark.reason, mark.cycle, mark.assessment) == ("import", None, None)


# Legacy IT devices.


def legacy_rows():
    with (FIXTURES / LEGACY_FILE).open(encoding="utf-8-sig", newline="") as f:
        return {row["ODS Code"]: row for row in csv.DictReader(f)}


def device_values(code):
    values = IndicatorValue.objects.filter(trust__code=code, edition="2022-09-09 snapshot")
    return {v.indicator_code: v.number for v in values}


def test_legacy_devices_every_row_is_handled(organisations):
    summary = run_legacy()
    assert summary.counts["rows"] == 215
    assert (summary.counts["trusts"], summary.counts["rows_of_predecessors"]) == (210, 5)
    assert summary.unmatched == []
    values = IndicatorValue.objects.filter(source=Source.PUBLISHED)
    for code in ["unsupported_devices_pct", "windows10_devices", "unsupported_windows10_devices", "windows7_devices"]:
        assert values.filter(indicator_code=code, edition="2022-09-09 snapshot", as_of=date(2022, 9, 9)).count() == 210
    dspt = values.filter(indicator_code="dspt_status")
    assert dspt.count() == 210
    assert set(dspt.values_list("edition", flat=True)) == {"21/22"}
    assert dspt.filter(text="Standards Not Met").count() == 5
    assert not dspt.filter(text__startswith="21/22").exists()


def test_legacy_devices_a_single_row_keeps_its_published_figures(organisations):
    run_legacy()
    row = legacy_rows()["RJ1"]
    assert device_values("RJ1") == {
        "windows10_devices": 21799,
        "unsupported_windows10_devices": 15992,
        "windows7_devices": 79,
        "unsupported_devices_pct": float(row["% of Win10 currently unsupported"]),
    }


def test_legacy_devices_predecessor_rows_are_added_to_their_successor(organisations):
    summary = run_legacy()
    rows = legacy_rows()
    own, predecessor = rows["RH8"], rows["RBZ"]
    windows10 = int(own["Windows 10 Active Last 30 days"]) + int(predecessor["Windows 10 Active Last 30 days"])
    unsupported = int(own["Total current unsupported Win10 devices"]) + int(
        predecessor["Total current unsupported Win10 devices"]
    )
    assert (windows10, unsupported) == (12581, 545)
    values = device_values("RH8")
    assert values["windows10_devices"] == windows10
    assert values["unsupported_windows10_devices"] == unsupported
    assert values["unsupported_devices_pct"] == pytest.approx(100 * unsupported / windows10)
    assert values["windows7_devices"] == 8
    assert summary.counts["trusts_combined"] == 5
    assert {line.split(" = ")[1].split(":")[0] for line in summary.combined} == {
        "RBN + RVY",
        "RH5 + RA4",
        "RH8 + RBZ",
        "RM3 + RW6",
        "RW4 + RTV",
    }
    assert IndicatorValue.objects.get(trust__code="RH8", indicator_code="unsupported_devices_pct").source_note == (
        "windows_devices_and_dspt_2022-09-09.csv (RH8 + RBZ combined)"
    )


def test_legacy_devices_the_dspt_status_is_the_trusts_own(organisations):
    summary = run_legacy()
    status = IndicatorValue.objects.get(trust__code="RH8", indicator_code="dspt_status")
    assert legacy_rows()["RH8"]["Status"] == "21/22 Standards Not Met"
    assert (status.text, status.edition, status.is_unknown) == ("Standards Not Met", "21/22", False)
    # The three #N/A statuses of the file are all predecessors': named, not silently dropped.
    assert "DSPT 21/22 status of RBZ (#N/A) not used: RH8's own row sets it" in summary.notes
    assert sum("(#N/A) not used" in note for note in summary.notes) == 3


def test_legacy_devices_na_is_kept_as_unknown(organisations, fixtures_copy):
    replace_in(fixtures_copy / LEGACY_FILE, "-0.119090826,21/22 Approaching Standards", "-0.119090826,#N/A")
    summary = run_legacy(fixtures_copy)
    status = IndicatorValue.objects.get(trust__code="RJ1", indicator_code="dspt_status")
    assert (status.is_unknown, status.text, status.edition, status.display_value) == (True, "", "21/22", "Unknown")
    assert summary.counts["dspt_unknown"] == 1


def test_legacy_devices_an_unknown_code_is_reported(organisations, fixtures_copy):
    add_line(fixtures_copy / LEGACY_FILE, "215,RQF,Velindre NHS Trust,100,10,10,100,0,0,300,,,,,21/22 Standards Met")
    summary = run_legacy(fixtures_copy)
    assert summary.unmatched == ["line 217: RQF Velindre NHS Trust: not a loaded trust or a known predecessor"]
    assert summary.counts["trusts"] == 210


def legacy_count_not_a_number(d):
    replace_in(
        d / LEGACY_FILE, "0,RJ1,Guy's and St Thomas' NHS Foundation Trust (Merged with RT3),21799", "0,RJ1,GSTT,21799x"
    )
    return "windows_devices_and_dspt_2022-09-09.csv line 2, column 'Windows 10 Active Last 30 days': '21799x' is not"


def legacy_percent_not_matching(d):
    replace_in(d / LEGACY_FILE, "73.36116336", "37.36116336")
    return "windows_devices_and_dspt_2022-09-09.csv line 2, column '% of Win10 currently unsupported': 37.36116336 %"


def legacy_percent_out_of_range(d):
    replace_in(d / LEGACY_FILE, "73.36116336", "173.36116336")
    return "windows_devices_and_dspt_2022-09-09.csv line 2, column '% of Win10 currently unsupported': 173.36116336 is"


def legacy_successor_not_loaded(d):
    replace_in(d / PREDECESSORS_FILE, "Yeovil District Hospital NHS Foundation Trust,RH5", "Yeovil,RQF")
    return "predecessors.csv line 2, column 'ods_code': successor 'RQF' is not a loaded trust"


@pytest.mark.parametrize(
    "break_copy",
    [legacy_count_not_a_number, legacy_percent_not_matching, legacy_percent_out_of_range, legacy_successor_not_loaded],
    ids=lambda f: f.__name__,
)
def test_legacy_devices_broken_files_are_named_with_line_and_column(organisations, fixtures_copy, break_copy):
    expected = break_copy(fixtures_copy)
    with pytest.raises(PublishedImportError) as error:
        run_legacy(fixtures_copy)
    assert str(error.value).startswith(expected)
    assert nothing_written()


def test_legacy_devices_importing_again_replaces_the_values(organisations):
    first = run_legacy()
    before = published_state()
    again = run_legacy()
    assert again.counts["values_written"] == first.counts["values_written"] == 1050
    assert again.counts["values_replaced"] == 1050
    assert published_state() == before
    assert AuditEvent.objects.filter(action="import_legacy_devices").count() == 2
    assert RefreshMark.objects.filter(cycle=None, reason="import").count() == 2


def test_the_snapshots_do_not_disturb_each_other(organisations):
    """DSPT 22/23 and the legacy file's DSPT 21/22 are values of one indicator in two editions."""
    run_dspt()
    run_legacy()
    run_dspt()
    editions = IndicatorValue.objects.filter(indicator_code="dspt_status", trust__code="R0A")
    assert sorted(editions.values_list("edition", flat=True)) == ["21/22", "22/23"]


# The command.


def test_the_command_runs_all_three_and_prints_the_summaries(organisations):
    out = io.StringIO()
    call_command("import_published", stdout=out)
    output = out.getvalue()
    assert "DMA published results (dma_2024_2025_results_v2.xlsx)" in output
    assert "  provider rows: 285" in output
    assert "DSPT status (" in output and "Legacy IT devices (" in output
    assert output.count("Unmatched: none") == 3
    assert AuditEvent.objects.count() == 3


def test_the_command_runs_one_import(organisations):
    call_command("import_published", only=["dspt"], stdout=io.StringIO())
    assert not Assessment.objects.exists()
    assert IndicatorValue.objects.count() == 252


def test_the_command_fails_with_the_file_sheet_and_row(organisations, fixtures_copy):
    edit_workbook(fixtures_copy / DMA_FILE, score_above_five)
    with pytest.raises(CommandError, match="dma import failed, nothing of it written: .*row 20") as error:
        call_command("import_published", directory=fixtures_copy, stdout=io.StringIO())
    assert error.value.returncode == 1
    assert nothing_written()


def test_the_command_is_strict_unless_told_otherwise(organisations, fixtures_copy):
    edit_workbook(fixtures_copy / DMA_FILE, unmatched_provider)
    with pytest.raises(CommandError, match="SALISBURY AND WILTON"):
        call_command("import_published", directory=fixtures_copy, only=["dma"], stdout=io.StringIO())
    out = io.StringIO()
    call_command("import_published", directory=fixtures_copy, only=["dma"], strict=False, stdout=out)
    assert "  Unmatched (1):" in out.getvalue()
