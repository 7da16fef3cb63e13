"""Load the NHS organisations (regions, ICSs, trusts) from the ODS files in fixtures/ods/.

Two stages. Reading parses each file into plain records, validating as it goes, and touches no database:
any problem raises LoadError naming the file and line. Loading then upserts the records by ODS code in one
transaction, so a load writes everything or nothing, and a second load of the same files changes nothing.

The trusts are those of the host-ICB mapping (the ICB financial apportionment), each attached to its host ICS.
etr.csv adds address and dates where it has the trust; trusts_reference_2023.csv adds type, care settings and
location; overrides.csv holds the few curated facts the published files lack, each with a note saying why.
"""

import csv
import re
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from trusts.models import ICS, CareSetting, Region, Trust, TrustType

# The cache key of a token that names the organisations as last loaded (pages key their organisation parts by it).
ORGANISATIONS_TOKEN = "organisations-token"


def organisations_token() -> str:
    """Names the organisations as last loaded: load_organisations sets a new one, and a token the cache lost is
    replaced by a new random one, never an earlier value, so pages kept under it are never stale."""
    token = cache.get(ORGANISATIONS_TOKEN)
    if token is None:
        cache.add(ORGANISATIONS_TOKEN, uuid.uuid4().hex, timeout=None)
        token = cache.get(ORGANISATIONS_TOKEN)
    return token


REGIONS_FILE = "regions_2023.csv"
ICBS_FILE = "icbs_2023.csv"
ETR_FILE = "etr.csv"
MAPPING_FILE = "icb_financial_apportionment_2023-08.csv"
REFERENCE_FILE = "trusts_reference_2023.csv"
OVERRIDES_FILE = "overrides.csv"

# The apportionment sheet opens with three title rows.
MAPPING_HEADER_LINE = 4

# etr.csv has no header: the ODS standard layout, by position (0-based).
ETR_COLUMNS = {
    "code": 0,
    "name": 1,
    "region": 2,
    "geographic_icb": 3,
    "address_1": 4,
    "address_2": 5,
    "address_3": 6,
    "address_4": 7,
    "address_5": 8,
    "postcode": 9,
    "open_date": 10,
    "close_date": 11,
}
ETR_ADDRESS_COLUMNS = ["address_1", "address_2", "address_3", "address_4", "address_5"]

# ERIC 2021/22 splits acute trusts by size and teaching status; the product only tells specialists apart.
ERIC_TRUST_TYPES = {
    "ACUTE - SPECIALIST": TrustType.ACUTE_SPECIALIST,
    "MENTAL HEALTH AND LEARNING DISABILITY": TrustType.MENTAL_HEALTH,
    "COMMUNITY": TrustType.COMMUNITY,
    "AMBULANCE": TrustType.AMBULANCE,
    "CARE TRUST": TrustType.CARE_TRUST,
}
ERIC_ACUTE_PREFIX = "ACUTE - "

DMA_CARE_SETTINGS = {
    "Acute": CareSetting.ACUTE,
    "Community": CareSetting.COMMUNITY,
    "Mental Health": CareSetting.MENTAL_HEALTH,
    "Ambulance": CareSetting.AMBULANCE,
}

# For the trusts without a DMA 2025 return (new, merged or renamed since), the settings their type implies.
CARE_SETTINGS_BY_TYPE = {
    TrustType.ACUTE: frozenset({CareSetting.ACUTE}),
    TrustType.ACUTE_SPECIALIST: frozenset({CareSetting.ACUTE}),
    TrustType.MENTAL_HEALTH: frozenset({CareSetting.MENTAL_HEALTH}),
    TrustType.COMMUNITY: frozenset({CareSetting.COMMUNITY}),
    TrustType.AMBULANCE: frozenset({CareSetting.AMBULANCE}),
    TrustType.CARE_TRUST: frozenset({CareSetting.COMMUNITY, CareSetting.MENTAL_HEALTH}),
}

