import csv
import io
import shutil
from datetime import date
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from trusts.models import ICS, CareSetting, Region, Trust, TrustType
from trusts.ods import (
    ETR_FILE,
    ICBS_FILE,
    MAPPING_FILE,
    OVERRIDES_FILE,
    REFERENCE_FILE,
    REGIONS_FILE,
    LoadError,
    load_organisations,
)

ODS_DIR = Path(settings.BASE_DIR) / "fixtures" / "ods"

pytestmark = pytest.mark.django_db


@pytest.fixture
def ods_copy(tmp_path):
    """A copy of the real files to break or change."""
    directory = tmp_path / "ods"
    shutil.copytree(ODS_DIR, directory)
    return directory


@pytest.fixture
def loaded():
    return load_organisations(ODS_DIR)


# Editing a copy of a file one line at a time, keeping its encoding, quoting and line endings.


def read_lines(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as f:
        return f.read().splitlines(keepends=True)


def write_lines(path: Path, lines: list[str]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write("".join(lines))


def line_of(path: Path, code: str) -> int:
    """The 1-based line of the row that has code as one of its fields."""
    for number, line in enumerate(read_lines(path), start=1):
        if code in next(csv.reader([line])):
            return number
    raise AssertionError(f"{code} not in {path.name}")


def fields_of(path: Path, line: int) -> list[str]:
    return next(csv.reader([read_lines(path)[line - 1]]))


def set_fields(path: Path, line: int, **changes: str) -> None:
    """Set fields of one line by 0-based position, given as f0=..., f3=..."""
    lines = read_lines(path)
    fields = fields_of(path, line)
    for key, value in changes.items():
        fields[int(key.removeprefix("f"))] = value
    ending = lines[line - 1][len(lines[line - 1].rstrip("\r\n")) :]
    quoting = csv.QUOTE_ALL if lines[line - 1].startswith('"') else csv.QUOTE_MINIMAL
    out = io.StringIO()
    csv.writer(out, quoting=quoting, lineterminator=ending).writerow(fields)
    lines[line - 1] = out.getvalue()
    write_lines(path, lines)


def drop_line(path: Path, line: int) -> None:
    lines = read_lines(path)
    del lines[line - 1]
    write_lines(path, lines)


def database_state():
    through = Trust.care_settings.through
    return (
        list(Region.objects.order_by("code").values_list()),
        list(ICS.objects.order_by("code").values_list()),
        list(Trust.objects.order_by("code").values_list()),
        list(through.objects.order_by("trust_id", "caresetting_id").values_list("trust_id", "caresetting_id")),
    )


def care_settings(code: str) -> set[str]:
    return set(Trust.objects.get(code=code).care_settings.values_list("slug", flat=True))


# Loading the real files.


def test_loads_the_regions_icss_and_trusts_of_the_host_mapping(loaded):
    assert (Region.objects.count(), ICS.objects.count(), Trust.objects.count()) == (7, 42, 210)
    assert (loaded.regions.created, loaded.icss.created, loaded.trusts.created) == (7, 42, 210)
    assert not Trust.objects.filter(closed_on__isnull=False).exists()


def test_a_trust_belongs_to_its_host_ics_and_that_ics_to_its_region(loaded):
    trust = Trust.objects.select_related("ics__region").get(code="R0A")
    assert trust.name == "Manchester University NHS Foundation Trust"
    assert (trust.ics.code, trust.ics.short_name) == ("QOP", "Greater Manchester")
    assert (trust.ics.region.code, trust.ics.region.name) == ("Y62", "North West")
    assert (trust.trust_type, trust.eric_type) == (TrustType.ACUTE, "ACUTE - TEACHING")
    assert care_settings("R0A") == {CareSetting.ACUTE, CareSetting.COMMUNITY}
    assert not trust.care_settings_derived
    assert trust.geographic_ics is None


def test_a_trust_gets_its_details_from_etr(loaded):
    trust = Trust.objects.get(code="R0A")
    assert trust.address == "COBBETT HOUSE, OXFORD ROAD, MANCHESTER"
    assert trust.postcode == "M13 9WL"
    assert trust.opened_on == date(2017, 10, 1)
    assert trust.closed_on is None
    assert trust.latitude == pytest.approx(53.46244)
    assert trust.longitude == pytest.approx(-2.22771)


def test_a_trust_hosted_outside_its_area_has_a_geographic_ics(loaded):
    ambulance = Trust.objects.get(code="RX7")
    assert ambulance.trust_type == TrustType.AMBULANCE
    assert ambulance.ics.code == "QE1"  # Lancashire and South Cumbria hosts it
    assert ambulance.geographic_ics.code == "QOP"  # its headquarters are in Greater Manchester
    assert Trust.objects.filter(geographic_ics__isnull=False).count() == 14


def test_a_care_trust_has_its_dma_care_settings(loaded):
    trust = Trust.objects.get(code="TAD")
    assert (trust.name, trust.trust_type, trust.ics.code) == (
        "Bradford District Care NHS Foundation Trust",
        TrustType.CARE_TRUST,
        "QWO",
    )
    assert care_settings("TAD") == {CareSetting.COMMUNITY, CareSetting.MENTAL_HEALTH}
    assert not trust.care_settings_derived
    assert trust.address == ""  # not in etr


def test_care_settings_come_from_the_type_where_the_dma_has_none(loaded):
    assert Trust.objects.get(code="TAF").care_settings_derived
    assert care_settings("TAF") == {CareSetting.COMMUNITY, CareSetting.MENTAL_HEALTH}
    assert care_settings("RAP") == {CareSetting.ACUTE}
    assert Trust.objects.filter(care_settings_derived=True).count() == len(loaded.derived_care_settings) == 10


def test_the_override_types_dudley_integrated_health_and_care_as_community(loaded):
    trust = Trust.objects.get(code="RYK")
    assert (trust.trust_type, trust.eric_type) == (TrustType.COMMUNITY, "")
    assert care_settings("RYK") == {CareSetting.COMMUNITY}
    assert [o.code for o in loaded.overrides] == ["RYK"]


def test_welsh_and_closed_trusts_of_etr_are_skipped_and_named(loaded):
    reasons = {s.code: s.reason for s in loaded.skipped}
    assert reasons == {
        "RQF": "Welsh (region W00)",
        "RT4": "Welsh (region W00)",
        "RYT": "Welsh (region W00)",
        "RA4": "closed on 2023-03-31",
        "RVY": "closed on 2023-06-30",
    }
    assert not Trust.objects.filter(code__in=reasons).exists()
    assert "  RQF VELINDRE NHS TRUST: Welsh (region W00)" in loaded.lines()


def test_an_etr_trust_missing_from_the_mapping_is_skipped_as_such(ods_copy):
    drop_line(ods_copy / MAPPING_FILE, line_of(ods_copy / MAPPING_FILE, "R0A"))
    summary = load_organisations(ods_copy)
    assert ("R0A", "not in the host-ICB mapping") in {(s.code, s.reason) for s in summary.skipped}


def test_the_load_takes_a_handful_of_queries(django_assert_max_num_queries):
    with django_assert_max_num_queries(25):
        load_organisations(ODS_DIR)


# Loading again.


def test_loading_the_same_files_again_changes_nothing(loaded):
    before = database_state()
    summary = load_organisations(ODS_DIR)
    for counts, total in [(summary.regions, 7), (summary.icss, 42), (summary.trusts, 210)]:
        assert (counts.created, counts.updated, counts.unchanged, counts.closed) == (0, 0, total, 0)
    assert database_state() == before


def test_a_changed_name_updates_the_trust(loaded, ods_copy):
    path = ods_copy / MAPPING_FILE
    set_fields(path, line_of(path, "R0A"), f3="Manchester University Hospitals NHS Foundation Trust")
    summary = load_organisations(ods_copy)
    assert (summary.trusts.updated, summary.trusts.unchanged) == (1, 209)
    assert Trust.objects.get(code="R0A").name == "Manchester University Hospitals NHS Foundation Trust"


def test_changed_care_settings_alone_update_the_trust(loaded, ods_copy):
    path = ods_copy / REFERENCE_FILE
    set_fields(path, line_of(path, "R0A"), f4="Acute")
    summary = load_organisations(ods_copy)
    assert (summary.trusts.updated, summary.trusts.unchanged) == (1, 209)
    assert care_settings("R0A") == {CareSetting.ACUTE}


def test_a_trust_removed_from_the_mapping_is_closed_not_deleted(loaded, ods_copy):
    drop_line(ods_copy / MAPPING_FILE, line_of(ods_copy / MAPPING_FILE, "R0A"))

    summary = load_organisations(ods_copy, today=date(2025, 4, 1))

    assert (summary.trusts.closed, summary.trusts.unchanged, summary.closed_trusts) == (1, 209, ["R0A"])
    assert Trust.objects.count() == 210
    assert Trust.objects.get(code="R0A").closed_on == date(2025, 4, 1)
    again = load_organisations(ods_copy, today=date(2025, 5, 1))
    assert (again.trusts.closed, again.trusts.updated) == (0, 0)
    assert Trust.objects.get(code="R0A").closed_on == date(2025, 4, 1)


def test_a_removed_trust_closes_on_its_etr_close_date_when_it_has_one(loaded, ods_copy):
    drop_line(ods_copy / MAPPING_FILE, line_of(ods_copy / MAPPING_FILE, "R0A"))
    set_fields(ods_copy / ETR_FILE, line_of(ods_copy / ETR_FILE, "R0A"), f11="20240331")
    load_organisations(ods_copy, today=date(2025, 4, 1))
    assert Trust.objects.get(code="R0A").closed_on == date(2024, 3, 31)


def test_an_ics_gone_from_the_files_is_kept_and_named_and_its_trusts_closed(loaded, ods_copy):
    drop_line(ods_copy / ICBS_FILE, line_of(ods_copy / ICBS_FILE, "QOP"))
    mapping = ods_copy / MAPPING_FILE
    write_lines(mapping, [line for line in read_lines(mapping) if ",QOP," not in line])

    summary = load_organisations(ods_copy)

    assert summary.retained == ["QOP"]
    assert "Kept though no longer in the files: QOP" in summary.lines()
    assert ICS.objects.filter(code="QOP").exists()
    assert summary.trusts.closed == Trust.objects.filter(ics__code="QOP", closed_on__isnull=False).count() > 0


def test_a_closed_trust_back_in_the_mapping_reopens(loaded, ods_copy):
    drop_line(ods_copy / MAPPING_FILE, line_of(ods_copy / MAPPING_FILE, "R0A"))
    load_organisations(ods_copy)
    summary = load_organisations(ODS_DIR)
    assert summary.trusts.updated == 1
    assert Trust.objects.get(code="R0A").closed_on is None


# Malformed input: each broken copy names its file and line, and loads nothing.


def regions_missing_column(d):
    path = d / REGIONS_FILE
    set_fields(path, 1, f1="ons_code")
    return f"{REGIONS_FILE} line 1: missing column 'region_ons_code'"


def regions_empty_code(d):
    path = d / REGIONS_FILE
    line = line_of(path, "Y58")
    set_fields(path, line, f0="")
    return f"{REGIONS_FILE} line {line}: empty region code"


def regions_duplicate_ons_code(d):
    path = d / REGIONS_FILE
    set_fields(path, 3, f1=fields_of(path, 2)[1])
    return f"{REGIONS_FILE} line 3: duplicate region ONS code '{fields_of(path, 2)[1]}' (first on line 2)"


def icbs_unknown_region(d):
    set_fields(d / ICBS_FILE, 7, f3="Y99")
    return f"{ICBS_FILE} line 7: region code 'Y99' is not a known region"


def icbs_duplicate_code(d):
    path = d / ICBS_FILE
    set_fields(path, 5, f0="QOX")
    return f"{ICBS_FILE} line 5: duplicate ICB code 'QOX' (first on line 2)"


def icbs_bad_ons_code(d):
    set_fields(d / ICBS_FILE, 4, f1="E5400")
    return f"{ICBS_FILE} line 4: ICB ONS code 'E5400' is not a valid code"


def etr_open_date_not_yyyymmdd(d):
    set_fields(d / ETR_FILE, 12, f10="2019-04-01")
    return f"{ETR_FILE} line 12: open date '2019-04-01' is not YYYYMMDD"


def etr_impossible_close_date(d):
    set_fields(d / ETR_FILE, 20, f11="20230231")
    return f"{ETR_FILE} line 20: close date '20230231' is not YYYYMMDD"


def etr_short_row(d):
    lines = read_lines(d / ETR_FILE)
    lines[2] = '"R0D","UNIVERSITY HOSPITALS DORSET NHS FOUNDATION TRUST","Y58"\n'
    write_lines(d / ETR_FILE, lines)
    return f"{ETR_FILE} line 3: 3 fields where at least 12 are expected"


def etr_empty_code(d):
    set_fields(d / ETR_FILE, 30, f0="")
    return f"{ETR_FILE} line 30: empty trust code"


def etr_duplicate_code(d):
    set_fields(d / ETR_FILE, 2, f0="R0A")
    return f"{ETR_FILE} line 2: duplicate trust code 'R0A' (first on line 1)"


def mapping_missing_column(d):
    set_fields(d / MAPPING_FILE, 4, f4="Trust Code")
    return f"{MAPPING_FILE} line 4: missing column 'ODS Trust Code'"


def mapping_unknown_icb(d):
    set_fields(d / MAPPING_FILE, 9, f1="QZZ")
    return f"{MAPPING_FILE} line 9: ICB code 'QZZ' is not a known ICB"


def mapping_duplicate_trust(d):
    path = d / MAPPING_FILE
    set_fields(path, 10, f4="RTD")
    return f"{MAPPING_FILE} line 10: duplicate trust code 'RTD' (first on line 5)"


def mapping_empty_trust_code(d):
    set_fields(d / MAPPING_FILE, 100, f4="")
    return f"{MAPPING_FILE} line 100: empty trust code"


def reference_unknown_eric_type(d):
    path = d / REFERENCE_FILE
    line = line_of(path, "R0A")
    set_fields(path, line, f2="HOSPICE")
    return f"{REFERENCE_FILE} line {line}: ERIC trust type 'HOSPICE' is not a known type"


def reference_unknown_care_setting(d):
    path = d / REFERENCE_FILE
    set_fields(path, 8, f4="Acute;Primary Care")
    return f"{REFERENCE_FILE} line 8: care setting 'Primary Care' is not one of"


def reference_latitude_not_a_number(d):
    set_fields(d / REFERENCE_FILE, 15, f13="53.4x")
    return f"{REFERENCE_FILE} line 15: latitude '53.4x' is not a number"


def reference_latitude_and_longitude_swapped(d):
    path = d / REFERENCE_FILE
    latitude, longitude = fields_of(path, 16)[13:15]
    set_fields(path, 16, f13=longitude, f14=latitude)
    return f"{REFERENCE_FILE} line 16: latitude {longitude} is outside England"


def reference_missing_longitude(d):
    set_fields(d / REFERENCE_FILE, 17, f14="")
    return f"{REFERENCE_FILE} line 17: latitude and longitude must be given together"


def reference_missing_a_mapped_trust(d):
    drop_line(d / REFERENCE_FILE, line_of(d / REFERENCE_FILE, "R0A"))
    return f"{REFERENCE_FILE}: no row for trust 'R0A' ({MAPPING_FILE} line {line_of(d / MAPPING_FILE, 'R0A')})"


def reference_blank_type_without_override(d):
    drop_line(d / OVERRIDES_FILE, 2)
    line = line_of(d / REFERENCE_FILE, "RYK")
    return f"{REFERENCE_FILE} line {line}: trust 'RYK' has no ERIC trust type"


def override_of_a_trust_not_in_the_mapping(d):
    set_fields(d / OVERRIDES_FILE, 2, f0="RQF")
    return f"{OVERRIDES_FILE} line 2: trust 'RQF' is not in {MAPPING_FILE}"


def override_with_an_unknown_trust_type(d):
    set_fields(d / OVERRIDES_FILE, 2, f2="hospital")
    return f"{OVERRIDES_FILE} line 2: trust type 'hospital' is not one of"


def override_without_a_note(d):
    set_fields(d / OVERRIDES_FILE, 2, f3="")
    return f"{OVERRIDES_FILE} line 2: empty note"


def missing_file(d):
    (d / ETR_FILE).unlink()
    return f"{ETR_FILE}: file not found"


BROKEN_COPIES = [
    regions_missing_column,
    regions_empty_code,
    regions_duplicate_ons_code,
    icbs_unknown_region,
    icbs_duplicate_code,
    icbs_bad_ons_code,
    etr_open_date_not_yyyymmdd,
    etr_impossible_close_date,
    etr_short_row,
    etr_empty_code,
    etr_duplicate_code,
    mapping_missing_column,
    mapping_unknown_icb,
    mapping_duplicate_trust,
    mapping_empty_trust_code,
    reference_unknown_eric_type,
    reference_unknown_care_setting,
    reference_latitude_not_a_number,
    reference_latitude_and_longitude_swapped,
    reference_missing_longitude,
    reference_missing_a_mapped_trust,
    reference_blank_type_without_override,
    override_of_a_trust_not_in_the_mapping,
    override_with_an_unknown_trust_type,
    override_without_a_note,
    missing_file,
]


@pytest.mark.parametrize("break_copy", BROKEN_COPIES, ids=lambda f: f.__name__)
def test_a_broken_file_is_named_with_its_line_and_nothing_is_loaded(ods_copy, break_copy):
    expected = break_copy(ods_copy)
    with pytest.raises(LoadError) as error:
        load_organisations(ods_copy)
    assert str(error.value).startswith(expected)
    assert (Region.objects.count(), ICS.objects.count(), Trust.objects.count()) == (0, 0, 0)


@pytest.mark.parametrize("break_copy", BROKEN_COPIES, ids=lambda f: f.__name__)
def test_a_broken_file_changes_nothing_already_loaded(loaded, ods_copy, break_copy):
    before = database_state()
    break_copy(ods_copy)
    with pytest.raises(LoadError):
        load_organisations(ods_copy)
    assert database_state() == before


def test_the_files_with_a_bom_and_crlf_line_endings_load(ods_copy):
    path = ods_copy / REGIONS_FILE
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))
    assert load_organisations(ods_copy).regions.created == 7


