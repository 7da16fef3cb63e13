"""Published national data: NHS England's Digital Maturity Assessment results, DSPT status and the legacy-IT
device snapshot, imported into cycles, assessments, published scores and indicator values.

Each importer is a bulk action in three stages, like trusts/ods.py. Reading parses and validates the files and
touches no database: any problem raises PublishedImportError naming the file, sheet, row and column. Matching
finds the loaded trusts and ICSs by name or code, through the curated tables in fixtures/ (provider aliases and
successors, predecessor codes), and lists everything it cannot match. Writing happens in one transaction with one
audit event and one refresh mark per cycle (or one for everything, for snapshots not tied to a cycle). Running an
importer again replaces exactly what the previous run wrote.
"""

import csv
import hashlib
import re
import zipfile
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import openpyxl
from django.db import transaction
from django.db.models import Q
from openpyxl.utils.exceptions import InvalidFileException

from maturity import audit, refresh
from maturity.models import (
    Assessment,
    Cycle,
    CycleKind,
    CycleState,
    IndicatorValue,
    Pillar,
    PublishedScore,
    Source,
    Status,
)
from trusts.models import ICS, CareSetting, Trust

# The files as shipped under fixtures/ (the command's defaults).
DMA_FILE = "dma/dma_2024_2025_results_v2.xlsx"
ALIASES_FILE = "dma/provider_aliases.csv"
DSPT_TRUSTS_FILE = "dspt/dspt_trusts_2023-11-16.csv"
DSPT_ICBS_FILE = "dspt/dspt_icbs_2023-11-16.csv"
LEGACY_FILE = "legacy_it/windows_devices_and_dspt_2022-09-09.csv"
PREDECESSORS_FILE = "legacy_it/predecessors.csv"

DMA_SOURCE_NOTE = "Digital Maturity Assessment 2025 Data Report v2, NHS England, 30 March 2026"
PILLAR_YEAR = 2025  # the workbook has pillar scores for 2025 only
OVERALL_COLUMNS = {2025: "2025 Average", 2024: "2024 Average"}  # overall comparable score by cycle year
# Pillar scores are stored as floats such as 2.2999999999999998: published to one decimal. Overall scores to three.
PILLAR_DECIMALS = 1
OVERALL_DECIMALS = 3
SCORE_RANGE = (1.0, 5.0)

# Sheet names as published; they are matched with whitespace normalised, since some carry trailing spaces.
PROVIDER_PILLARS_SHEET = "SC - 2025 Pillar Summary"
PROVIDER_OVERALL_SHEET = "SC - 24 vs 25 Overall DMA"
ICB_PILLARS_SHEET = "ICB - 2025 Pillar Summary"
ICB_OVERALL_SHEET = "ICB -24 vs 25 Overall DMA"
PILLAR_COLUMNS = {name: code for code, name in Pillar.ALL}  # the DMA's pillar headers are the pillars' names
DMA_CARE_SETTINGS = {name: slug for slug, name, _ in CareSetting.ALL}
# The header row is found by its first column, under a banner of about ten rows.
HEADER_MARKER = "Region"
HEADER_SEARCH_ROWS = 30
# The first footer line ends the data: "Notes:" (with footnotes) or "Source: ..." then "Copyright ...".
FOOTER_PREFIXES = ("notes", "source", "copyright")

DSPT_INDICATOR = "dspt_status"
DSPT_STATUSES = ("Standards Exceeded", "Standards Met", "Approaching Standards", "Standards Not Met", "Not Published")
DSPT_PREFIX = re.compile(r"(\d{2}/\d{2})\s+(.+)")
UNKNOWN_VALUES = {"", "#N/A", "N/A"}  # published as unknown: kept as such, never dropped

LEGACY_EDITION = "{date} snapshot"
LEGACY_COLUMNS = {
    "windows10_devices": "Windows 10 Active Last 30 days",
    "unsupported_windows10_devices": "Total current unsupported Win10 devices",
    "windows7_devices": "W7-Active7 Red= above 100 Devices Current",
}
LEGACY_PERCENT_COLUMN = "% of Win10 currently unsupported"
LEGACY_PERCENT_INDICATOR = "unsupported_devices_pct"
# The published percentage must agree with the counts it is computed from (it does to 1e-8 in the real file).
PERCENT_TOLERANCE = 0.01

ODS_CODE = re.compile(r"[A-Z0-9]{3,5}")
FILE_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})")


class PublishedImportError(Exception):
    """A published file is missing or malformed, or names organisations that cannot be matched (strict mode).
    The message names the file, and the sheet, row (line, in a CSV file) and column where it can."""

    def __init__(self, file: str, problem: str, *, sheet: str | None = None, row: int | None = None, column=None):
        self.file = file
        self.sheet = sheet
        self.row = row
        self.column = column
        self.problem = problem
        where = file
        if sheet:
            where += f", sheet '{sheet}'"
        if row:
            where += f", row {row}" if sheet else f" line {row}"
        if column:
            where += f", column '{column}'"
        super().__init__(f"{where}: {problem}")


@dataclass
class ImportSummary:
    """What an import read, matched and wrote, for the command to print and the audit event to keep."""

    title: str
    counts: dict[str, int] = field(default_factory=dict)
    matched: list[str] = field(default_factory=list)  # matched only through a curated table
    combined: list[str] = field(default_factory=list)  # several rows combined into one trust
    notes: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # deliberately not imported, with the reason
    unmatched: list[str] = field(default_factory=list)  # could not be matched: fix the curated tables
    written: bool = True

    def lines(self) -> list[str]:
        lines = [self.title + ("" if self.written else " (nothing written)")]
        lines += [f"  {name.replace('_', ' ')}: {value}" for name, value in self.counts.items()]
        for heading, items in [
            ("Matched through the curated tables", self.matched),
            ("Combined", self.combined),
            ("Notes", self.notes),
            ("Skipped", self.skipped),
        ]:
            if items:
                lines.append(f"  {heading} ({len(items)}):")
                lines += [f"    {item}" for item in items]
        if self.unmatched:
            lines.append(f"  Unmatched ({len(self.unmatched)}):")
            lines += [f"    {item}" for item in self.unmatched]
        else:
            lines.append("  Unmatched: none")
        return lines


