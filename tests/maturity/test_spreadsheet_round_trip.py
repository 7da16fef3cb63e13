"""The forgiving spreadsheet route: a blank cell leaves its answer as it is and is never a problem, CLEAR empties an
answer, an unchanged template changes nothing whatever the draft holds, and text comes back byte for byte."""

import io
import re
import zipfile

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from maturity import actions
from maturity.models import AuditEvent, Domain, DomainAnswer, IndicatorValue
from maturity.spreadsheets import (
    COLUMNS,
    _unguard,
    _xml_escape,
    _xml_unescape,
    build_csv,
    build_xlsx,
    neutralise,
    parse_upload,
)
from tests.maturity.test_spreadsheets import BASE, csv_bytes, csv_rows, filled, make_world, state, upload, xlsx_bytes

NO_CHANGES = "No changes: the file matches the assessment"


@pytest.fixture
def world(db):
    return make_world()


def half_filled(world):
    """A level without evidence, evidence without a level, a domain not started; one indicator of two."""
    assessment = world.assessment
    actions.save_answers(
        by=world.lead,
        assessment=assessment,
        expected_version=assessment.version,
        answers={"WL01": {"level": "3"}, "SF01": {"level": "", "evidence_note": "Waiting for the survey"}},
        indicators={"epr_supplier": "Epic"},
    )
    assessment.refresh_from_db()
    return assessment


DRAFTS = {"empty": lambda world: world.assessment, "half-filled": half_filled, "complete": filled}


def as_saved_by_excel(content: bytes) -> bytes:
    """The workbook as Excel saves it: every text in the shared strings table, not in its cell (openpyxl reads the
    two differently). Excel's escapes (_x000B_, _x005F_) are kept as they are, as Excel writes them."""
    source = zipfile.ZipFile(io.BytesIO(content))
    strings = []

    def share(match):
        strings.append(match.group(3))
        return f'<c {match.group(1)}t="s"{match.group(2)}><v>{len(strings) - 1}</v></c>'

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as target:
        for name in source.namelist():
            data = source.read(name).decode()
            if name.startswith("xl/worksheets/"):
                data = re.sub(r'<c ([^>]*)t="inlineStr"([^>]*)><is>(.*?)</is></c>', share, data, flags=re.S)
            elif name == "[Content_Types].xml":
                data = data.replace(
                    "</Types>",
                    '<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                    'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
                )
            elif name == "xl/_rels/workbook.xml.rels":
                data = data.replace(
                    "</Relationships>",
                    '<Relationship Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
                    'sharedStrings" Target="sharedStrings.xml" Id="rIdStrings"/></Relationships>',
                )
            target.writestr(name, data)
        table = "".join(f"<si>{text}</si>" for text in strings)
        target.writestr(
            "xl/sharedStrings.xml",
            '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            f'count="{len(strings)}" uniqueCount="{len(strings)}">{table}</sst>',
        )
    assert strings, "the template had no inline strings to share"
    return buffer.getvalue()


def template(client, assessment, source: str) -> tuple[str, bytes]:
    """The template as downloaded, as a file name and content; "excel" is the XLSX after Excel saved it."""
    file_format = "csv" if source == "csv" else "xlsx"
    response = client.get(f"{BASE}/{assessment.care_setting_id}/template.{file_format}")
    assert response.status_code == 200
    content = as_saved_by_excel(response.content) if source == "excel" else response.content
    return f"template.{file_format}", content


def answers():
    return sorted(DomainAnswer.objects.values_list("domain__code", "level", "evidence_note", "evidence_link"))


def indicator_values():
    return {value.indicator_code: value.display_value for value in IndicatorValue.objects.all()}


# --- An unchanged template changes nothing ------------------------------------------------------------------------


@pytest.mark.parametrize("source", ["csv", "xlsx", "excel"])
@pytest.mark.parametrize("draft", DRAFTS)
def test_an_unchanged_template_uploads_as_no_changes_whatever_the_draft_holds(client, world, draft, source):
    assessment = DRAFTS[draft](world)
    before = state(assessment)
    client.force_login(world.lead)
    name, content = template(client, assessment, source)

    response = upload(client, assessment, name, content)

    assert response.status_code == 302, response.context and response.context["problems"]
    assert state(assessment) == before
    assert NO_CHANGES in client.get(response["Location"]).content.decode()


# --- Text round-trips byte for byte ---------------------------------------------------------------------------------