# Fields overrides.csv may set; anything else is an error rather than silently ignored.
OVERRIDABLE_FIELDS = {"trust_type"}

WELSH_REGION = "W00"

ODS_CODE_3 = re.compile(r"[A-Z0-9]{3}")
ODS_TRUST_CODE = re.compile(r"[A-Z0-9]{3,5}")
ONS_CODE = re.compile(r"E\d{8}")

# A box around England: a point outside it means swapped or mistyped coordinates.
LATITUDE_RANGE = (49.5, 56.0)
LONGITUDE_RANGE = (-6.5, 2.0)


class LoadError(Exception):
    """A source file is missing or malformed; the message names the file, the 1-based line and the problem."""

    def __init__(self, file: str, line: int | None, problem: str):
        self.file = file
        self.line = line
        self.problem = problem
        where = f"{file} line {line}" if line else file
        super().__init__(f"{where}: {problem}")


# Records: what each file says, validated.


@dataclass(frozen=True)
class RegionRecord:
    code: str
    ons_code: str
    name: str


@dataclass(frozen=True)
class ICSRecord:
    code: str
    ons_code: str
    name: str
    region_code: str


@dataclass(frozen=True)
class EtrRecord:
    code: str
    name: str
    region_code: str
    geographic_icb_code: str
    address: str
    postcode: str
    opened_on: date | None
    closed_on: date | None


@dataclass(frozen=True)
class HostRecord:
    """A trust of the host-ICB mapping."""

    line: int
    code: str
    name: str
    icb_code: str


@dataclass(frozen=True)
class ReferenceRecord:
    line: int
    code: str
    eric_type: str
    trust_type: str | None  # None where ERIC gives no type: an override must supply it
    care_settings: frozenset[str]  # empty where the trust has no DMA 2025 return
    latitude: float | None
    longitude: float | None


@dataclass(frozen=True)
class OverrideRecord:
    line: int
    code: str
    field: str
    value: str
    note: str


@dataclass(frozen=True)
class TrustRecord:
    """A trust as the database should hold it, combined from all the files."""

    code: str
    name: str
    trust_type: str
    eric_type: str
    ics_code: str
    geographic_ics_code: str | None
    care_settings: frozenset[str]
    care_settings_derived: bool
    address: str
    postcode: str
    latitude: float | None
    longitude: float | None
    opened_on: date | None
    closed_on: date | None


@dataclass(frozen=True)
class SkippedTrust:
    code: str
    name: str
    reason: str


@dataclass(frozen=True)
class OrganisationFiles:
    """Everything the files say, validated and combined, ready to load."""

    regions: list[RegionRecord]
    icss: list[ICSRecord]
    trusts: list[TrustRecord]
    skipped: list[SkippedTrust]
    etr: dict[str, EtrRecord]
    overrides: list[OverrideRecord]


# Summary of a load.


@dataclass
class KindCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    closed: int = 0


@dataclass
class LoadSummary:
    regions: KindCounts
    icss: KindCounts
    trusts: KindCounts
    skipped: list[SkippedTrust]
    closed_trusts: list[str]  # codes of the trusts this load closed
    derived_care_settings: list[str]  # codes of the trusts whose care settings come from their type
    overrides: list[OverrideRecord]
    # Regions and ICSs in the database but no longer in the files: kept, as trusts may point at them.
    retained: list[str]

    def lines(self) -> list[str]:
        lines = [
            _counts_line("Regions", self.regions),
            _counts_line("ICSs", self.icss),
            _counts_line("Trusts", self.trusts) + f", {self.trusts.closed} closed",
        ]
        if self.closed_trusts:
            lines.append(f"Closed (no longer in the host-ICB mapping): {', '.join(self.closed_trusts)}")
        if self.retained:
            lines.append(f"Kept though no longer in the files: {', '.join(self.retained)}")
        for override in self.overrides:
            lines.append(f"Override from {OVERRIDES_FILE}: {override.code} {override.field} = {override.value}")
        if self.derived_care_settings:
            lines.append(
                f"Care settings derived from the trust type (no DMA 2025 return) for "
                f"{len(self.derived_care_settings)} trusts: {', '.join(self.derived_care_settings)}"
            )
        lines.append(f"Skipped {len(self.skipped)} trusts of {ETR_FILE}:")
        lines.extend(f"  {s.code} {s.name}: {s.reason}" for s in self.skipped)
        return lines