def normalise_name(name: str) -> str:
    """Organisation names as NHS England and ODS spell them differently: case, & for AND, apostrophes,
    NATIONAL HEALTH SERVICE for NHS, and stray whitespace. Anything more is for the alias table."""
    name = name.upper().replace("\u200b", "")
    name = re.sub(r"['\u2018\u2019`]", "", name)
    name = name.replace("&", " AND ")
    name = re.sub(r"\s+", " ", name).strip()
    return name.replace("NATIONAL HEALTH SERVICE", "NHS")


def _file_facts(path: Path) -> dict:
    """The file's name and checksum for the audit event: which edition of a file was imported."""
    return {"file": path.name, "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}


def _check_organisations_loaded(file: str) -> None:
    if not Trust.objects.exists():
        raise PublishedImportError(file, "no trusts are loaded: run manage.py load_organisations first")


# Reading CSV files.


@dataclass
class _CsvRow:
    file: str
    line: int
    values: dict[str, str]

    def error(self, problem: str, column: str | None = None) -> PublishedImportError:
        return PublishedImportError(self.file, problem, row=self.line, column=column)

    def text(self, column: str, what: str) -> str:
        value = self.values[column]
        if not value:
            raise self.error(f"empty {what}", column)
        return value

    def code(self, column: str, what: str) -> str:
        value = self.text(column, what).upper()
        if not ODS_CODE.fullmatch(value):
            raise self.error(f"{what} '{value}' is not a valid ODS code", column)
        return value


def _read_table(path: Path, columns: list[str]) -> list[_CsvRow]:
    """The non-blank rows under the header (line 1), by column name. utf-8-sig drops a BOM; newline="" lets csv
    handle CRLF and line breaks inside quotes, and line_num then gives the line a row ends on."""
    if not path.is_file():
        raise PublishedImportError(path.name, f"file not found in {path.parent}")
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            reader = csv.reader(f)
            lines = [(reader.line_num, [value.strip() for value in row]) for row in reader]
    except UnicodeDecodeError as e:
        raise PublishedImportError(path.name, f"not UTF-8 text ({e})") from None
    except csv.Error as e:
        raise PublishedImportError(path.name, f"not valid CSV ({e})", row=reader.line_num) from None
    if not lines:
        raise PublishedImportError(path.name, "empty file")
    header_line, header = lines[0]
    for column in columns:
        if column not in header:
            raise PublishedImportError(path.name, f"missing column '{column}'", row=header_line)
    positions = {column: header.index(column) for column in columns}
    needed = max(positions.values()) + 1
    rows = []
    for line, values in lines[1:]:
        if not any(values):
            continue
        if len(values) < needed:
            raise PublishedImportError(path.name, f"{len(values)} fields where {needed} are expected", row=line)
        rows.append(_CsvRow(path.name, line, {column: values[i] for column, i in positions.items()}))
    return rows


def _check_unique(rows: list, keys: list, what: str) -> None:
    first = {}
    for row, key in zip(rows, keys, strict=True):
        if key in first:
            shown = ", ".join(str(part) for part in key if part) if isinstance(key, tuple) else key
            raise row.error(f"duplicate {what} '{shown}' (first on {first[key]})")
        first[key] = f"line {row.line}" if isinstance(row, _CsvRow) else f"row {row.row}"


def _date_in_file_name(path: Path) -> date:
    """Snapshots are named by their date (dspt_trusts_2023-11-16.csv): the date rows without their own take."""
    found = FILE_DATE.search(path.name)
    if not found:
        raise PublishedImportError(path.name, "no snapshot date (YYYY-MM-DD) in the file name")
    return date.fromisoformat(found.group(1))


# The curated tables.


@dataclass(frozen=True)
class Alias:
    line: int
    published_name: str
    ods_code: str
    kind: str
    confidence: str
    note: str


ALIAS_KINDS = ("alias", "successor")
CONFIDENCES = ("high", "medium", "low")


def read_aliases(path: Path) -> dict[str, Alias]:
    """provider_aliases.csv by normalised published name: names NHS England publishes that do not match a loaded
    trust's (or ICS's) name after normalisation, each mapped to an ODS code with the reason."""
    rows = _read_table(path, ["published_name", "ods_code", "kind", "confidence", "note"])
    aliases = []
    for row in rows:
        alias = Alias(
            line=row.line,
            published_name=row.text("published_name", "published name"),
            ods_code=row.code("ods_code", "ODS code"),
            kind=row.text("kind", "kind"),
            confidence=row.text("confidence", "confidence"),
            note=row.text("note", "note (say where the mapping comes from)"),
        )
        if alias.kind not in ALIAS_KINDS:
            raise row.error(f"kind '{alias.kind}' is not one of {', '.join(ALIAS_KINDS)}", "kind")
        if alias.confidence not in CONFIDENCES:
            raise row.error(f"confidence '{alias.confidence}' is not one of {', '.join(CONFIDENCES)}", "confidence")
        aliases.append(alias)
    _check_unique(rows, [normalise_name(a.published_name) for a in aliases], "published name")
    return {normalise_name(a.published_name): a for a in aliases}


@dataclass(frozen=True)
class Predecessor:
    line: int
    old_code: str
    old_name: str
    ods_code: str
    confidence: str
    note: str


def read_predecessors(path: Path) -> dict[str, Predecessor]:
    """predecessors.csv by old code: closed or merged trusts the older snapshots still name, and their successor."""
    rows = _read_table(path, ["old_code", "old_name", "ods_code", "confidence", "note"])
    records = []
    for row in rows:
        record = Predecessor(
            line=row.line,
            old_code=row.code("old_code", "old code"),
            old_name=row.text("old_name", "old name"),
            ods_code=row.code("ods_code", "successor's ODS code"),
            confidence=row.text("confidence", "confidence"),
            note=row.text("note", "note (say where the succession comes from)"),
        )
        if record.confidence not in CONFIDENCES:
            raise row.error(f"confidence '{record.confidence}' is not one of {', '.join(CONFIDENCES)}", "confidence")
        records.append(record)
    _check_unique(rows, [r.old_code for r in records], "old code")
    return {r.old_code: r for r in records}


def _check_predecessor_successors(path: Path, predecessors: dict[str, Predecessor], trusts: dict[str, Trust]) -> None:
    for record in predecessors.values():
        if record.ods_code not in trusts:
            raise PublishedImportError(
                path.name, f"successor '{record.ods_code}' is not a loaded trust", row=record.line, column="ods_code"
            )


# Reading the DMA workbook.


def _clean(value) -> str:
    return re.sub(r"\s+", " ", str(value)).strip() if value is not None else ""


@dataclass
class _SheetRow:
    file: str
    sheet: str
    row: int
    values: dict[str, object]

    def error(self, problem: str, column: str | None = None) -> PublishedImportError:
        return PublishedImportError(self.file, problem, sheet=self.sheet, row=self.row, column=column)

    def text(self, column: str, what: str) -> str:
        value = _clean(self.values[column])
        if not value:
            raise self.error(f"empty {what}", column)
        return value

    def score(self, column: str, decimals: int) -> float:
        value = self.values[column]
        if isinstance(value, str):
            try:
                value = float(value.strip())
            except ValueError:
                raise self.error(f"score '{value}' is not a number", column) from None
        if value is None or isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(f"score {value!r} is not a number" if value is not None else "empty score", column)
        score = round(float(value), decimals)
        low, high = SCORE_RANGE
        if not low <= score <= high:
            raise self.error(f"score {value} is outside {low:g} to {high:g}", column)
        return score


def _open_workbook(path: Path):
    if not path.is_file():
        raise PublishedImportError(path.name, f"file not found in {path.parent}")
    try:
        # read_only streams the rows; data_only gives the values Excel last computed rather than formulas.
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, OSError, KeyError, ValueError) as e:
        raise PublishedImportError(path.name, f"not an Excel workbook ({e})") from None