NOTES = {
    "apostrophe then formula": "'=SUM is how the total was worked out",
    "apostrophe": "'Tis the season: the board paper of May",
    "apostrophes only": "''",
    "equals": "=SUM(A1:A3) of the budget",
    "plus": "+44 20 7946 0000 for the service desk",
    "minus": "-2 on last year",
    "at": "@board minutes, item 4",
    "tab": "\tIndented by the board secretary",
    "vertical tab": "\x0bBoard paper\x0bpage 2",
    "vertical tab inside": "Board paper\x0bpage 2",
    "carriage return": "\rA line of its own",
    "line breaks of a form": "First line\r\nSecond line",
    "every control character": "Controls:" + "".join(chr(code) for code in range(1, 32)) + "\ufffe\uffff",
    "what looks like an escape": "_x000B_ is how Excel writes a vertical tab; _x005F_ an underscore",
    "the clear marker as text": "Clear",
    "spaces around": "  spaced out  ",
}


def store_note(assessment, note: str):
    """Stored directly: the forms and actions strip a note's outer whitespace, but text from elsewhere (an import,
    an earlier version) may keep it, and must still survive the template unchanged."""
    DomainAnswer.objects.update_or_create(
        assessment=assessment,
        domain=Domain.objects.get(framework=assessment.framework, code="WL01"),
        defaults={"level": 3, "evidence_note": note, "evidence_link": ""},
    )


@pytest.mark.parametrize("source", ["csv", "xlsx", "excel"])
@pytest.mark.parametrize("case", NOTES)
def test_a_note_comes_back_from_the_template_byte_for_byte(client, world, case, source):
    note = NOTES[case]
    store_note(world.assessment, note)
    client.force_login(world.lead)
    name, content = template(client, world.assessment, source)

    # Read into an assessment without the note, the file gives the very text back.
    parsed = parse_upload(world.community, SimpleUploadedFile(name, content))
    assert parsed.answers["WL01"] == {"level": "3", "evidence_note": note, "evidence_link": ""}

    # Uploaded to its own assessment, it changes nothing.
    before = state(world.assessment)
    response = upload(client, world.assessment, name, content)
    assert response.status_code == 302
    assert state(world.assessment) == before
    assert DomainAnswer.objects.get(domain__code="WL01").evidence_note == note


@pytest.mark.parametrize("source", ["csv", "xlsx", "excel"])
def test_an_indicator_value_stored_untidy_survives_an_unchanged_template(client, world, source):
    """The action would tidy " epic " into Epic: the cell the template holds for it asks for no change."""
    IndicatorValue.objects.create(assessment=world.assessment, indicator_code="epr_supplier", text=" epic ")
    before = state(world.assessment)
    client.force_login(world.lead)
    name, content = template(client, world.assessment, source)
    response = upload(client, world.assessment, name, content)
    assert response.status_code == 302
    assert state(world.assessment) == before
    assert IndicatorValue.objects.get().text == " epic "


@pytest.mark.parametrize("text", [*NOTES.values(), "", "'", "CLEAR", " clear ", "'CLEAR", "_x0000_", "_xD800_"])
def test_the_guard_and_the_escape_are_each_undone_exactly(text):
    assert _unguard(neutralise(text)) == text
    assert _xml_unescape(_xml_escape(text)) == text
    assert not re.search(r"[\x00-\x08\x0b\x0c\r\x0e-\x1f]", _xml_escape(text))


def test_an_apostrophe_typed_in_the_file_is_kept_unless_it_guards_a_formula(client, world):
    assessment = world.assessment
    rows = [
        COLUMNS,
        ["domain", "WL01", "", "", "", "", "3", "'Tis the board's view", ""],
        ["domain", "SF01", "", "", "", "", "2", "'=typed with Excel's apostrophe", ""],
    ]
    client.force_login(world.lead)
    assert upload(client, assessment, "mine.csv", csv_bytes(rows)).status_code == 302
    notes = dict(DomainAnswer.objects.values_list("domain__code", "evidence_note"))
    assert notes == {"WL01": "'Tis the board's view", "SF01": "=typed with Excel's apostrophe"}


def test_line_breaks_excel_rewrites_in_a_csv_are_no_change(client, world):
    """Excel saves a CSV's line breaks as line feeds alone; the form saved the note with CR LF."""
    assessment = filled(world)
    actions.save_answers(
        by=world.lead,
        assessment=assessment,
        expected_version=assessment.version,
        answers={"WL01": {"level": "3", "evidence_note": "First line\r\nSecond line"}},
    )
    before = state(assessment)
    rows = csv_rows(build_csv(assessment))
    assert rows[1][7] == "First line\r\nSecond line"
    rows[1][7] = "First line\nSecond line"
    client.force_login(world.lead)
    response = upload(client, assessment, "resaved.csv", csv_bytes(rows))
    assert response.status_code == 302
    assert state(assessment) == before