def _counts_line(label: str, counts: KindCounts) -> str:
    return f"{label}: {counts.created} created, {counts.updated} updated, {counts.unchanged} unchanged"


# Reading files.


@dataclass(frozen=True)
class _Row:
    """One data row of a file, by column name, that knows where it came from for its error messages."""

    file: str
    line: int
    values: dict[str, str]

    def error(self, problem: str) -> LoadError:
        return LoadError(self.file, self.line, problem)

    def text(self, column: str, what: str, max_length: int, required: bool = True) -> str:
        value = self.values[column]
        if required and not value:
            raise self.error(f"empty {what}")
        if len(value) > max_length:
            raise self.error(f"{what} is longer than {max_length} characters")
        return value

    def code(self, column: str, what: str, pattern: re.Pattern) -> str:
        value = self.values[column]
        if not value:
            raise self.error(f"empty {what}")
        if not pattern.fullmatch(value):
            raise self.error(f"{what} '{value}' is not a valid code")
        return value

    def date(self, column: str, what: str) -> date | None:
        value = self.values[column]
        if not value:
            return None
        try:
            if not value.isdigit():
                raise ValueError
            return datetime.strptime(value, "%Y%m%d").date()
        except ValueError:
            raise self.error(f"{what} '{value}' is not YYYYMMDD") from None

    def coordinate(self, column: str, what: str, bounds: tuple[float, float]) -> float | None:
        value = self.values[column]
        if not value:
            return None
        try:
            number = float(value)
        except ValueError:
            raise self.error(f"{what} '{value}' is not a number") from None
        low, high = bounds
        if not low <= number <= high:
            raise self.error(f"{what} {value} is outside England ({low} to {high})")
        return number


def _read_csv(path: Path) -> list[tuple[int, list[str]]]:
    """Each row with the 1-based line it ends on. utf-8-sig drops a BOM; newline="" lets csv handle CRLF."""
    if not path.is_file():
        raise LoadError(path.name, None, f"file not found in {path.parent}")
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            reader = csv.reader(f)
            return [(reader.line_num, [value.strip() for value in row]) for row in reader]
    except UnicodeDecodeError as e:
        raise LoadError(path.name, None, f"not UTF-8 text ({e})") from None
    except csv.Error as e:
        raise LoadError(path.name, reader.line_num, f"not valid CSV ({e})") from None


def _rows(path: Path, columns: dict[str, int], first_line: int) -> list[_Row]:
    """The non-blank rows from first_line on, as _Rows of the given columns (name -> 0-based position)."""
    needed = max(columns.values()) + 1
    rows = []
    for line, values in _read_csv(path):
        if line < first_line or not any(values):
            continue
        if len(values) < needed:
            raise LoadError(path.name, line, f"{len(values)} fields where at least {needed} are expected")
        rows.append(_Row(path.name, line, {name: values[i] for name, i in columns.items()}))
    return rows


def _table(path: Path, columns: list[str], header_line: int = 1) -> list[_Row]:
    """The rows under a header row, by column name; a missing column is an error on the header line."""
    header = next((values for line, values in _read_csv(path) if line == header_line), None)
    if header is None:
        raise LoadError(path.name, header_line, "no header row")
    for column in columns:
        if column not in header:
            raise LoadError(path.name, header_line, f"missing column '{column}'")
    return _rows(path, {column: header.index(column) for column in columns}, header_line + 1)