def _sheet_rows(workbook, file: str, sheet_name: str, columns: list[str]) -> list[_SheetRow]:
    """The data rows of a sheet by column name: under the header row (found by its 'Region' cell, below the
    banner), skipping blank rows, up to the footer."""
    sheets = {_clean(name): name for name in workbook.sheetnames}
    if sheet_name not in sheets:
        raise PublishedImportError(file, f"no sheet '{sheet_name}' (sheets: {', '.join(sheets)})")
    worksheet = workbook[sheets[sheet_name]]
    rows = worksheet.iter_rows(values_only=True)
    header, header_row = None, 0
    for number, values in enumerate(rows, start=1):
        if HEADER_MARKER in [_clean(v) for v in values]:
            header, header_row = [_clean(v) for v in values], number
            break
        if number >= HEADER_SEARCH_ROWS:
            break
    if header is None:
        raise PublishedImportError(
            file, f"no header row (a '{HEADER_MARKER}' cell) in the first rows", sheet=sheet_name
        )
    for column in columns:
        if column not in header:
            raise PublishedImportError(file, f"missing column '{column}'", sheet=sheet_name, row=header_row)
    positions = {column: header.index(column) for column in columns}
    records = []
    for number, values in enumerate(rows, start=header_row + 1):
        texts = [_clean(v) for v in values]
        filled = [t for t in texts if t]
        if not filled:
            continue
        if filled[0].lower().startswith(FOOTER_PREFIXES):
            break
        padded = list(values) + [None] * len(header)
        records.append(_SheetRow(file, sheet_name, number, {c: padded[i] for c, i in positions.items()}))
    return records


@dataclass(frozen=True)
class DmaRecord:
    """One provider × care setting (or one ICB, care_setting None) with its scores from both sheets."""

    name: str
    care_setting: str | None
    icb_name: str
    region_name: str
    pillar_scores: dict[str, float]  # pillar code -> score, PILLAR_YEAR
    overall: dict[int, float]  # cycle year -> overall comparable score
    where: str  # "sheet '…' row N", for messages

    @property
    def key(self) -> tuple[str, str | None]:
        return normalise_name(self.name), self.care_setting


@dataclass(frozen=True)
class DmaWorkbook:
    providers: list[DmaRecord]
    icbs: list[DmaRecord]


def _care_setting(row: _SheetRow) -> str:
    name = row.text("Care Setting", "care setting")
    if name not in DMA_CARE_SETTINGS:
        raise row.error(f"care setting '{name}' is not one of {', '.join(DMA_CARE_SETTINGS)}", "Care Setting")
    return DMA_CARE_SETTINGS[name]


def _read_pair(workbook, file: str, pillars_sheet: str, overall_sheet: str, name_column: str | None):
    """The pillar sheet and the overall sheet of providers (name_column 'Provider') or ICBs (None: the ICB is
    the organisation), joined by organisation and care setting. Each must have what the other has."""
    organisation_columns = ["Region", "ICS"] + ([name_column, "Care Setting"] if name_column else [])
    pillar_rows = _sheet_rows(workbook, file, pillars_sheet, organisation_columns + list(PILLAR_COLUMNS))
    overall_rows = _sheet_rows(workbook, file, overall_sheet, organisation_columns + list(OVERALL_COLUMNS.values()))

    def identify(row: _SheetRow) -> tuple[str, str | None, str, str]:
        icb = row.text("ICS", "ICS")
        name = row.text(name_column, "provider") if name_column else icb
        return name, _care_setting(row) if name_column else None, icb, row.text("Region", "region")

    overall_keys, overall = [], {}
    for row in overall_rows:
        name, setting, icb, _ = identify(row)
        scores = {year: row.score(column, OVERALL_DECIMALS) for year, column in OVERALL_COLUMNS.items()}
        overall_keys.append((normalise_name(name), setting))
        overall[overall_keys[-1]] = (row, icb, scores)
    _check_unique(overall_rows, overall_keys, "organisation and care setting")

    records = []
    for row in pillar_rows:
        name, setting, icb, region = identify(row)
        pillar_scores = {code: row.score(column, PILLAR_DECIMALS) for column, code in PILLAR_COLUMNS.items()}
        records.append(
            DmaRecord(name, setting, icb, region, pillar_scores, {}, f"sheet '{pillars_sheet}' row {row.row}")
        )
    _check_unique(pillar_rows, [r.key for r in records], "organisation and care setting")

    for row, record in zip(pillar_rows, records, strict=True):
        partner = overall.pop(record.key, None)
        if partner is None:
            raise row.error(f"no row for this organisation and care setting in sheet '{overall_sheet}'")
        partner_row, partner_icb, scores = partner
        if normalise_name(partner_icb) != normalise_name(record.icb_name):
            raise partner_row.error(
                f"ICS '{partner_icb}' differs from '{record.icb_name}' in sheet '{pillars_sheet}' row {row.row}", "ICS"
            )
        record.overall.update(scores)
    for partner_row, _, _ in overall.values():
        raise partner_row.error(f"no row for this organisation and care setting in sheet '{pillars_sheet}'")
    return records


