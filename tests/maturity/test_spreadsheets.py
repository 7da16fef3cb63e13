"""The spreadsheet route: a pre-filled template to download, and an upload that saves all of a clean file or nothing,
naming the row and column of every problem in a bad one."""

import csv
import io
import re
import struct
import time
import zipfile
from types import SimpleNamespace

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils.html import escape

from maturity import actions
from maturity.models import Assessment, AuditEvent, DomainAnswer, IndicatorValue
from maturity.spreadsheets import (
    COLUMNS,
    MARKUP_LIMIT,
    ROW_LIMIT,
    build_csv,
    build_xlsx,
    parse_upload,
    template_rows,
)
from tests.factories import AssessmentFactory, CycleFactory, ICSFactory, TrustFactory, analyst, lead_of, reviewer_of
from trusts.models import CareSetting

BASE = "/trusts/R0A/assessments/2026"
ANSWERS = {
    "WL01": {"level": "3", "evidence_note": "Board paper May", "evidence_link": "https://example.nhs.uk/paper"},
    "SF01": {"level": "2", "evidence_note": "", "evidence_link": ""},
    "SF02": {"level": "4", "evidence_note": "", "evidence_link": ""},
}
# Rows of the acute template, as Excel numbers them (the header is row 1).
ROW = {"WL01": 2, "SF01": 3, "SF02": 4, "unsupported_devices_pct": 5, "epr_supplier": 6}


@pytest.fixture
def world(db):
    return make_world()


def make_world():
    """Two draft assessments of one trust (acute and community) and the people around them."""
    CareSetting.objects.ensure_all()
    ics = ICSFactory(code="QOP")
    trust = TrustFactory(code="R0A", ics=ics, care_settings=[CareSetting.ACUTE, CareSetting.COMMUNITY])
    cycle = CycleFactory()
    lead = lead_of(trust)
    return SimpleNamespace(
        ics=ics,
        trust=trust,
        cycle=cycle,
        lead=lead,
        reviewer=reviewer_of(ics),
        analyst=analyst(),
        assessment=AssessmentFactory(cycle=cycle, trust=trust),
        community=AssessmentFactory(cycle=cycle, trust=trust, care_setting_id=CareSetting.COMMUNITY),
    )


def filled(world, assessment=None):
    """The assessment with every answer given, through the real action."""
    assessment = assessment or world.assessment
    applicable = {domain.code for domain in assessment.applicable_domains()}
    answers = {code: answer for code, answer in ANSWERS.items() if code in applicable}
    actions.save_answers(
        by=world.lead,
        assessment=assessment,
        expected_version=assessment.version,
        answers=answers,
        indicators={"unsupported_devices_pct": "4.5", "epr_supplier": "Epic"},
    )
    assessment.refresh_from_db()
    return assessment