# --- Blank cells keep, CLEAR empties ---------------------------------------------------------------------------------


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_a_blank_cell_leaves_its_answer_and_a_value_changes_it(client, world, file_format):
    assessment = filled(world)
    rows = [
        COLUMNS,
        ["domain", "WL01", "", "", "", "", "", "New board paper", "   "],
        ["domain", "SF01", "", "", "", "", "5", "", ""],
        ["domain", "SF02", "", "", "", "", "", "", ""],
        ["indicator", "unsupported_devices_pct", "", "", "", "", "", "", ""],
        ["indicator", "epr_supplier", "", "", "", "", "Other", "", ""],
    ]
    content = csv_bytes(rows) if file_format == "csv" else xlsx_bytes(rows)
    client.force_login(world.lead)

    response = upload(client, assessment, f"part.{file_format}", content)

    assert response.status_code == 302
    assert answers() == [
        ("SF01", 5, "", ""),
        ("SF02", 4, "", ""),
        ("WL01", 3, "New board paper", "https://example.nhs.uk/paper"),
    ]
    assert indicator_values() == {"unsupported_devices_pct": 4.5, "epr_supplier": "Other"}
    assert "Spreadsheet uploaded: 3 answers changed" in client.get(response["Location"]).content.decode()
    event = AuditEvent.objects.get(action="upload")
    assert set(event.after) == {"WL01", "SF01", "indicator:epr_supplier"}


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_clear_empties_an_answer_in_any_case(client, world, file_format):
    assessment = filled(world)
    rows = [
        COLUMNS,
        ["domain", "WL01", "", "", "", "", "", "CLEAR", "clear"],
        ["domain", "SF01", "", "", "", "", " Clear ", "", ""],
        ["indicator", "unsupported_devices_pct", "", "", "", "", "CLEAR", "", ""],
        ["indicator", "epr_supplier", "", "", "", "", "CLEAR", "CLEAR", ""],
    ]
    content = csv_bytes(rows) if file_format == "csv" else xlsx_bytes(rows)
    client.force_login(world.lead)

    response = upload(client, assessment, f"clear.{file_format}", content)

    assert response.status_code == 302
    assert answers() == [("SF01", None, "", ""), ("SF02", 4, "", ""), ("WL01", 3, "", "")]
    assert indicator_values() == {}
    assert "Spreadsheet uploaded: 4 answers changed" in client.get(response["Location"]).content.decode()


def test_the_template_offers_clear_in_its_drop_downs_and_explains_it(world):
    workbook = openpyxl.load_workbook(io.BytesIO(build_xlsx(filled(world))))
    lists = {validation.formula1 for validation in workbook["Assessment"].data_validations.dataValidation}
    assert lists == {'"1,2,3,4,5,CLEAR"', '"Epic,Oracle Health (Cerner),Other,CLEAR"'}
    about = " ".join(str(cell.value) for row in workbook["About"].iter_rows() for cell in row if cell.value)
    assert "A blank cell, or a row you delete, leaves the answer as it is" in about
    assert "type CLEAR in its cell" in about


def test_the_upload_page_explains_blank_cells_and_clear(client, world):
    client.force_login(world.lead)
    page = client.get(f"{BASE}/acute/upload/").content.decode()
    assert "A blank cell leaves that answer as it is" in page
    assert "<strong>CLEAR</strong>" in page


# --- Problems: the real mistakes, never the blanks ------------------------------------------------------------------


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_a_file_with_four_mistakes_among_many_blank_rows_lists_exactly_those_four(client, world, file_format):
    assessment = world.assessment
    rows = csv_rows(build_csv(assessment))  # the empty draft's template: every value cell blank
    header, wl01, sf01, sf02, devices, supplier = rows
    wl01[6] = "7"
    sf01[8] = "our intranet"
    devices[6] = "lots"
    blank, spaces = [""] * 9, [" "] * 9
    rows = [
        header,
        wl01,
        blank,
        sf01,
        *[blank] * 20,
        sf02,
        spaces,
        devices,
        *[spaces] * 10,
        ["domain", "XX99", "", "", "", "", "3", "", ""],
        supplier,
        ["domain", "WL01", "Well Led", "Board leadership", "", "yes", "", "", ""],  # a second WL01, asking nothing
        *[blank] * 10,
    ]
    content = csv_bytes(rows) if file_format == "csv" else xlsx_bytes(rows)
    before = state(assessment)
    client.force_login(world.lead)

    response = upload(client, assessment, f"mistakes.{file_format}", content)

    assert response.status_code == 400
    assert [(p.row, p.column) for p in response.context["problems"]] == [
        (2, "G (value)"),
        (4, "I (evidence_link)"),
        (27, "G (value)"),
        (38, "B (code)"),
    ]
    assert state(assessment) == before


def test_a_file_with_nothing_below_its_header_is_a_problem(client, world):
    client.force_login(world.lead)
    response = upload(client, world.assessment, "empty.csv", csv_bytes([COLUMNS, [""] * 9, [" "] * 9]))
    assert response.status_code == 400
    assert [(p.row, p.message) for p in response.context["problems"]] == [
        (None, "The file has no rows below its header row")
    ]