def read_dma_workbook(path: Path) -> DmaWorkbook:
    """Read and validate the four results sheets; raises PublishedImportError on the first problem."""
    workbook = _open_workbook(path)
    try:
        providers = _read_pair(workbook, path.name, PROVIDER_PILLARS_SHEET, PROVIDER_OVERALL_SHEET, "Provider")
        icbs = _read_pair(workbook, path.name, ICB_PILLARS_SHEET, ICB_OVERALL_SHEET, None)
    finally:
        workbook.close()
    if not providers:
        raise PublishedImportError(path.name, "no provider rows", sheet=PROVIDER_PILLARS_SHEET)
    if not icbs:
        raise PublishedImportError(path.name, "no ICB rows", sheet=ICB_PILLARS_SHEET)
    return DmaWorkbook(providers, icbs)


# Importing the DMA results.


@dataclass
class _Planned:
    """A published row matched to its organisation: an assessment to write in each cycle."""

    record: DmaRecord
    trust: Trust | None
    ics: ICS


def _match_dma(book: DmaWorkbook, aliases: dict[str, Alias], aliases_path: Path, summary: ImportSummary):
    """Each record's trust and ICS: by normalised name, else through the alias table. Unmatched names go to the
    summary; their rows are left out."""
    trusts = {t.code: t for t in Trust.objects.select_related("ics")}
    icss = {i.code: i for i in ICS.objects.select_related("region")}
    for alias in aliases.values():
        if alias.ods_code not in trusts and alias.ods_code not in icss:
            raise PublishedImportError(
                aliases_path.name, f"'{alias.ods_code}' is not a loaded trust or ICB", row=alias.line, column="ods_code"
            )
    # Two trusts with one normalised name cannot be told apart by name: they need alias rows.
    trust_names = Counter(normalise_name(t.name) for t in trusts.values())
    trusts_by_name = {normalise_name(t.name): t for t in trusts.values() if trust_names[normalise_name(t.name)] == 1}
    icss_by_name = {normalise_name(i.name): i for i in icss.values()}
    used_aliases = set()

    def find(name: str, by_name: dict, by_code: dict):
        key = normalise_name(name)
        alias = aliases.get(key)
        # The curated table comes first: it also settles names reused by a successor with another code.
        if alias is not None and alias.ods_code in by_code:
            if key not in used_aliases:
                used_aliases.add(key)
                summary.matched.append(
                    f"{name} -> {alias.ods_code} {by_code[alias.ods_code].name} ({alias.kind}, {alias.confidence} "
                    f"confidence)"
                )
            return by_code[alias.ods_code]
        return by_name.get(key)

    unmatched_names = {}  # name -> where first seen
    planned_icbs = {}
    for record in book.icbs:
        ics = find(record.name, icss_by_name, icss)
        if ics is None:
            unmatched_names.setdefault(record.name, f"ICB, {record.where}")
            continue
        planned_icbs[normalise_name(record.name)] = _Planned(record, None, ics)
    icb_of_name = {key: p.ics for key, p in planned_icbs.items()}

    planned_providers = []
    for record in book.providers:
        trust = find(record.name, trusts_by_name, trusts)
        ics = icb_of_name.get(normalise_name(record.icb_name)) or find(record.icb_name, icss_by_name, icss)
        if trust is None:
            unmatched_names.setdefault(record.name, f"provider, {record.where}")
        if ics is None:
            unmatched_names.setdefault(record.icb_name, f"ICB of a provider, {record.where}")
        if trust is not None and ics is not None:
            planned_providers.append(_Planned(record, trust, ics))
    summary.unmatched = [f"{name} ({where})" for name, where in unmatched_names.items()]

    # Two published names mapped to one trust and care setting (or one ICS) would be one assessment twice.
    seen = {}
    for planned in planned_providers + list(planned_icbs.values()):
        code = planned.trust.code if planned.trust else planned.ics.code
        key = (code, planned.record.care_setting)
        if key in seen:
            raise PublishedImportError(
                aliases_path.name,
                f"'{planned.record.name}' ({planned.record.where}) and '{seen[key].name}' ({seen[key].where}) both "
                f"map to {code}" + (f" {planned.record.care_setting}" if planned.record.care_setting else ""),
            )
        seen[key] = planned.record
    unused = [a.published_name for key, a in aliases.items() if key not in used_aliases]
    if unused:
        summary.notes.append(f"Alias rows not used by this workbook: {', '.join(unused)}")
    return planned_providers, list(planned_icbs.values()), trusts


def _dma_notes(planned_providers: list[_Planned], trusts: dict[str, Trust], summary: ImportSummary) -> None:
    """Facts worth a look that are not errors: published ICB other than the host ICS (the published one is kept),
    published care settings the trust is not loaded with, and loaded trusts with no published return."""
    noted = set()
    for planned in planned_providers:
        trust, ics = planned.trust, planned.ics
        if trust.ics_id != ics.pk and trust.code not in noted:
            noted.add(trust.code)
            summary.notes.append(
                f"{trust.code} {trust.name}: published under {ics.code} {ics.name}, hosted by {trust.ics.code} "
                f"{trust.ics.name}; the published ICB is kept"
            )
        if planned.record.region_name.lower() != ics.region.name.lower():
            summary.notes.append(
                f"{planned.record.where}: region '{planned.record.region_name}' is not {ics.code}'s ({ics.region.name})"
            )
    loaded_settings = defaultdict(set)
    for trust_id, slug in Trust.care_settings.through.objects.values_list("trust_id", "caresetting_id"):
        loaded_settings[trust_id].add(slug)
    mismatched = defaultdict(list)
    for planned in planned_providers:
        if planned.record.care_setting not in loaded_settings[planned.trust.pk]:
            mismatched[planned.trust].append(planned.record.care_setting)
    for trust, settings in mismatched.items():
        summary.notes.append(f"{trust.code}: published for {', '.join(settings)}, not among its loaded care settings")
    published = {p.trust.code for p in planned_providers}
    missing = sorted(code for code, trust in trusts.items() if code not in published and trust.is_open)
    if missing:
        summary.notes.append(f"Loaded trusts with no published {PILLAR_YEAR} return: {', '.join(missing)}")