def csv_rows(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def csv_bytes(rows: list[list]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode("utf-8")


def xlsx_bytes(rows: list[list]) -> bytes:
    workbook = openpyxl.Workbook()
    workbook.active.title = "Assessment"
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload(client, assessment, name, content, version=None):
    file = SimpleUploadedFile(name, content)
    return client.post(
        f"{BASE}/{assessment.care_setting_id}/upload/",
        {"file": file, "version": assessment.version if version is None else version},
    )


def state(assessment):
    """What an upload could change; a rejected upload must leave all of it as it was."""
    assessment.refresh_from_db()
    return (
        DomainAnswer.objects.count(),
        IndicatorValue.objects.count(),
        AuditEvent.objects.count(),
        assessment.version,
        sorted(DomainAnswer.objects.values_list("domain__code", "level", "evidence_note", "evidence_link")),
    )


# --- The template --------------------------------------------------------------------------------------------------


def test_template_rows_hold_every_applicable_domain_and_indicator_with_the_current_answers(world):
    rows = template_rows(filled(world))
    assert [list(row) for row in rows] == [COLUMNS] * 5
    assert COLUMNS == [
        "kind",
        "code",
        "pillar",
        "name",
        "allowed_values",
        "required",
        "value",
        "evidence_note",
        "evidence_link",
    ]
    assert [(row["kind"], row["code"]) for row in rows] == [
        ("domain", "WL01"),
        ("domain", "SF01"),
        ("domain", "SF02"),
        ("indicator", "unsupported_devices_pct"),
        ("indicator", "epr_supplier"),
    ]
    wl01, _, _, devices, supplier = rows
    assert wl01 == {
        "kind": "domain",
        "code": "WL01",
        "pillar": "Well Led",
        "name": "Board leadership",
        "allowed_values": "1-5. 1: Ad hoc | 2: Planned | 3: In place | 4: Embedded | 5: Leading",
        "required": "yes",
        "value": 3,
        "evidence_note": "Board paper May",
        "evidence_link": "https://example.nhs.uk/paper",
    }
    assert (devices["pillar"], devices["allowed_values"], devices["required"], devices["value"]) == (
        "",
        "Number from 0 to 100",
        "yes",
        4.5,
    )
    assert (supplier["allowed_values"], supplier["required"], supplier["value"]) == (
        "Epic | Oracle Health (Cerner) | Other",
        "no",
        "Epic",
    )


def test_template_of_another_care_setting_leaves_out_the_acute_only_domain(world):
    codes = [row["code"] for row in template_rows(world.community)]
    assert codes == ["WL01", "SF01", "unsupported_devices_pct", "epr_supplier"]
    assert all(row["value"] == "" for row in template_rows(world.community))


def test_xlsx_opens_with_both_sheets(world):
    assessment = filled(world)
    workbook = openpyxl.load_workbook(io.BytesIO(build_xlsx(assessment)))
    assert workbook.sheetnames == ["Assessment", "About"]
    sheet = workbook["Assessment"]
    assert [cell.value for cell in sheet[1]] == COLUMNS
    assert all(cell.font.bold for cell in sheet[1])
    assert sheet.freeze_panes == "A2"
    assert [cell.value for cell in sheet[2]][:2] == ["domain", "WL01"]
    assert sheet["G2"].value == 3 and sheet["G2"].data_type == "n"  # numbers stay numbers
    assert sheet["G5"].value == 4.5
    levels = next(v for v in sheet.data_validations.dataValidation if v.formula1 == '"1,2,3,4,5,CLEAR"')
    assert {"G2", "G3", "G4"} <= {str(cell_range) for cell_range in levels.sqref.ranges}
    about = " ".join(str(cell.value) for row in workbook["About"].iter_rows() for cell in row if cell.value)
    for text in (world.trust.name, "Acute", "2026", "Version", str(assessment.version), "Generated", "value column"):
        assert text in about


def test_formulas_are_neutralised_in_both_formats_and_numbers_are_not(world):
    assessment = filled(world)
    actions.save_answers(
        by=world.lead,
        assessment=assessment,
        expected_version=assessment.version,
        answers={"WL01": {"level": "3", "evidence_note": '=HYPERLINK("http://evil.example","x")'}},
    )
    assessment.refresh_from_db()

    content = build_csv(assessment)
    assert content.startswith(b"\xef\xbb\xbf")
    rows = csv_rows(content)
    assert rows[0] == COLUMNS
    assert rows[1][7] == '\'=HYPERLINK("http://evil.example","x")'
    assert rows[1][6] == "3" and rows[4][6] == "4.5"

    sheet = openpyxl.load_workbook(io.BytesIO(build_xlsx(assessment)))["Assessment"]
    assert sheet["H2"].value == '\'=HYPERLINK("http://evil.example","x")'
    assert sheet["H2"].data_type == "s"


# --- Downloads: who and how ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["lead", "reviewer", "analyst"])
@pytest.mark.parametrize("file_format", ["xlsx", "csv"])
def test_anyone_who_may_view_downloads_the_template(client, world, who, file_format):
    client.force_login(getattr(world, who))
    response = client.get(f"{BASE}/acute/template.{file_format}")
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="R0A-acute-2026-assessment.{file_format}"'


def test_an_unknown_format_is_404(client, world):
    client.force_login(world.reviewer)
    assert client.get(f"{BASE}/acute/template.pdf").status_code == 404


def test_someone_else_cannot_download(client, world):
    client.force_login(lead_of(TrustFactory(code="RBV", ics=ICSFactory(code="QVV"))))
    assert client.get(f"{BASE}/acute/template.csv").status_code == 403


def test_the_ics_template_is_named_after_the_ics(client, world):
    Assessment.objects.create(
        cycle=world.cycle, ics=world.ics, region=world.ics.region, framework=world.cycle.ics_framework
    )
    client.force_login(world.reviewer)
    response = client.get("/ics/QOP/assessments/2026/template.csv")
    assert response["Content-Disposition"] == 'attachment; filename="QOP-2026-assessment.csv"'
    codes = [row[1] for row in csv_rows(response.content)[1:]]
    assert codes == ["WL01", "SF01", "unsupported_devices_pct", "epr_supplier"]  # SF02 is for acute settings only


def test_overview_links_to_the_spreadsheet_route(client, world):
    client.force_login(world.lead)
    page = client.get(f"{BASE}/acute/").content.decode()
    assert 'href="template.xlsx"' in page and 'href="template.csv"' in page and 'href="upload/"' in page
    client.force_login(world.reviewer)
    page = client.get(f"{BASE}/acute/").content.decode()
    assert 'href="template.xlsx"' in page and 'href="upload/"' not in page


# --- Round trip ------------------------------------------------------------------------------------------------------


def fill_xlsx(content: bytes, values: dict[str, object]) -> bytes:
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    sheet = workbook["Assessment"]
    for row in sheet.iter_rows(min_row=2):
        if row[1].value in values:
            row[6].value = values[row[1].value]
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def fill_csv(content: bytes, values: dict[str, object]) -> bytes:
    rows = csv_rows(content)
    for row in rows[1:]:
        if row[1] in values:
            row[6] = values[row[1]]
    return b"\xef\xbb\xbf" + csv_bytes(rows)


@pytest.mark.parametrize("file_format", ["xlsx", "csv"])
def test_download_fill_upload_applies_the_answers_and_again_changes_nothing(client, world, file_format):
    assessment = world.assessment
    client.force_login(world.lead)
    template = client.get(f"{BASE}/acute/template.{file_format}").content
    fill = fill_xlsx if file_format == "xlsx" else fill_csv
    content = fill(template, {"WL01": 3, "SF01": 2, "SF02": 5, "unsupported_devices_pct": 7.5, "epr_supplier": "Epic"})
    version = assessment.version

    response = upload(client, assessment, f"mine.{file_format}", content)

    assert response.status_code == 302 and response["Location"] == f"{BASE}/acute/"
    assert dict(DomainAnswer.objects.values_list("domain__code", "level")) == {"WL01": 3, "SF01": 2, "SF02": 5}
    values = {value.indicator_code: value.display_value for value in IndicatorValue.objects.all()}
    assert values == {"unsupported_devices_pct": 7.5, "epr_supplier": "Epic"}
    events = AuditEvent.objects.filter(assessment=assessment)
    assert [event.action for event in events] == ["upload"]
    assessment.refresh_from_db()
    assert assessment.version == version + 1
    page = client.get(response["Location"]).content.decode()
    assert "Spreadsheet uploaded: 5 answers changed" in page

    before = state(assessment)
    response = upload(client, assessment, f"mine.{file_format}", content)
    assert response.status_code == 302
    assert state(assessment) == before
    assert "No changes: the file matches the assessment" in client.get(response["Location"]).content.decode()


@pytest.mark.parametrize("file_format", ["xlsx", "csv"])
def test_a_downloaded_template_uploaded_as_it_is_changes_nothing_even_with_neutralised_text(client, world, file_format):
    assessment = filled(world)
    actions.save_answers(
        by=world.lead,
        assessment=assessment,
        expected_version=assessment.version,
        answers={"WL01": {"level": "3", "evidence_note": "-2 on last year; =see board paper"}},
    )
    before = state(assessment)
    client.force_login(world.lead)
    template = client.get(f"{BASE}/acute/template.{file_format}").content
    response = upload(client, assessment, f"template.{file_format}", template)
    assert response.status_code == 302
    assert state(assessment) == before


def test_rows_left_out_keep_their_answers_and_blank_rows_are_ignored(client, world):
    assessment = filled(world)
    client.force_login(world.lead)
    rows = [COLUMNS, ["domain", "SF01", "", "", "", "", "4", "", ""], [""] * 9, []]
    response = upload(client, assessment, "part.csv", csv_bytes(rows))
    assert response.status_code == 302
    assert dict(DomainAnswer.objects.values_list("domain__code", "level")) == {"WL01": 3, "SF01": 4, "SF02": 4}


def test_excel_percent_cells_and_dates_are_read_as_the_template_means(world):
    assessment = world.assessment
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(COLUMNS)
    sheet.append(["indicator", "unsupported_devices_pct", "", "", "", "", 0.045, "", ""])
    sheet["G2"].number_format = "0.0%"
    buffer = io.BytesIO()
    workbook.save(buffer)
    parsed = parse_upload(assessment, SimpleUploadedFile("x.xlsx", buffer.getvalue()))
    assert parsed.indicators == {"unsupported_devices_pct": "4.5"}


# --- Bad files: each gets its named error, and nothing changes -------------------------------------------------------


def edited(code: str, column: str, value, setting="acute"):
    """The filled template as CSV with one cell changed."""

    def build(world):
        assessment = world.assessment if setting == "acute" else world.community
        rows = csv_rows(build_csv(assessment))
        for row in rows[1:]:
            if row[1] == code:
                row[COLUMNS.index(column)] = value
        return "filled.csv", csv_bytes(rows)

    return build


def with_rows(extra: list[list], setting="acute"):
    def build(world):
        assessment = world.assessment if setting == "acute" else world.community
        return "filled.csv", csv_bytes(csv_rows(build_csv(assessment)) + extra)

    return build


def without_column(name: str):
    def build(world):
        rows = csv_rows(build_csv(world.assessment))
        index = COLUMNS.index(name)
        return "filled.csv", csv_bytes([row[:index] + row[index + 1 :] for row in rows])

    return build


def raw(name: str, content: bytes):
    return lambda world: (name, content)


def xlsx_with_level(level):
    def build(world):
        rows = csv_rows(build_csv(world.assessment))
        rows[1][6] = level
        return "filled.xlsx", xlsx_bytes(rows)

    return build


def latin1_csv(world):
    rows = csv_rows(build_csv(world.assessment))
    rows[1][7] = "Costs £2m"
    return "filled.csv", csv_bytes(rows).decode().encode("cp1252")


BAD_FILES = {
    # case: (how to build the file, the setting, (row, column, part of the message))
    "unknown code": (edited("SF01", "code", "XX99"), "acute", (3, "B (code)", "‘XX99’ is not a domain or indicator")),
    "level 7": (edited("WL01", "value", "7"), "acute", (2, "G (value)", "whole number from 1 to 5, not ‘7’")),
    "level three": (edited("WL01", "value", "three"), "acute", (2, "G (value)", "not ‘three’")),
    "level 2.5": (edited("WL01", "value", "2.5"), "acute", (2, "G (value)", "not ‘2.5’")),
    "level 7 in xlsx": (xlsx_with_level(7), "acute", (2, "G (value)", "whole number from 1 to 5, not ‘7’")),
    "text in a percent": (
        edited("unsupported_devices_pct", "value", "lots"),
        "acute",
        (5, "G (value)", "must be a number, not ‘lots’"),
    ),
    "percent 120": (
        edited("unsupported_devices_pct", "value", "120"),
        "acute",
        (5, "G (value)", "must be between 0 and 100, not 120"),
    ),
    "duplicate row": (
        with_rows([["domain", "WL01", "", "", "", "", "2", "", ""]]),
        "acute",
        (7, "B (code)", "WL01 is on row 2 already"),
    ),
    "wrong kind": (edited("WL01", "kind", "indicator"), "acute", (2, "A (kind)", "WL01 is a domain, not an indicator")),
    "domain not for this care setting": (
        with_rows([["domain", "SF02", "", "", "", "", "3", "", ""]], setting="community"),
        "community",
        (6, "B (code)", "SF02 Acute EPR does not apply to the Community care setting"),
    ),
    "missing column": (without_column("value"), "acute", (1, "value", "The header row has no ‘value’ column")),
    "text file": (raw("answers.txt", b"kind,code\n"), "acute", (None, "", "must be an .xlsx or .csv file")),
    "xlsx that is really text": (
        raw("answers.xlsx", b"kind,code,value\ndomain,WL01,3\n"),
        "acute",
        (None, "", "must be an .xlsx or .csv file"),
    ),
    # Larger requests are refused before they are read (tests/test_request_limits.py); this one is let through
    # and the upload handler stops keeping it at 5 MB.
    "over 5 MB": (
        raw("big.csv", b"x" * int(5.5 * 1024 * 1024)),
        "acute",
        (None, "", "is 5.5 MB: the limit is 5 MB"),
    ),
    "bad evidence link": (
        edited("WL01", "evidence_link", "our intranet"),
        "acute",
        (2, "I (evidence_link)", "must be a web address"),
    ),
    "broken CSV encoding": (latin1_csv, "acute", (None, "", "UTF-8")),
}


@pytest.mark.parametrize("case", BAD_FILES)
def test_a_bad_file_gets_its_named_error_and_changes_nothing(client, world, case):
    build, setting, (row, column, message) = BAD_FILES[case]
    assessment = filled(world, world.assessment if setting == "acute" else world.community)
    name, content = build(world)
    before = state(assessment)
    client.force_login(world.lead)

    response = upload(client, assessment, name, content)

    assert response.status_code == 400
    matching = [p for p in response.context["problems"] if message in p.message]
    assert [(p.row, p.column) for p in matching] == [(row, column)], response.context["problems"]
    page = response.content.decode()
    assert "There is a problem" in page and escape(matching[0].message) in page
    assert state(assessment) == before


def test_every_problem_in_a_file_is_reported_not_just_the_first(client, world):
    assessment = filled(world)
    rows = csv_rows(build_csv(assessment))
    rows[1][6], rows[2][8], rows[4][6] = "9", "not a link", "-3"
    client.force_login(world.lead)
    response = upload(client, assessment, "filled.csv", csv_bytes(rows))
    assert response.status_code == 400
    assert [(p.row, p.column) for p in response.context["problems"]] == [
        (2, "G (value)"),
        (3, "I (evidence_link)"),
        (5, "G (value)"),
    ]


def test_columns_are_found_by_their_header_and_reported_by_their_letter(client, world):
    assessment = filled(world)
    rows = [["code", "value", "kind", "evidence_note", "evidence_link"], ["WL01", "8", "domain", "", ""]]
    client.force_login(world.lead)
    response = upload(client, assessment, "mine.csv", csv_bytes(rows))
    assert [(p.row, p.column) for p in response.context["problems"]] == [(2, "B (value)")]


def test_messages_of_the_action_are_placed_back_in_the_file(world):
    """save_answers validates again; its field keys must still lead the person to a row and column."""
    parsed = parse_upload(filled(world), SimpleUploadedFile("filled.csv", build_csv(world.assessment)))
    problems = parsed.problems_for({"SF01-evidence_link": "bad link", "indicator-epr_supplier": "bad supplier"})
    assert [(p.row, p.column, p.message) for p in problems] == [
        (ROW["SF01"], "I (evidence_link)", "bad link"),
        (ROW["epr_supplier"], "G (value)", "bad supplier"),
    ]


def test_no_file_is_a_problem(client, world):
    client.force_login(world.lead)
    response = client.post(f"{BASE}/acute/upload/", {"version": world.assessment.version})
    assert response.status_code == 400
    assert "Select a filled template to upload" in response.content.decode()


# --- Conflicts and permissions ---------------------------------------------------------------------------------------


def test_a_stale_version_gives_the_conflict(client, world):
    assessment = filled(world)
    stale = assessment.version
    actions.save_answers(by=world.lead, assessment=assessment, expected_version=stale, answers={"SF01": {"level": "5"}})
    before = state(assessment)
    client.force_login(world.lead)
    content = fill_csv(build_csv(assessment), {"WL01": "1"})
    response = upload(client, assessment, "mine.csv", content, version=stale)
    assert response.status_code == 409
    assert "Someone else changed this assessment" in response.content.decode()
    assert state(assessment) == before


def test_the_lead_sees_the_upload_form(client, world):
    client.force_login(world.lead)
    page = client.get(f"{BASE}/acute/upload/").content.decode()
    assert 'enctype="multipart/form-data"' in page
    assert 'type="file" accept=".xlsx,.csv"' in page
    assert f'name="version" value="{world.assessment.version}"' in page


@pytest.mark.parametrize("who", ["reviewer", "analyst"])
def test_a_reviewer_or_analyst_cannot_upload(client, world, who):
    assessment = filled(world)
    before = state(assessment)
    client.force_login(getattr(world, who))
    page = client.get(f"{BASE}/acute/upload/")
    assert page.status_code == 200
    assert 'type="file"' not in page.content.decode() and "you cannot upload changes" in page.content.decode()
    response = upload(client, assessment, "mine.csv", fill_csv(build_csv(assessment), {"WL01": "1"}))
    assert response.status_code == 403
    assert state(assessment) == before


def test_a_submitted_assessment_cannot_be_uploaded_to(client, world):
    assessment = filled(world)
    actions.submit_assessment(
        by=world.lead,
        assessment=assessment,
        expected_version=assessment.version,
        sign_off_name="Jo Bloggs",
        sign_off_role="Chief Executive",
        declared=True,
    )
    before = state(assessment)
    client.force_login(world.lead)
    response = upload(client, assessment, "mine.csv", fill_csv(build_csv(assessment), {"WL01": "1"}))
    assert response.status_code == 403
    assert state(assessment) == before


def bomb(template: bytes, unpacked_mb: int) -> bytes:
    """The template with its sheet padded by a comment that compresses to almost nothing but unpacks to
    `unpacked_mb` MB: a "zip bomb" of the kind that kept a worker busy for minutes."""
    source, buffer = zipfile.ZipFile(io.BytesIO(template)), io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename.startswith("xl/worksheets/"):
                data = data.replace(b"<sheetData", b"<!--" + b" " * (unpacked_mb * 1024 * 1024) + b"--><sheetData", 1)
            archive.writestr(info.filename, data)
    return buffer.getvalue()


def test_a_workbook_that_unpacks_to_50_mb_is_refused_before_it_is_read(client, world, monkeypatch):
    import maturity.spreadsheets

    content = bomb(build_xlsx(world.assessment), 50)
    assert len(content) < 200_000
    monkeypatch.setattr(maturity.spreadsheets, "_ExactStrings", None)  # reading it at all would fail the test
    before = state(world.assessment)
    client.force_login(world.lead)
    response = upload(client, world.assessment, "bomb.xlsx", content)
    assert response.status_code == 400
    assert "unpacks to more than 10 MB" in response.content.decode()
    assert state(world.assessment) == before


def test_a_sheet_far_longer_than_the_template_is_refused_at_its_row_limit(client, world):
    rows = csv_rows(build_csv(world.assessment))
    content = xlsx_bytes(rows + [[""] * len(rows[0])] * ROW_LIMIT)
    before = state(world.assessment)
    client.force_login(world.lead)
    response = upload(client, world.assessment, "long.xlsx", content)
    assert response.status_code == 400
    assert f"has more than {ROW_LIMIT} rows" in response.content.decode()
    assert state(world.assessment) == before


def with_sheet_xml(template: bytes, change) -> bytes:
    """The workbook with its Assessment sheet's XML passed through `change`, deflated as Excel does."""
    source, buffer = zipfile.ZipFile(io.BytesIO(template)), io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            data = source.read(info.filename)
            archive.writestr(info.filename, change(data) if info.filename == "xl/worksheets/sheet1.xml" else data)
    return buffer.getvalue()


def rows_of_cells(count: int, cells_per_row: int = 1) -> bytes:
    return b"".join(
        b'<row r="%d">' % row + b'<c r="A%d"><v>1</v></c>' % row * cells_per_row + b"</row>"
        for row in range(100, 100 + count)
    )


def timed_upload(client, world, name, content, label):
    before = state(world.assessment)
    client.force_login(world.lead)
    started = time.perf_counter()
    response = upload(client, world.assessment, name, content)
    print(f"\n{label}: {len(content) / 1024:.0f} KB on disk, refused in {time.perf_counter() - started:.2f} s")
    assert state(world.assessment) == before
    return response


def test_a_sheet_of_repeated_cells_inflating_to_50_mb_is_refused(client, world):
    cells = b'<c r="A1" t="inlineStr"><is><t>x</t></is></c>' * (50 * 1024 * 1024 // 45)
    content = with_sheet_xml(
        build_xlsx(world.assessment),
        lambda xml: xml.replace(b"</sheetData>", b'<row r="99">' + cells + b"</row></sheetData>"),
    )
    assert len(content) < 500_000

    response = timed_upload(client, world, "bomb.xlsx", content, "XLSX inflating to 50 MB")

    assert response.status_code == 400
    assert "‘bomb.xlsx’ unpacks to more than 10 MB: upload a smaller workbook" in response.content.decode()


def lie_about_size(content: bytes, part: str, size: int) -> bytes:
    """The zip with `part`'s uncompressed size given as `size` in its local header and the central directory."""
    data, name = bytearray(content), part.encode()
    for signature, size_at, name_length_at, name_at in ((b"PK\x03\x04", 22, 26, 30), (b"PK\x01\x02", 24, 28, 46)):
        for match in re.finditer(re.escape(signature), bytes(data)):
            start = match.start()
            (length,) = struct.unpack("<H", data[start + name_length_at : start + name_length_at + 2])
            if bytes(data[start + name_at : start + name_at + length]) == name:
                data[start + size_at : start + size_at + 4] = struct.pack("<I", size)
    return bytes(data)


def test_a_workbook_whose_zip_directory_understates_a_part_is_refused_without_inflating_it(client, world):
    padded = with_sheet_xml(
        build_xlsx(world.assessment),
        lambda xml: xml.replace(b"<sheetData", b"<!--" + b" " * (50 * 1024 * 1024) + b"--><sheetData", 1),
    )
    content = lie_about_size(padded, "xl/worksheets/sheet1.xml", 4096)
    assert sum(info.file_size for info in zipfile.ZipFile(io.BytesIO(content)).infolist()) < 1024 * 1024

    response = timed_upload(client, world, "liar.xlsx", content, "XLSX declaring 4 KB, inflating to 50 MB")

    assert response.status_code == 400
    assert "‘liar.xlsx’ is not a real Excel workbook" in response.content.decode()


def test_a_100000_row_workbook_is_refused_before_its_cells_are_read(client, world, monkeypatch):
    import maturity.spreadsheets

    content = with_sheet_xml(
        build_xlsx(world.assessment), lambda xml: xml.replace(b"</sheetData>", rows_of_cells(100_000) + b"</sheetData>")
    )
    monkeypatch.setattr(maturity.spreadsheets, "_ExactStrings", None)  # reading it at all would fail the test

    response = timed_upload(client, world, "long.xlsx", content, "XLSX of 100,000 rows")

    assert response.status_code == 400
    assert (
        f"‘long.xlsx’ holds far more than a filled template (over {MARKUP_LIMIT:,} XML tags)"
        in response.content.decode()
    )


def test_the_template_is_far_inside_the_markup_limit(world):
    archive = zipfile.ZipFile(io.BytesIO(build_xlsx(filled(world))))
    tags = sum(archive.read(name).count(b"<") for name in archive.namelist())
    print(f"\nthe template holds {tags:,} XML tags")
    assert tags < MARKUP_LIMIT / 5


def test_a_sheet_declaring_a_million_rows_is_refused_before_its_cells_are_read(client, world, monkeypatch):
    import openpyxl.worksheet._read_only

    content = with_sheet_xml(
        build_xlsx(world.assessment),
        lambda xml: re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:I1048576"', xml),
    )
    monkeypatch.setattr(openpyxl.worksheet._read_only.ReadOnlyWorksheet, "_cells_by_row", None)

    response = timed_upload(client, world, "tall.xlsx", content, "XLSX declaring a million rows")

    assert response.status_code == 400
    assert f"‘tall.xlsx’ has more than {ROW_LIMIT} rows" in response.content.decode()


def test_a_sheet_declaring_fewer_rows_than_it_has_is_read_whole(client, world):
    """openpyxl stops at the last row a sheet declares: every answer below it would be silently left out."""
    template = fill_xlsx(build_xlsx(world.assessment), {"WL01": 1, "epr_supplier": "Other"})
    content = with_sheet_xml(template, lambda xml: re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:B1"', xml))
    client.force_login(world.lead)

    response = upload(client, world.assessment, "short.xlsx", content)

    assert response.status_code == 302, response.context["problems"]
    assert DomainAnswer.objects.get(domain__code="WL01").level == 1
    assert IndicatorValue.objects.get(indicator_code="epr_supplier").display_value == "Other"


def test_a_sheet_whose_cells_are_damaged_gets_the_not_a_workbook_message_not_a_server_error(client, world):
    content = with_sheet_xml(build_xlsx(world.assessment), lambda xml: xml.replace(b"</row>", b"</rowx>", 3))
    client.force_login(world.lead)
    response = upload(client, world.assessment, "damaged.xlsx", content)
    assert response.status_code == 400
    assert "‘damaged.xlsx’ is not a real Excel workbook" in response.content.decode()


BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        b'<!ENTITY lol%d "%s">' % (n, b"&lol%d;" % (n - 1) * 10 if n > 1 else b"&lol;" * 10) for n in range(1, 10)
    )
    + b"]>"
)
EXTERNAL_ENTITY = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY secret SYSTEM "file:///etc/passwd">]>'


@pytest.mark.parametrize(
    "declarations, entity",
    [(BILLION_LAUGHS, b"&lol9;"), (EXTERNAL_ENTITY, b"&secret;")],
    ids=["billion laughs", "external entity"],
)
def test_xml_entities_in_a_workbook_are_refused_by_defusedxml(client, world, declarations, entity):
    def declare(xml: bytes) -> bytes:
        body = xml.split(b"?>", 1)[1] if xml.startswith(b"<?xml") else xml
        return declarations + body.replace(b"<t>kind</t>", b"<t>" + entity + b"</t>", 1)

    content = with_sheet_xml(build_xlsx(world.assessment), declare)

    response = timed_upload(client, world, "entities.xlsx", content, "XLSX with XML entities")

    assert response.status_code == 400
    assert (
        "‘entities.xlsx’ holds XML declarations (a DOCTYPE or entities) that Excel never writes"
        in response.content.decode()
    )
