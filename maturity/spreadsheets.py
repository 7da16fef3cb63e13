"""The assessment as a spreadsheet: a template to download (XLSX or CSV) pre-filled with the current answers, and
the check of a filled one before it is saved. Pure functions, no HTTP: the views in maturity.spreadsheet_views call
them and hand a clean upload to actions.save_answers, which validates again and writes in one transaction.

A problem names the row and column as the person sees them in Excel (the header is row 1), so they can find it."""

import csv
import datetime
import io
import math
import re
import zipfile
from dataclasses import dataclass, field

from defusedxml import DefusedXmlException
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell.text import Text
from openpyxl.reader.excel import ExcelReader
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.xml.constants import SHARED_STRINGS, SHEET_MAIN_NS
from openpyxl.xml.functions import iterparse

from maturity.answers import clean_evidence_link, clean_evidence_note, clean_indicator, clean_level
from maturity.models import Assessment, Indicator, IndicatorType

COLUMNS = [
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
# pillar, name, allowed_values and required only explain the row: a person may delete them without losing anything.
# Without one of these the file cannot say what to save (a missing evidence column would otherwise clear evidence).
DATA_COLUMNS = ("kind", "code", "value", "evidence_note", "evidence_link")
# The cells that carry answers; the others say which answer.
ENTRY_COLUMNS = ("value", "evidence_note", "evidence_link")
WIDTHS = {
    "kind": 11,
    "code": 26,
    "pillar": 26,
    "name": 40,
    "allowed_values": 60,
    "required": 10,
    "value": 16,
    "evidence_note": 50,
    "evidence_link": 40,
}
SHEET = "Assessment"
MB = 1024 * 1024
SIZE_LIMIT = settings.UPLOAD_MAX_BYTES
# A 5 MB XLSX is compressed XML: refuse one that would unpack into far more (a "zip bomb") before openpyxl reads it.
# A filled template unpacks to well under 1 MB (about 45 kB with short notes); openpyxl reads about 1 MB a second,
# so this bounds the time a worker spends on any upload to seconds, inside the web server's timeout.
UNPACKED_LIMIT = 10 * MB
# Parsing costs by the element, not the byte: 10 MB of one-character cells took openpyxl 13 s. A template holds about
# 1,000 XML tags for five questions, a few thousand for sixty; at this limit openpyxl's worst case is under a second.
MARKUP_LIMIT = 50_000
# The template has one row per domain and indicator (about 60); a sheet far longer is not one, and reading stops here.
ROW_LIMIT = 2000
# The template has 9 columns; a person may add a few of their own. A sheet declaring more is refused, and cells
# further right in one that does not declare its size are not read.
COLUMN_LIMIT = 50
# Enough to fix a file by; a garbage file could otherwise give a page with hundreds of thousands of lines.
PROBLEM_LIMIT = 1000
# Spreadsheet programs run a cell starting with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# In the value and evidence columns a blank cell leaves the answer as it is; this word empties it (any case).
CLEAR = "CLEAR"
# The guard is an apostrophe in front. Text that starts with an apostrophe already, or that would read as the clear
# marker, is guarded too: so the upload takes off exactly the apostrophes the template put on, and a note that
# starts with one of its own keeps it.
GUARDED_STARTS = (*FORMULA_STARTS, "'")
# What XML 1.0 cannot hold (openpyxl refuses most of these, and a parser reads a carriage return back as a line
# feed) is written as Excel itself writes it, e.g. _x000B_ for a vertical tab; an underscore that would start such
# an escape is escaped in turn (_x005F_), so text that merely looks like one comes back as it was.
XML_UNSAFE = re.compile(r"[\x00-\x08\x0b\x0c\r\x0e-\x1f\ufffe\uffff]|_(?=x[0-9A-Fa-f]{4}_)")
XML_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")
NOT_A_SPREADSHEET = "The file must be an .xlsx or .csv file"


# --- The template ------------------------------------------------------------------------------------------------


def _is_clear(text: str) -> bool:
    return text.strip().upper() == CLEAR


def _needs_guard(text: str) -> bool:
    return text.startswith(GUARDED_STARTS) or _is_clear(text)


def neutralise(value):
    """Text a spreadsheet would run as a formula gets a leading apostrophe (so does text that starts with one, or
    that reads as the clear marker: see GUARDED_STARTS); numbers are left alone."""
    if isinstance(value, str) and _needs_guard(value):
        return "'" + value
    return value


def _unguard(text: str) -> str:
    """Undo neutralise(), and only that: an apostrophe stays unless what follows would have been guarded."""
    if text.startswith("'") and _needs_guard(text[1:]):
        return text[1:]
    return text


def _xml_escape(text: str) -> str:
    return XML_UNSAFE.sub(lambda match: f"_x{ord(match.group()):04X}_", text)


def _xml_unescape(text: str) -> str:
    def character(match):
        code = int(match.group(1), 16)
        # No database text holds a NUL or half a surrogate pair: such an "escape" stays as the text it is.
        return match.group() if code == 0 or 0xD800 <= code <= 0xDFFF else chr(code)

    return XML_ESCAPE.sub(character, text)


def _level_range(domain) -> str:
    return "1-5. " + " | ".join(f"{n}: {descriptor}" for n, descriptor in enumerate(domain.levels, start=1))


def _number_range(indicator: Indicator) -> str:
    low, high = indicator.min_value, indicator.max_value
    if low is not None and high is not None:
        return f"Number from {low:g} to {high:g}"
    if low is not None:
        return f"Number from {low:g}"
    if high is not None:
        return f"Number up to {high:g}"
    return "Number"


def allowed_values(indicator: Indicator) -> str:
    kind = indicator.value_type
    if kind == IndicatorType.BOOLEAN:
        return "Yes or No"
    if kind == IndicatorType.CHOICE:
        return " | ".join(indicator.choices)
    if kind == IndicatorType.DATE:
        return "Date YYYY-MM-DD"
    if kind in (IndicatorType.NUMBER, IndicatorType.PERCENT):
        return _number_range(indicator)
    return "Text, up to 200 characters"


def _indicator_value(value):
    """A stored indicator value as the template shows it: numbers as numbers, the rest as the form would take."""
    if value is None:
        return ""
    if value.boolean is not None:
        return "Yes" if value.boolean else "No"
    if value.number is not None:
        return int(value.number) if value.number.is_integer() else value.number
    if value.date is not None:
        return value.date.isoformat()
    return value.text


def template_rows(assessment: Assessment) -> list[dict]:
    """One row per applicable domain, then one per indicator, in COLUMNS order, with the current answers."""
    answers = {answer.domain_id: answer for answer in assessment.answers.all()}
    rows = []
    for domain in assessment.applicable_domains():
        answer = answers.get(domain.pk)
        rows.append(
            {
                "kind": "domain",
                "code": domain.code,
                "pillar": domain.pillar.name,
                "name": domain.name,
                "allowed_values": _level_range(domain),
                "required": "yes",
                "value": answer.level if answer and answer.level is not None else "",
                "evidence_note": answer.evidence_note if answer else "",
                "evidence_link": answer.evidence_link if answer else "",
            }
        )
    values = {value.indicator_code: value for value in assessment.indicator_values.all()}
    for indicator in assessment.indicators():
        rows.append(
            {
                "kind": "indicator",
                "code": indicator.code,
                "pillar": "",
                "name": indicator.name,
                "allowed_values": allowed_values(indicator),
                "required": "yes" if indicator.required else "no",
                "value": _indicator_value(values.get(indicator.code)),
                "evidence_note": "",
                "evidence_link": "",
            }
        )
    return rows


def filename(assessment: Assessment, file_format: str) -> str:
    """e.g. R0A-acute-2026-assessment.xlsx, or QOP-2026-assessment.csv for an ICS's own."""
    if assessment.is_ics_assessment:
        return f"{assessment.ics.code}-{assessment.cycle.year}-assessment.{file_format}"
    return f"{assessment.trust.code}-{assessment.care_setting_id}-{assessment.cycle.year}-assessment.{file_format}"


def build_csv(assessment: Assessment) -> bytes:
    """UTF-8 with a byte order mark: without it Excel reads the file as the local code page and mangles ‘’ and £."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in template_rows(assessment):
        writer.writerow([neutralise(row[column]) for column in COLUMNS])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _xlsx_text(value):
    # Guarded first, so that the guard sees the text itself; the upload undoes the escape first for the same reason.
    if isinstance(value, str):
        return _xml_escape(neutralise(value))
    return value


def _list_validation(values: list[str], error: str) -> DataValidation | None:
    """An in-cell drop-down, where Excel can hold it: the list is a comma-separated formula of 255 characters at
    most, so values with commas or quotes cannot be offered this way (the upload still checks them)."""
    if not values or any("," in value or '"' in value for value in values):
        return None
    formula = '"' + ",".join(values) + '"'
    if len(formula) > 255:
        return None
    return DataValidation(type="list", formula1=formula, allow_blank=True, showErrorMessage=True, error=error)


def build_xlsx(assessment: Assessment) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = SHEET
    sheet.append(COLUMNS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    for index, column in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = WIDTHS[column]

    value_letter = get_column_letter(COLUMNS.index("value") + 1)
    # Each drop-down offers the clear marker too: Excel would refuse it in a cell that only takes the list.
    levels = _list_validation(["1", "2", "3", "4", "5", CLEAR], f"Choose a whole level from 1 to 5, or {CLEAR}")
    indicators = {indicator.code: indicator for indicator in assessment.indicators()}
    wrapped = Alignment(wrap_text=True, vertical="top")
    for row_number, row in enumerate(template_rows(assessment), start=2):
        sheet.append([_xlsx_text(row[column]) for column in COLUMNS])
        for column in ("name", "allowed_values", "evidence_note"):
            sheet.cell(row=row_number, column=COLUMNS.index(column) + 1).alignment = wrapped
        cell = f"{value_letter}{row_number}"
        if row["kind"] == "domain":
            levels.add(cell)
            continue
        indicator = indicators[row["code"]]
        validation = None
        if indicator.value_type == IndicatorType.BOOLEAN:
            validation = _list_validation(["Yes", "No", CLEAR], f"Choose Yes or No, or {CLEAR}")
        elif indicator.value_type == IndicatorType.CHOICE:
            choices = [*indicator.choices, CLEAR]
            validation = _list_validation(choices, f"Choose one of: {allowed_values(indicator)}, or {CLEAR}"[:225])
        if validation is not None:
            validation.add(cell)
            sheet.add_data_validation(validation)
    sheet.add_data_validation(levels)

    about = workbook.create_sheet("About")
    organisation = assessment.trust or assessment.ics
    lines = [
        ("Digital maturity assessment", ""),
        ("Organisation", f"{organisation.name} ({organisation.code})"),
        ("Care setting", assessment.setting_label),
        ("Cycle", assessment.cycle.year),
        ("Version", assessment.version),
        ("Generated", timezone.localtime().strftime("%Y-%m-%d %H:%M %Z")),
        ("", ""),
        ("How to fill it in", ""),
        (
            "1",
            f"On the {SHEET} sheet, fill in the value column: a whole level from 1 to 5 for each domain (the "
            "allowed_values column describes each level), and each indicator's value as its allowed_values says.",
        ),
        ("2", "For each domain, add an evidence note and, if there is one, a link starting with https://."),
        (
            "3",
            "Do not change the kind or code columns. What you type replaces that answer in the assessment. A blank "
            "cell, or a row you delete, leaves the answer as it is, so you can upload a partly filled template. To "
            f"remove an answer, type {CLEAR} in its cell (value, evidence_note or evidence_link).",
        ),
        (
            "4",
            "Save the file as .xlsx (or as CSV UTF-8) and upload it on the assessment's page. Nothing is saved "
            "unless the whole file is valid: the page lists every problem by row and column.",
        ),
        (
            "5",
            "If the assessment was changed online after the time above, download a new template first, so you do "
            "not overwrite those changes.",
        ),
    ]
    for label, text in lines:
        about.append([_xlsx_text(label), _xlsx_text(text)])
    about["A1"].font = Font(bold=True, size=14)
    about["A8"].font = Font(bold=True)
    about.column_dimensions["A"].width = 20
    about.column_dimensions["B"].width = 100
    for (cell,) in about.iter_rows(min_col=2, max_col=2):
        cell.alignment = wrapped

    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- The upload --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    row: int | None  # as Excel numbers it, the header being 1; None for the file as a whole
    column: str  # the letter and header name, e.g. "G (value)"; empty for the file as a whole
    message: str


class UploadRejected(Exception):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("; ".join(problem.message for problem in problems[:5]))


@dataclass
class ParsedUpload:
    """A clean file, in the shape actions.save_answers takes (raw values: the action checks them again): only the
    answers it changes, each domain's with all three fields."""

    answers: dict[str, dict] = field(default_factory=dict)
    indicators: dict[str, str] = field(default_factory=dict)
    # Field key (see maturity.answers) → (row, column), to place the action's messages back in the file.
    locations: dict[str, tuple[int, str]] = field(default_factory=dict)

    def problems_for(self, errors: dict[str, str]) -> list[Problem]:
        return [Problem(*self.locations.get(key, (None, "")), message) for key, message in errors.items()]


def _reject(message: str):
    raise UploadRejected([Problem(None, "", message)])


def _as_text(value) -> str:
    """A cell as text, whatever the file type: a whole number without '.0', a date as YYYY-MM-DD; text as it is
    (not stripped: a note comes back as it was written)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


class _ExactStrings(ExcelReader):
    """openpyxl drops every "x005F_" from the shared strings, a rough undoing of Excel's escaped underscore that
    cannot tell a real escape from text that only looks like one. These are read as stored, as openpyxl reads the
    template's inline strings, and _xml_unescape() undoes Excel's escapes in both."""

    def read_strings(self):
        part = self.package.find(SHARED_STRINGS)
        if part is None:
            return
        with self.archive.open(part.PartName[1:]) as source:
            for _, node in iterparse(source):
                if node.tag == f"{{{SHEET_MAIN_NS}}}si":
                    self.shared_strings.append(Text.from_tree(node).content)
                    node.clear()


def _markup(archive: zipfile.ZipFile) -> int:
    """How many XML tags the workbook's parts hold, counted in the unpacked bytes (text cannot hold a bare "<")."""
    tags = 0
    for info in archive.infolist():
        with archive.open(info) as part:
            while chunk := part.read(MB):
                tags += chunk.count(b"<")
    return tags


def _defused(error: BaseException | None) -> bool:
    """Whether defusedxml refused the XML, perhaps under the ValueError openpyxl raises from it."""
    while error is not None:
        if isinstance(error, DefusedXmlException):
            return True
        error = error.__cause__ or error.__context__
    return False


def _xlsx_rows(data: bytes, name: str) -> list[list[str]]:
    """The first sheet's cells as text. Every limit is checked before openpyxl parses anything: the unpacked size
    from the zip directory, then the XML tags in the unpacked parts (zipfile never inflates a part past the size the
    directory declares, so a directory that lies gives a truncated part and a failed CRC check, not 50 MB); then,
    before a cell is read, the sheet's declared dimension. Reading is bounded by the row and column limits too, for
    a sheet that declares no dimension or a wrong one."""
    not_real = f"{NOT_A_SPREADSHEET}: ‘{name}’ is not a real Excel workbook"
    # defusedxml refuses these in any part; openpyxl uses it whenever it is installed (it is a dependency).
    not_plain_xml = (
        f"‘{name}’ holds XML declarations (a DOCTYPE or entities) that Excel never writes, and which are refused for "
        "safety: open it in Excel, save it as .xlsx and upload that"
    )
    buffer = io.BytesIO(data)
    if not zipfile.is_zipfile(buffer):
        _reject(not_real)
    try:
        with zipfile.ZipFile(buffer) as archive:
            if "[Content_Types].xml" not in archive.namelist():
                _reject(not_real)
            if sum(info.file_size for info in archive.infolist()) > UNPACKED_LIMIT:
                _reject(f"‘{name}’ unpacks to more than {UNPACKED_LIMIT // MB} MB: upload a smaller workbook")
            if _markup(archive) > MARKUP_LIMIT:
                _reject(
                    f"‘{name}’ holds far more than a filled template (over {MARKUP_LIMIT:,} XML tags): upload the "
                    "template with your answers"
                )
        reader = _ExactStrings(io.BytesIO(data), read_only=True, data_only=True)
        reader.read()
        workbook = reader.wb
    except UploadRejected:
        raise
    except (
        Exception
    ) as error:  # openpyxl raises many kinds of error for a damaged file; each means the same to the person
        _reject(not_plain_xml if _defused(error) else not_real)
    try:
        sheet = workbook[SHEET] if SHEET in workbook.sheetnames else workbook.worksheets[0]
        # The dimension openpyxl read from the sheet's start (A1:I61 for the template), when it has one.
        if (sheet.max_row or 0) > ROW_LIMIT:
            _reject(f"‘{name}’ has more than {ROW_LIMIT} rows: the template has one row per question")
        if (sheet.max_column or 0) > COLUMN_LIMIT:
            _reject(f"‘{name}’ has more than {COLUMN_LIMIT} columns: the template has {len(COLUMNS)}")
        # Bounds of its own rather than the declared ones: openpyxl would stop at a declared last row that is too
        # early (leaving answers out without a word), and pad each row out to a declared last column however far.
        rows = []
        for cells in sheet.iter_rows(max_row=ROW_LIMIT + 1, max_col=COLUMN_LIMIT):
            if len(rows) == ROW_LIMIT:
                _reject(f"‘{name}’ has more than {ROW_LIMIT} rows: the template has one row per question")
            values = []
            for cell in cells:
                value = getattr(cell, "value", None)
                # Someone typing 4.5% in Excel stores 0.045 formatted as a percentage; the template means 4.5.
                is_number = isinstance(value, int | float) and not isinstance(value, bool)
                if is_number and "%" in (getattr(cell, "number_format", "") or ""):
                    value = round(value * 100, 9)
                values.append(_xml_unescape(value) if isinstance(value, str) else _as_text(value))
            rows.append(values)
        return rows
    except UploadRejected:
        raise
    except Exception as error:  # the sheet's cells are parsed only now, as they are read: damage in them shows here
        _reject(not_plain_xml if _defused(error) else not_real)
    finally:
        workbook.close()


def _csv_rows(data: bytes, name: str) -> list[list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        _reject(
            f"{NOT_A_SPREADSHEET} saved as UTF-8: ‘{name}’ is in another encoding. In Excel, choose "
            "Save As ‘CSV UTF-8 (Comma delimited)’, or upload the .xlsx file"
        )
    if "\x00" in text:
        _reject(f"{NOT_A_SPREADSHEET}: ‘{name}’ is not text")
    first_line = text.split("\n", 1)[0]
    # Excel in some European locales saves CSV with semicolons.
    delimiter = ";" if "," not in first_line and ";" in first_line else ","
    try:
        return list(csv.reader(io.StringIO(text), delimiter=delimiter))
    except csv.Error as error:
        _reject(f"‘{name}’ cannot be read as CSV: {error}")


def _read(uploaded_file) -> list[list[str]]:
    name = (getattr(uploaded_file, "name", "") or "").replace("\\", "/").rsplit("/", 1)[-1]
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension not in ("xlsx", "csv"):
        _reject(f"{NOT_A_SPREADSHEET}: ‘{name}’ is neither")
    size = getattr(uploaded_file, "size", None)
    if size is None or size <= SIZE_LIMIT:
        # Read one byte more than the limit: enough to know it is too big without reading all of it.
        data = uploaded_file.read(SIZE_LIMIT + 1)
        size = len(data) if size is None else size
    if size > SIZE_LIMIT:
        _reject(f"‘{name}’ is {math.ceil(size / MB * 10) / 10:.1f} MB: the limit is {SIZE_LIMIT // MB} MB")
    return _xlsx_rows(data, name) if extension == "xlsx" else _csv_rows(data, name)


def _entry(cell: str) -> str | None:
    """What a value or evidence cell asks for: None to leave the answer as it is (a blank cell), "" to empty it
    (the clear marker), or the text to save."""
    if not cell.strip():
        return None
    if _is_clear(cell):
        return ""
    return _unguard(cell)


def _same(cell: str, stored: str) -> bool:
    # Excel saves a CSV's line breaks as bare line feeds; a note the form saved with CR LF is still the same note.
    return cell.replace("\r\n", "\n") == stored.replace("\r\n", "\n")


def _domain_change(values: dict[str, str], answer) -> dict[str, str] | None:
    """The domain's answer as the row asks for it, or None when the row changes nothing. A cell that asks for
    what is stored keeps the stored text, so the action's tidying of it (stripped spaces) changes nothing either."""
    stored = {
        "level": "" if answer is None or answer.level is None else str(answer.level),
        "evidence_note": answer.evidence_note if answer else "",
        "evidence_link": answer.evidence_link if answer else "",
    }
    change = {}
    for name, column in (("level", "value"), ("evidence_note", "evidence_note"), ("evidence_link", "evidence_link")):
        asked = _entry(values[column])
        change[name] = stored[name] if asked is None or _same(asked, stored[name]) else asked
    return None if change == stored else change


def parse_upload(assessment: Assessment, uploaded_file) -> ParsedUpload:
    """Check a filled template against the assessment's framework and collect every problem, not just the first.
    Only what the file changes is kept: a blank cell, a blank row and a row left out leave their answers as they
    are, and are never a problem; the clear marker empties an answer."""
    rows = _read(uploaded_file)
    if not rows:
        _reject("The file is empty: upload the template with its header row")
    header = [text.strip().lower() for text in rows[0]]
    positions = {}
    for index, name in enumerate(header):
        positions.setdefault(name, index)
    missing = [name for name in DATA_COLUMNS if name not in positions]
    if missing:
        raise UploadRejected(
            [
                Problem(1, name, f"The header row has no ‘{name}’ column: row 1 must hold the template's column names")
                for name in missing
            ]
        )

    def column(name: str) -> str:
        return f"{get_column_letter(positions[name] + 1)} ({name})"

    framework_domains = {domain.code.upper(): domain for domain in assessment.framework.domains.all()}
    applicable = {domain.code for domain in assessment.applicable_domains()}
    indicators = {indicator.code.lower(): indicator for indicator in assessment.indicators()}
    where = f"the {assessment.care_setting.name} care setting" if assessment.care_setting_id else "ICB assessments"
    # Read once, outside the action's lock: safe, because the action refuses the save (Conflict) if the assessment
    # changed after the person loaded the upload page, so what is compared here is what they had.
    answers = {answer.domain.code: answer for answer in assessment.answers.select_related("domain")}
    stored_values = {value.indicator_code: value for value in assessment.indicator_values.all()}

    parsed, problems, seen, has_rows = ParsedUpload(), [], {}, False
    for row_number, cells in enumerate(rows[1:], start=2):
        values = {name: cells[index] if index < len(cells) else "" for name, index in positions.items()}
        if not any(values.get(name, "").strip() for name in COLUMNS):
            continue
        has_rows = True
        # A row with nothing in its value and evidence cells asks for nothing: whatever else it says, it is skipped.
        if not any(values[name].strip() for name in ENTRY_COLUMNS):
            continue
        kind, code = values["kind"].strip().lower(), values["code"].strip()
        domain, indicator = framework_domains.get(code.upper()), indicators.get(code.lower())
        if not code:
            found = [("code", "Enter the code of a domain or indicator, or delete the row")]
        elif domain is None and indicator is None:
            found = [("code", f"‘{code}’ is not a domain or indicator code of this assessment")]
        elif kind not in ("domain", "indicator"):
            found = [("kind", "Kind must be domain or indicator" + (f", not ‘{values['kind']}’" if kind else ""))]
        elif kind == "domain" and domain is None:
            found = [("kind", f"{indicator.code} is an indicator, not a domain: its kind must be indicator")]
        elif kind == "indicator" and indicator is None:
            found = [("kind", f"{domain.code} is a domain, not an indicator: its kind must be domain")]
        elif kind == "domain" and domain.code not in applicable:
            found = [("code", f"{domain.code} {domain.name} does not apply to {where}")]
        elif (domain.code if kind == "domain" else indicator.code) in seen:
            canonical = domain.code if kind == "domain" else indicator.code
            found = [("code", f"{canonical} is on row {seen[canonical]} already: give each code one row only")]
        elif kind == "domain":
            seen[domain.code] = row_number
            found = _domain_problems(domain, values)
            if (change := _domain_change(values, answers.get(domain.code))) is not None:
                parsed.answers[domain.code] = change
            parsed.locations[f"{domain.code}-level"] = (row_number, column("value"))
            parsed.locations[f"{domain.code}-evidence_note"] = (row_number, column("evidence_note"))
            parsed.locations[f"{domain.code}-evidence_link"] = (row_number, column("evidence_link"))
        else:
            seen[indicator.code] = row_number
            found = _indicator_problems(indicator, values)
            asked = _entry(values["value"])
            # Compared with the cell the template holds for the stored value; the action compares clean values too.
            if asked is not None and not _same(asked, _as_text(_indicator_value(stored_values.get(indicator.code)))):
                parsed.indicators[indicator.code] = asked
            parsed.locations[f"indicator-{indicator.code}"] = (row_number, column("value"))
        problems.extend(Problem(row_number, column(name), message) for name, message in found)

    if not has_rows:
        problems.append(Problem(None, "", "The file has no rows below its header row"))
    if len(problems) > PROBLEM_LIMIT:
        more = len(problems) - PROBLEM_LIMIT
        problems = [*problems[:PROBLEM_LIMIT], Problem(None, "", f"…and {more} more problems not listed here")]
    if problems:
        raise UploadRejected(problems)
    return parsed


def _domain_problems(domain, values: dict[str, str]) -> list[tuple[str, str]]:
    """The same messages as the forms (maturity.answers), for the cells that ask for a value."""
    label, found = f"{domain.code} {domain.name}", []
    for name, cleaner in (
        ("value", clean_level),
        ("evidence_note", clean_evidence_note),
        ("evidence_link", clean_evidence_link),
    ):
        if not (asked := _entry(values[name])):
            continue
        try:
            cleaner(asked)
        except ValidationError as error:
            found.append((name, f"{label}: {error.messages[0]}"))
    return found


def _indicator_problems(indicator: Indicator, values: dict[str, str]) -> list[tuple[str, str]]:
    found = []
    if asked := _entry(values["value"]):
        try:
            clean_indicator(indicator, asked)
        except ValidationError as error:
            found.append(("value", f"{indicator.name} {error.messages[0]}"))
    for name in ("evidence_note", "evidence_link"):
        if _entry(values[name]):
            found.append((name, "Evidence is recorded for domains only: leave this cell empty on an indicator row"))
    return found