def _published_cycles(path: Path) -> dict[int, Cycle | None]:
    """The existing cycles of the workbook's years. A cycle collected here is never also published history."""
    years = sorted(OVERALL_COLUMNS)
    cycles = {year: None for year in years}
    for cycle in Cycle.objects.filter(year__in=years):
        if cycle.kind != CycleKind.PUBLISHED_HISTORY:
            raise PublishedImportError(path.name, f"cycle {cycle.year} exists and is collected here, not published")
        if cycle.assessments.exclude(source=Source.PUBLISHED).exists():
            raise PublishedImportError(path.name, f"cycle {cycle.year} holds assessments that were not published")
        cycles[cycle.year] = cycle
    return cycles


def _assessment_key(trust_id, care_setting_id, ics_id) -> tuple:
    return ("trust", trust_id, care_setting_id) if trust_id else ("ics", ics_id)


ASSESSMENT_FIELDS = ["ics_id", "region_id", "published_name", "source", "status", "framework_id", "is_demo"]


def _sync_assessments(cycle: Cycle, wanted: dict[tuple, dict]) -> tuple[dict[str, int], dict[tuple, int]]:
    """Make the cycle's published assessments exactly the wanted ones: create, update, keep, remove. Returns the
    counts and the primary key of each by its natural key. Upserting keeps the ids of unchanged assessments."""
    existing = {
        _assessment_key(a.trust_id, a.care_setting_id, a.ics_id): a for a in Assessment.objects.filter(cycle=cycle)
    }
    to_create, to_update = [], []
    for key, values in wanted.items():
        assessment = existing.get(key)
        if assessment is None:
            to_create.append(Assessment(cycle=cycle, **values))
        elif any(getattr(assessment, name) != values[name] for name in ASSESSMENT_FIELDS):
            for name in ASSESSMENT_FIELDS:
                setattr(assessment, name, values[name])
            to_update.append(assessment)
    stale = [a.pk for key, a in existing.items() if key not in wanted]
    Assessment.objects.bulk_create(to_create)
    Assessment.objects.bulk_update(to_update, ASSESSMENT_FIELDS)
    Assessment.objects.filter(pk__in=stale).delete()
    # Read the keys back rather than rely on bulk_create setting primary keys on every backend.
    ids = {
        _assessment_key(trust_id, setting_id, ics_id): pk
        for pk, trust_id, setting_id, ics_id in Assessment.objects.filter(cycle=cycle).values_list(
            "pk", "trust_id", "care_setting_id", "ics_id"
        )
    }
    counts = {
        "created": len(to_create),
        "updated": len(to_update),
        "unchanged": len(wanted) - len(to_create) - len(to_update),
        "removed": len(stale),
    }
    return counts, ids


def _write_dma(planned: list[_Planned], cycles: dict[int, Cycle | None]) -> dict[int, dict]:
    CareSetting.objects.ensure_all()
    Pillar.objects.ensure_all()
    pillars = {p.code: p.pk for p in Pillar.objects.all()}
    written = {}
    for year, cycle in cycles.items():
        if cycle is None:
            cycle = Cycle(year=year)
        cycle.kind = CycleKind.PUBLISHED_HISTORY
        cycle.state = CycleState.PUBLISHED
        cycle.trust_framework = cycle.ics_framework = None
        cycle.is_demo = False
        cycle.source_note = DMA_SOURCE_NOTE
        cycle.save()
        cycles[year] = cycle

        wanted, scores = {}, {}
        for p in planned:
            key = _assessment_key(p.trust.pk if p.trust else None, p.record.care_setting, p.ics.pk)
            wanted[key] = {
                "trust_id": p.trust.pk if p.trust else None,
                "care_setting_id": p.record.care_setting,
                "ics_id": p.ics.pk,
                "region_id": p.ics.region_id,
                "published_name": p.record.name,
                "source": Source.PUBLISHED,
                "status": Status.PUBLISHED,
                "framework_id": None,
                "is_demo": False,
            }
            year_scores = {None: p.record.overall[year]}
            if year == PILLAR_YEAR:
                year_scores.update(p.record.pillar_scores)
            scores[key] = year_scores
        counts, ids = _sync_assessments(cycle, wanted)
        # Scores are replaced wholesale: simpler than diffing, and nothing points at them.
        PublishedScore.objects.filter(assessment__cycle=cycle).delete()
        PublishedScore.objects.bulk_create(
            PublishedScore(assessment_id=ids[key], pillar_id=pillars[code] if code else None, score=score)
            for key, year_scores in scores.items()
            for code, score in year_scores.items()
        )
        counts["scores"] = sum(len(s) for s in scores.values())
        written[year] = counts
        refresh.mark(reason="import", cycle=cycle)
    return written