def _check_unique(rows: list[_Row], values: list[str], what: str) -> None:
    first_line = {}
    for row, value in zip(rows, values, strict=True):
        if value in first_line:
            raise row.error(f"duplicate {what} '{value}' (first on line {first_line[value]})")
        first_line[value] = row.line


def read_regions(path: Path) -> list[RegionRecord]:
    rows = _table(path, ["region_ods_code", "region_ons_code", "region_name"])
    regions = [
        RegionRecord(
            code=row.code("region_ods_code", "region code", ODS_CODE_3),
            ons_code=row.code("region_ons_code", "region ONS code", ONS_CODE),
            name=row.text("region_name", "region name", Region._meta.get_field("name").max_length),
        )
        for row in rows
    ]
    _check_unique(rows, [r.code for r in regions], "region code")
    _check_unique(rows, [r.ons_code for r in regions], "region ONS code")
    return regions


def read_icss(path: Path, region_codes: set[str]) -> list[ICSRecord]:
    rows = _table(path, ["icb_ods_code", "icb_ons_code", "icb_name", "region_ods_code"])
    icss = []
    for row in rows:
        region_code = row.code("region_ods_code", "region code", ODS_CODE_3)
        if region_code not in region_codes:
            raise row.error(f"region code '{region_code}' is not a known region")
        icss.append(
            ICSRecord(
                code=row.code("icb_ods_code", "ICB code", ODS_CODE_3),
                ons_code=row.code("icb_ons_code", "ICB ONS code", ONS_CODE),
                name=row.text("icb_name", "ICB name", ICS._meta.get_field("name").max_length),
                region_code=region_code,
            )
        )
    _check_unique(rows, [i.code for i in icss], "ICB code")
    _check_unique(rows, [i.ons_code for i in icss], "ICB ONS code")
    return icss


def read_etr(path: Path) -> dict[str, EtrRecord]:
    """All trusts of the extract by code, Welsh and closed ones included: which to load is decided later."""
    rows = _rows(path, ETR_COLUMNS, first_line=1)
    records = [_etr_record(row) for row in rows]
    _check_unique(rows, [r.code for r in records], "trust code")
    return {r.code: r for r in records}


def _etr_record(row: _Row) -> EtrRecord:
    address = ", ".join(row.values[column] for column in ETR_ADDRESS_COLUMNS if row.values[column])
    if len(address) > Trust._meta.get_field("address").max_length:
        raise row.error("address is longer than the database allows")
    return EtrRecord(
        code=row.code("code", "trust code", ODS_TRUST_CODE),
        name=row.text("name", "trust name", Trust._meta.get_field("name").max_length),
        region_code=row.values["region"],
        geographic_icb_code=row.values["geographic_icb"],
        address=address,
        postcode=row.text("postcode", "postcode", Trust._meta.get_field("postcode").max_length, required=False),
        opened_on=row.date("open_date", "open date"),
        closed_on=row.date("close_date", "close date"),
    )


def read_host_mapping(path: Path, icb_codes: set[str]) -> list[HostRecord]:
    rows = _table(path, ["ODS ICB Code", "NHS Trusts", "ODS Trust Code"], header_line=MAPPING_HEADER_LINE)
    hosts = []
    for row in rows:
        icb_code = row.code("ODS ICB Code", "ICB code", ODS_CODE_3)
        if icb_code not in icb_codes:
            raise row.error(f"ICB code '{icb_code}' is not a known ICB")
        hosts.append(
            HostRecord(
                line=row.line,
                code=row.code("ODS Trust Code", "trust code", ODS_TRUST_CODE),
                name=row.text("NHS Trusts", "trust name", Trust._meta.get_field("name").max_length),
                icb_code=icb_code,
            )
        )
    _check_unique(rows, [h.code for h in hosts], "trust code")
    return hosts