# The command.


def test_the_command_prints_the_summary():
    out = io.StringIO()
    call_command("load_organisations", directory=ODS_DIR, stdout=out)
    output = out.getvalue()
    assert "Trusts: 210 created, 0 updated, 0 unchanged, 0 closed" in output
    assert "RVY SOUTHPORT AND ORMSKIRK HOSPITAL NHS TRUST: closed on 2023-06-30" in output


def test_the_command_fails_with_the_file_and_line_on_bad_input(ods_copy):
    expected = icbs_unknown_region(ods_copy)
    # run_from_argv turns a CommandError into its message on stderr and exit status returncode.
    with pytest.raises(CommandError, match=expected) as error:
        call_command("load_organisations", directory=ods_copy)
    assert error.value.returncode == 1
    assert Region.objects.count() == 0


def test_loading_gives_the_organisations_a_new_token_once_committed(db, django_capture_on_commit_callbacks):
    """Pages cache their organisation parts under this token (config.pages): a load makes them all stale."""
    from django.core.cache import cache

    from trusts.ods import ORGANISATIONS_TOKEN

    cache.set(ORGANISATIONS_TOKEN, "before", timeout=None)
    with django_capture_on_commit_callbacks(execute=True):
        load_organisations(ODS_DIR)
    assert cache.get(ORGANISATIONS_TOKEN) not in (None, "before")