def import_published_dma(workbook: Path, aliases: Path, *, strict: bool = True, by=None) -> ImportSummary:
    """Import NHS England's published DMA results into the 2024 and 2025 cycles (published history): one
    assessment per provider × care setting and per ICB, with the 2025 pillar scores and the overall comparable
    scores of both years. Names are matched through the alias table; with strict, any unmatched name stops the
    import before anything is written. Running it again replaces the cycles' published assessments exactly."""
    workbook, aliases = Path(workbook), Path(aliases)
    alias_table = read_aliases(aliases)
    book = read_dma_workbook(workbook)
    _check_organisations_loaded(workbook.name)
    cycles = _published_cycles(workbook)

    summary = ImportSummary(f"DMA published results ({workbook.name})")
    planned_providers, planned_icbs, trusts = _match_dma(book, alias_table, aliases, summary)
    if summary.unmatched and strict:
        raise PublishedImportError(
            workbook.name,
            f"{len(summary.unmatched)} names match no loaded trust or ICB (add them to {aliases.name}): "
            + "; ".join(summary.unmatched),
        )
    _dma_notes(planned_providers, trusts, summary)

    by_setting = Counter(p.record.care_setting for p in planned_providers)
    summary.counts = {
        "provider_rows": len(book.providers),
        **{f"rows_{slug.replace('-', '_')}": by_setting[slug] for slug, _, _ in CareSetting.ALL},
        "providers": len({normalise_name(r.name) for r in book.providers}),
        "trusts_matched": len({p.trust.code for p in planned_providers}),
        "icbs": len(book.icbs),
        "icbs_matched": len(planned_icbs),
        "matched_by_alias": len(summary.matched),
        "unmatched": len(summary.unmatched),
    }
    facts = {**_file_facts(workbook), "aliases": _file_facts(aliases)}
    with transaction.atomic():
        written = _write_dma(planned_providers + planned_icbs, cycles)
        for year, counts in sorted(written.items()):
            summary.counts[f"assessments_{year}"] = sum(counts[k] for k in ("created", "updated", "unchanged"))
            summary.counts[f"scores_{year}"] = counts["scores"]
            summary.notes.append(
                f"Cycle {year}: {counts['created']} assessments created, {counts['updated']} updated, "
                f"{counts['unchanged']} unchanged, {counts['removed']} removed"
            )
        audit.record(
            by=by,
            action="import_dma",
            summary=(
                f"Imported the published DMA results: {summary.counts['provider_rows']} provider × care setting rows "
                f"and {summary.counts['icbs']} ICBs into cycles {', '.join(str(y) for y in sorted(written))}"
            ),
            cycle=cycles[max(cycles)],
            after={**facts, "counts": summary.counts, "cycles": {str(y): c for y, c in written.items()}},
        )
    return summary


# Importing DSPT status.


@dataclass(frozen=True)
class StatusValue:
    text: str  # without the edition prefix; empty when unknown
    edition: str | None  # from the prefix, None where the value has none
    is_unknown: bool


def parse_dspt_status(value: str, row, column: str) -> StatusValue:
    """'22/23 Standards Met' -> Standards Met of edition 22/23; a bare 'Not Published' has no edition; '#N/A' is
    unknown (kept, never dropped)."""
    value = _clean(value)
    if value in UNKNOWN_VALUES:
        return StatusValue("", None, True)
    prefixed = DSPT_PREFIX.fullmatch(value)
    edition, text = (prefixed.group(1), prefixed.group(2)) if prefixed else (None, value)
    canonical = {s.lower(): s for s in DSPT_STATUSES}.get(text.lower())
    if canonical is None:
        raise row.error(f"status '{value}' is not one of {', '.join(DSPT_STATUSES)} (after an edition prefix)", column)
    return StatusValue(canonical, edition, False)


def _file_edition(path: Path, statuses: list[StatusValue]) -> str:
    """The edition of the values without a prefix ('Not Published', '#N/A'): the edition most rows carry."""
    editions = Counter(s.edition for s in statuses if s.edition)
    if not editions:
        raise PublishedImportError(path.name, "no status carries an edition prefix such as '22/23'")
    return editions.most_common(1)[0][0]


@dataclass(frozen=True)
class DsptRecord:
    line: int
    code: str
    name: str
    status: StatusValue
    edition: str
    as_of: date


def read_dspt(path: Path) -> list[DsptRecord]:
    rows = _read_table(path, ["Code", "Organisation Name", "Status", "Date Of Publication"])
    snapshot = _date_in_file_name(path)
    statuses = [parse_dspt_status(row.values["Status"], row, "Status") for row in rows]
    edition = _file_edition(path, statuses)
    records = []
    for row, status in zip(rows, statuses, strict=True):
        published = row.values["Date Of Publication"]
        try:
            as_of = datetime.strptime(published, "%d/%m/%Y").date() if published else snapshot
        except ValueError:
            raise row.error(f"date '{published}' is not dd/mm/yyyy", "Date Of Publication") from None
        records.append(
            DsptRecord(
                row.line,
                row.code("Code", "code"),
                row.values["Organisation Name"],
                status,
                status.edition or edition,
                as_of,
            )
        )
    _check_unique(rows, [r.code for r in records], "code")
    return records


def _replace_published_values(values: list[IndicatorValue], trusts: bool) -> int:
    """Delete the published values of the same indicators and editions (for trusts or for ICSs), then write the
    new ones: a re-run replaces exactly what the last run wrote. Returns how many were replaced."""
    pairs = {(v.indicator_code, v.edition) for v in values}
    if not pairs:
        return 0
    match = Q()
    for code, edition in pairs:
        match |= Q(indicator_code=code, edition=edition)
    organisation = Q(trust__isnull=False) if trusts else Q(ics__isnull=False)
    replaced, _ = IndicatorValue.objects.filter(match, organisation, assessment__isnull=True).delete()
    IndicatorValue.objects.bulk_create(values)
    return replaced


def _status_counts(values: list[IndicatorValue]) -> str:
    counts = Counter("Unknown" if v.is_unknown else v.text for v in values)
    return ", ".join(f"{status} {counts[status]}" for status in (*DSPT_STATUSES, "Unknown") if counts[status])