def _trust_type(row: _Row, eric_type: str) -> str | None:
    if not eric_type:
        return None
    if eric_type in ERIC_TRUST_TYPES:
        return ERIC_TRUST_TYPES[eric_type]
    if eric_type.startswith(ERIC_ACUTE_PREFIX):
        return TrustType.ACUTE
    raise row.error(f"ERIC trust type '{eric_type}' is not a known type")


def _care_settings(row: _Row, names: str) -> frozenset[str]:
    settings = set()
    for name in filter(None, (name.strip() for name in names.split(";"))):
        if name not in DMA_CARE_SETTINGS:
            raise row.error(f"care setting '{name}' is not one of {', '.join(DMA_CARE_SETTINGS)}")
        settings.add(DMA_CARE_SETTINGS[name])
    return frozenset(settings)


def read_trust_reference(path: Path) -> dict[str, ReferenceRecord]:
    columns = ["ods_code", "eric_trust_type_2021_22", "dma_2025_care_settings", "lat", "long"]
    rows = _table(path, columns)
    records = []
    for row in rows:
        eric_type = row.text(
            "eric_trust_type_2021_22",
            "ERIC trust type",
            Trust._meta.get_field("eric_type").max_length,
            required=False,
        )
        latitude = row.coordinate("lat", "latitude", LATITUDE_RANGE)
        longitude = row.coordinate("long", "longitude", LONGITUDE_RANGE)
        if (latitude is None) != (longitude is None):
            raise row.error("latitude and longitude must be given together")
        records.append(
            ReferenceRecord(
                line=row.line,
                code=row.code("ods_code", "trust code", ODS_TRUST_CODE),
                eric_type=eric_type,
                trust_type=_trust_type(row, eric_type),
                care_settings=_care_settings(row, row.values["dma_2025_care_settings"]),
                latitude=latitude,
                longitude=longitude,
            )
        )
    _check_unique(rows, [r.code for r in records], "trust code")
    return {r.code: r for r in records}


def read_overrides(path: Path) -> list[OverrideRecord]:
    rows = _table(path, ["ods_code", "field", "value", "note"])
    overrides = []
    for row in rows:
        override = OverrideRecord(
            line=row.line,
            code=row.code("ods_code", "trust code", ODS_TRUST_CODE),
            field=row.text("field", "field", max_length=30),
            value=row.text("value", "value", max_length=30),
            note=row.text("note", "note (say why the files are overridden)", max_length=1000),
        )
        if override.field not in OVERRIDABLE_FIELDS:
            raise row.error(f"field '{override.field}' cannot be overridden (only {', '.join(OVERRIDABLE_FIELDS)})")
        if override.field == "trust_type" and override.value not in TrustType.values:
            raise row.error(f"trust type '{override.value}' is not one of {', '.join(TrustType.values)}")
        overrides.append(override)
    _check_unique(rows, [f"{o.code} {o.field}" for o in overrides], "override")
    return overrides


def _skip_reason(record: EtrRecord, region_codes: set[str]) -> str:
    if record.region_code == WELSH_REGION:
        return f"Welsh (region {WELSH_REGION})"
    if record.region_code not in region_codes:
        return f"not an English region ({record.region_code or 'none'})"
    if record.closed_on:
        return f"closed on {record.closed_on.isoformat()}"
    return "not in the host-ICB mapping"