def import_dspt(trusts_csv: Path, icbs_csv: Path, predecessors: Path | None = None, *, by=None) -> ImportSummary:
    """Import the published DSPT status of every trust and ICB as dspt_status indicator values of their edition.
    Codes that are not loaded trusts (Welsh, closed) are skipped and named; a closed predecessor is not mapped to
    its successor, since a DSPT status is an organisation's own return (the successor has its own row)."""
    trusts_csv, icbs_csv = Path(trusts_csv), Path(icbs_csv)
    trust_records = read_dspt(trusts_csv)
    icb_records = read_dspt(icbs_csv)
    successors = read_predecessors(Path(predecessors)) if predecessors else {}
    _check_organisations_loaded(trusts_csv.name)
    trusts = Trust.objects.in_bulk(field_name="code")
    icss = ICS.objects.in_bulk(field_name="code")
    if predecessors:
        _check_predecessor_successors(Path(predecessors), successors, trusts)

    summary = ImportSummary(f"DSPT status ({trusts_csv.name}, {icbs_csv.name})")
    trust_values, icb_values = [], []
    trust_codes = {r.code for r in trust_records}
    for file, records, organisations, values in [
        (trusts_csv, trust_records, trusts, trust_values),
        (icbs_csv, icb_records, icss, icb_values),
    ]:
        for record in records:
            organisation = organisations.get(record.code)
            if organisation is None:
                summary.skipped.append(
                    f"{file.name} line {record.line}: {record.code} {record.name}: "
                    + _dspt_skip_reason(record, successors, trust_codes, file is trusts_csv)
                )
                continue
            values.append(
                IndicatorValue(
                    indicator_code=DSPT_INDICATOR,
                    **({"trust": organisation} if file is trusts_csv else {"ics": organisation}),
                    text=record.status.text,
                    is_unknown=record.status.is_unknown,
                    source=Source.PUBLISHED,
                    edition=record.edition,
                    as_of=record.as_of,
                    source_note=file.name,
                )
            )
    missing = sorted(set(trusts) - {v.trust.code for v in trust_values})
    if missing:
        summary.notes.append(f"Loaded trusts with no DSPT row: {', '.join(missing)}")
    summary.counts = {
        "trust_rows": len(trust_records),
        "trusts_matched": len(trust_values),
        "icb_rows": len(icb_records),
        "icbs_matched": len(icb_values),
        "skipped": len(summary.skipped),
    }
    summary.notes.append(f"Trusts: {_status_counts(trust_values)}")
    summary.notes.append(f"ICBs: {_status_counts(icb_values)}")
    facts = {"trusts": _file_facts(trusts_csv), "icbs": _file_facts(icbs_csv)}
    with transaction.atomic():
        replaced = _replace_published_values(trust_values, trusts=True) + _replace_published_values(
            icb_values, trusts=False
        )
        summary.counts["values_written"] = len(trust_values) + len(icb_values)
        summary.counts["values_replaced"] = replaced
        audit.record(
            by=by,
            action="import_dspt",
            summary=f"Imported DSPT status of {len(trust_values)} trusts and {len(icb_values)} ICBs",
            after={**facts, "counts": summary.counts},
        )
        # A snapshot belongs to no cycle: every cycle's gap panels read it.
        refresh.mark(reason="import")
    return summary


def _dspt_skip_reason(record: DsptRecord, successors: dict[str, Predecessor], codes: set[str], trust_file: bool):
    if not trust_file:
        return "not a loaded ICB"
    successor = successors.get(record.code)
    if successor is None:
        return "not a loaded trust (Welsh, closed or unknown to the ODS files)"
    own_row = "which has its own row" if successor.ods_code in codes else "which has no row"
    return (
        f"closed: succeeded by {successor.ods_code} ({own_row}); a DSPT status is the organisation's own return, "
        "so it is not carried over"
    )


# Importing the legacy-IT device snapshot.


@dataclass(frozen=True)
class DeviceRecord:
    line: int
    code: str
    name: str
    devices: dict[str, int]  # indicator code -> count
    percent: float  # as published
    status: StatusValue


def _count(row: _CsvRow, column: str) -> int:
    value = row.values[column]
    try:
        number = float(value.replace(",", ""))
    except ValueError:
        raise row.error(f"'{value}' is not a number", column) from None
    if number < 0 or number != int(number):
        raise row.error(f"{value} is not a count (a whole number, 0 or more)", column)
    return int(number)


def read_legacy_devices(path: Path) -> tuple[list[DeviceRecord], str]:
    """The device snapshot's rows, and the DSPT edition of its statuses. The unnamed leading column and the
    'index' column are row numbers of an earlier export (not even unique) and are ignored."""
    rows = _read_table(path, ["ODS Code", "ODS Org Name", *LEGACY_COLUMNS.values(), LEGACY_PERCENT_COLUMN, "Status"])
    records = []
    for row in rows:
        devices = {code: _count(row, column) for code, column in LEGACY_COLUMNS.items()}
        try:
            percent = float(row.values[LEGACY_PERCENT_COLUMN])
        except ValueError:
            raise row.error(f"'{row.values[LEGACY_PERCENT_COLUMN]}' is not a number", LEGACY_PERCENT_COLUMN) from None
        if not 0 <= percent <= 100:
            raise row.error(f"{percent} is not a percentage (0 to 100)", LEGACY_PERCENT_COLUMN)
        windows10, unsupported = devices["windows10_devices"], devices["unsupported_windows10_devices"]
        if unsupported > windows10:
            raise row.error(
                f"{unsupported} unsupported devices of {windows10} Windows 10 devices",
                LEGACY_COLUMNS["unsupported_windows10_devices"],
            )
        if windows10 and abs(100 * unsupported / windows10 - percent) > PERCENT_TOLERANCE:
            raise row.error(f"{percent} % does not match {unsupported} of {windows10} devices", LEGACY_PERCENT_COLUMN)
        records.append(
            DeviceRecord(
                row.line,
                row.code("ODS Code", "ODS code"),
                row.values["ODS Org Name"],
                devices,
                percent,
                parse_dspt_status(row.values["Status"], row, "Status"),
            )
        )
    _check_unique(rows, [r.code for r in records], "ODS code")
    return records, _file_edition(path, [r.status for r in records])


def import_legacy_devices(csv_path: Path, predecessors: Path, *, by=None) -> ImportSummary:
    """Import the legacy-IT snapshot: per trust, Windows 10 devices, unsupported ones and their percentage,
    Windows 7 devices, and the DSPT status of its edition. Rows of predecessor codes are added to their
    successor's (counts summed, percentage recomputed); the DSPT status is only ever a trust's own."""
    csv_path, predecessors = Path(csv_path), Path(predecessors)
    records, dspt_edition = read_legacy_devices(csv_path)
    successors = read_predecessors(predecessors)
    as_of = _date_in_file_name(csv_path)
    edition = LEGACY_EDITION.format(date=as_of.isoformat())
    _check_organisations_loaded(csv_path.name)
    trusts = Trust.objects.in_bulk(field_name="code")
    _check_predecessor_successors(predecessors, successors, trusts)

    summary = ImportSummary(f"Legacy IT devices ({csv_path.name})")
    by_trust = defaultdict(list)  # trust code -> its rows, its own first
    for record in records:
        if record.code in trusts:
            by_trust[record.code].insert(0, record)
        elif record.code in successors:
            successor = successors[record.code]
            by_trust[successor.ods_code].append(record)
            summary.matched.append(
                f"{record.code} {record.name} -> {successor.ods_code} {trusts[successor.ods_code].name} "
                f"({successor.confidence} confidence)"
            )
        else:
            summary.unmatched.append(
                f"line {record.line}: {record.code} {record.name}: not a loaded trust or a known predecessor"
            )

    values = []
    unknown_statuses = []
    for code, rows in sorted(by_trust.items()):
        trust = trusts[code]
        devices = {name: sum(r.devices[name] for r in rows) for name in LEGACY_COLUMNS}
        windows10, unsupported = devices["windows10_devices"], devices["unsupported_windows10_devices"]
        combined = len(rows) > 1
        # A single row keeps its published percentage; combined rows recompute it from the summed counts.
        percent = rows[0].percent if not combined else (100 * unsupported / windows10 if windows10 else None)
        note = csv_path.name + (f" ({' + '.join(r.code for r in rows)} combined)" if combined else "")
        if combined:
            summary.combined.append(
                f"{code} {trust.name} = {' + '.join(r.code for r in rows)}: {windows10} Windows 10 devices, "
                f"{unsupported} unsupported ({percent:.1f} %), {devices['windows7_devices']} Windows 7"
            )
        common = {"trust": trust, "source": Source.PUBLISHED, "edition": edition, "as_of": as_of, "source_note": note}
        values += [IndicatorValue(indicator_code=name, number=count, **common) for name, count in devices.items()]
        values.append(
            IndicatorValue(
                indicator_code=LEGACY_PERCENT_INDICATOR, number=percent, is_unknown=percent is None, **common
            )
        )
        own = rows[0] if rows[0].code == code else None
        for other in rows[1 if own else 0 :]:
            shown = "#N/A" if other.status.is_unknown else other.status.text
            summary.notes.append(
                f"DSPT {dspt_edition} status of {other.code} ({shown}) not used: {code}'s own row sets it"
            )
        if own is None:
            summary.notes.append(f"{code} has no row of its own: no DSPT {dspt_edition} status")
            continue
        if own.status.is_unknown:
            unknown_statuses.append(code)
        values.append(
            IndicatorValue(
                indicator_code=DSPT_INDICATOR,
                trust=trust,
                text=own.status.text,
                is_unknown=own.status.is_unknown,
                source=Source.PUBLISHED,
                edition=own.status.edition or dspt_edition,
                as_of=as_of,
                source_note=csv_path.name,
            )
        )
    if unknown_statuses:
        summary.notes.append(
            f"DSPT {dspt_edition} status published as #N/A, kept as unknown: {', '.join(unknown_statuses)}"
        )
    summary.counts = {
        "rows": len(records),
        "trusts": len(by_trust),
        "rows_of_predecessors": len(summary.matched),
        "trusts_combined": len(summary.combined),
        "dspt_unknown": len(unknown_statuses),
        "unmatched": len(summary.unmatched),
    }
    facts = {**_file_facts(csv_path), "predecessors": _file_facts(predecessors)}
    with transaction.atomic():
        summary.counts["values_replaced"] = _replace_published_values(values, trusts=True)
        summary.counts["values_written"] = len(values)
        audit.record(
            by=by,
            action="import_legacy_devices",
            summary=f"Imported the {as_of.isoformat()} legacy-IT device snapshot for {len(by_trust)} trusts",
            after={**facts, "counts": summary.counts},
        )
        refresh.mark(reason="import")
    return summary


# Reading published results for pages.


def published_results_for_trust(trust: Trust) -> dict:
    """The trust's published DMA results for its page, in one query: for each care setting (in the usual order)
    the name and ICB it was published under, the pillar scores of the latest year that has them (in pillar order)
    and the overall comparable score of each year, with the change between the last two.

    {"pillar_year": 2025, "years": [2024, 2025], "settings": [{"slug", "name", "published_name", "ics_code",
    "ics_name", "pillars": [{"code", "name", "score"}], "overall": [{"year", "score"}], "change"}]}
    """
    rows = (
        PublishedScore.objects.filter(
            assessment__trust=trust, assessment__source=Source.PUBLISHED, assessment__status=Status.PUBLISHED
        )
        .order_by("assessment__care_setting__position", "assessment__cycle__year", "pillar__position")
        .values_list(
            "assessment__care_setting__slug",
            "assessment__care_setting__name",
            "assessment__cycle__year",
            "assessment__published_name",
            "assessment__ics__code",
            "assessment__ics__name",
            "pillar__code",
            "pillar__name",
            "score",
        )
    )
    settings = {}
    pillars = defaultdict(list)  # (setting, year) -> pillar scores in pillar order
    for slug, name, year, published_name, ics_code, ics_name, pillar_code, pillar_name, score in rows:
        # Rows come in year order, so the latest year's names win.
        setting = settings.setdefault(slug, {"slug": slug, "name": name, "overall": {}})
        setting.update(published_name=published_name, ics_code=ics_code, ics_name=ics_name)
        if pillar_code is None:
            setting["overall"][year] = score
        else:
            pillars[(slug, year)].append({"code": pillar_code, "name": pillar_name, "score": score})
    pillar_year = max((year for _, year in pillars), default=None)
    years = sorted({year for setting in settings.values() for year in setting["overall"]})
    for slug, setting in settings.items():
        overall = setting["overall"]
        setting["pillars"] = pillars.get((slug, pillar_year), [])
        setting["overall"] = [{"year": year, "score": overall[year]} for year in sorted(overall)]
        latest = sorted(overall)[-2:]
        setting["change"] = round(overall[latest[1]] - overall[latest[0]], 3) if len(latest) == 2 else None
    return {"pillar_year": pillar_year, "years": years, "settings": list(settings.values())}