def combine_trusts(
    hosts: list[HostRecord],
    etr: dict[str, EtrRecord],
    reference: dict[str, ReferenceRecord],
    overrides: list[OverrideRecord],
    region_codes: set[str],
    icb_codes: set[str],
) -> tuple[list[TrustRecord], list[SkippedTrust]]:
    """The trusts of the host mapping with the other files' details, and the etr trusts left out (and why)."""
    host_codes = {host.code for host in hosts}
    type_overrides = {}
    for override in overrides:
        if override.code not in host_codes:
            raise LoadError(OVERRIDES_FILE, override.line, f"trust '{override.code}' is not in {MAPPING_FILE}")
        type_overrides[override.code] = override.value

    trusts = []
    for host in hosts:
        ref = reference.get(host.code)
        if ref is None:
            raise LoadError(REFERENCE_FILE, None, f"no row for trust '{host.code}' ({MAPPING_FILE} line {host.line})")
        trust_type = type_overrides.get(host.code) or ref.trust_type
        if trust_type is None:
            raise LoadError(
                REFERENCE_FILE,
                ref.line,
                f"trust '{host.code}' has no ERIC trust type: add a trust_type row to {OVERRIDES_FILE}",
            )
        details = etr.get(host.code)
        geographic = details.geographic_icb_code if details else None
        if geographic == host.icb_code or geographic not in icb_codes:
            geographic = None
        trusts.append(
            TrustRecord(
                code=host.code,
                name=host.name,
                trust_type=trust_type,
                eric_type=ref.eric_type,
                ics_code=host.icb_code,
                geographic_ics_code=geographic,
                care_settings=ref.care_settings or CARE_SETTINGS_BY_TYPE[trust_type],
                care_settings_derived=not ref.care_settings,
                address=details.address if details else "",
                postcode=details.postcode if details else "",
                latitude=ref.latitude,
                longitude=ref.longitude,
                opened_on=details.opened_on if details else None,
                closed_on=details.closed_on if details else None,
            )
        )
    skipped = [
        SkippedTrust(record.code, record.name, _skip_reason(record, region_codes))
        for record in etr.values()
        if record.code not in host_codes
    ]
    return trusts, skipped


def read_organisation_files(directory: Path) -> OrganisationFiles:
    """Read and validate every file; raises LoadError on the first problem. Touches no database."""
    directory = Path(directory)
    regions = read_regions(directory / REGIONS_FILE)
    region_codes = {r.code for r in regions}
    icss = read_icss(directory / ICBS_FILE, region_codes)
    icb_codes = {i.code for i in icss}
    etr = read_etr(directory / ETR_FILE)
    hosts = read_host_mapping(directory / MAPPING_FILE, icb_codes)
    reference = read_trust_reference(directory / REFERENCE_FILE)
    overrides = read_overrides(directory / OVERRIDES_FILE)
    trusts, skipped = combine_trusts(hosts, etr, reference, overrides, region_codes, icb_codes)
    return OrganisationFiles(regions, icss, trusts, skipped, etr, overrides)


# Loading into the database.


@dataclass
class _Upserted:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    by_code: dict = field(default_factory=dict)  # every row of the table after the upsert, by code


def _upsert(model, wanted: dict[str, dict]) -> _Upserted:
    """Create or update model rows by code to hold the wanted field values; rows not wanted are left alone."""
    existing = model.objects.in_bulk(field_name="code")
    result = _Upserted()
    to_create, to_update, changed_fields = [], [], set()
    for code, values in wanted.items():
        obj = existing.get(code)
        if obj is None:
            to_create.append(model(code=code, **values))
            result.created.append(code)
            continue
        changed = {name for name, value in values.items() if getattr(obj, name) != value}
        if not changed:
            result.unchanged.append(code)
            continue
        for name in changed:
            setattr(obj, name, values[name])
        to_update.append(obj)
        changed_fields |= changed
        result.updated.append(code)
    model.objects.bulk_create(to_create)
    if to_update:
        model.objects.bulk_update(to_update, sorted(changed_fields))
    # Read back rather than trust bulk_create to have set primary keys: not every backend returns them.
    result.by_code = model.objects.in_bulk(field_name="code") if to_create else existing
    return result


def _counts(result: _Upserted) -> KindCounts:
    return KindCounts(created=len(result.created), updated=len(result.updated), unchanged=len(result.unchanged))


def _set_care_settings(trusts: list[TrustRecord], by_code: dict[str, Trust]) -> set[str]:
    """Give each trust the care settings wanted; returns the codes of the trusts whose settings changed."""
    through = Trust.care_settings.through
    current = defaultdict(set)
    for trust_id, slug in through.objects.values_list("trust_id", "caresetting_id"):
        current[trust_id].add(slug)
    changed = [record for record in trusts if current[by_code[record.code].pk] != record.care_settings]
    through.objects.filter(trust_id__in=[by_code[r.code].pk for r in changed]).delete()
    through.objects.bulk_create(
        through(trust_id=by_code[r.code].pk, caresetting_id=slug) for r in changed for slug in sorted(r.care_settings)
    )
    return {record.code for record in changed}


def _close_missing_trusts(files: OrganisationFiles, by_code: dict[str, Trust], today: date) -> list[str]:
    """Close the open trusts that are no longer in the mapping: history points at them, so never delete."""
    wanted = {t.code for t in files.trusts}
    to_close = []
    for code, trust in sorted(by_code.items()):
        if code in wanted or trust.closed_on is not None:
            continue
        details = files.etr.get(code)
        trust.closed_on = details.closed_on if details and details.closed_on else today
        to_close.append(trust)
    Trust.objects.bulk_update(to_close, ["closed_on"])
    return [trust.code for trust in to_close]


def _trust_fields(record: TrustRecord, icss_by_code: dict[str, ICS]) -> dict:
    geographic = icss_by_code[record.geographic_ics_code].pk if record.geographic_ics_code else None
    return {
        "name": record.name,
        "trust_type": record.trust_type,
        "eric_type": record.eric_type,
        "ics_id": icss_by_code[record.ics_code].pk,
        "geographic_ics_id": geographic,
        "care_settings_derived": record.care_settings_derived,
        "address": record.address,
        "postcode": record.postcode,
        "latitude": record.latitude,
        "longitude": record.longitude,
        "opened_on": record.opened_on,
        "closed_on": record.closed_on,
    }


def load_organisations(directory: Path, *, today: date | None = None) -> LoadSummary:
    """Read the ODS files in directory and upsert regions, ICSs and trusts by code, all in one transaction.

    Raises LoadError, having written nothing, if any file is missing or malformed. today is the closing date
    of trusts that left the mapping and have no close date in etr.csv (default: the local date).
    """
    files = read_organisation_files(directory)
    today = today or timezone.localdate()
    with transaction.atomic():
        CareSetting.objects.ensure_all()
        regions = _upsert(Region, {r.code: {"ons_code": r.ons_code, "name": r.name} for r in files.regions})
        icss = _upsert(
            ICS,
            {
                i.code: {
                    "ons_code": i.ons_code,
                    "name": i.name,
                    "region_id": regions.by_code[i.region_code].pk,
                }
                for i in files.icss
            },
        )
        trusts = _upsert(Trust, {t.code: _trust_fields(t, icss.by_code) for t in files.trusts})
        settings_changed = _set_care_settings(files.trusts, trusts.by_code)
        closed = _close_missing_trusts(files, trusts.by_code, today)
        # Pages cache their organisation parts under this token: a new one once the new organisations are in.
        transaction.on_commit(lambda: cache.set(ORGANISATIONS_TOKEN, uuid.uuid4().hex, timeout=None))

    # A trust whose only change is its care settings is updated too.
    trusts.updated += [code for code in trusts.unchanged if code in settings_changed]
    trusts.unchanged = [code for code in trusts.unchanged if code not in settings_changed]
    trust_counts = _counts(trusts)
    trust_counts.closed = len(closed)

    retained = sorted(set(regions.by_code) - {r.code for r in files.regions}) + sorted(
        set(icss.by_code) - {i.code for i in files.icss}
    )
    return LoadSummary(
        regions=_counts(regions),
        icss=_counts(icss),
        trusts=trust_counts,
        skipped=files.skipped,
        closed_trusts=closed,
        derived_care_settings=sorted(t.code for t in files.trusts if t.care_settings_derived),
        overrides=files.overrides,
        retained=retained,
    )
