"""The data each scale is measured on, built in a scratch database (created and dropped by bench.common).

- nhs: the shipped data, loaded by the product's own commands, exactly as `make setup data` does;
- 10x: the nhs data, then every trust given 9 synthetic twins, set-based in SQL (INSERT … SELECT): the twins, their
  care settings, their assessments, domain answers, published scores and indicator values, copies of the originals'
  with a third of the levels moved by one so the percentiles have work to do (no accounts: nobody logs in as a twin);
- sector (opt-in, never in CI): about 25,000 organisations × 10 cycles of domain answers: 118 twins a trust (24,990
  trusts), then the demo cycle's assessments, answers, indicator values and gap targets copied into 9 more (closed)
  cycles in the free years before it (2015–2023): 372,914 assessments, 11.5 million domain answers, 1.85 million
  indicator values. On the 2-CPU machine of the first run (shared, loaded) the data took 10 minutes (twins 110 s,
  cycles 454 s) and 2.2 GB before any summary; the summaries add about as much again (a DomainScore row per answer),
  so allow 5–6 GB of free disk. Not yet run end to end: with the pandas rebuild of commit 362e784 (23 s at 10x) the
  build's own rebuild_summaries alone would take most of an hour and hold every domain row in memory.

Each scale ends with the product's own `rebuild_summaries`, so the summaries the pages read are the product's."""

import time

from bench.common import dsn, env_for, manage, sql

SETUP_COMMANDS = [
    ("migrate", "--no-input", "-v0"),
    ("createcachetable",),
    ("load_organisations",),
    ("load_frameworks",),
    ("import_published",),
    ("create_demo_accounts",),
    ("load_demo_data",),
]

# Twins: copy k of trust R0A is R0A0k (ODS codes are 5 characters at most: the first 3 of the original's code and k in
# two hex digits, so up to 255 twins). New ids come from the tables' own sequences. Rows are copied whole through
# jsonb_populate_record so that columns the models gain later are copied too without naming them here.
TWIN_SQL = """
CREATE TEMP TABLE twin AS SELECT k FROM generate_series(1, %(twins)s) AS k;

CREATE TEMP TABLE trust_map AS
SELECT t.id AS old_id, k, nextval(pg_get_serial_sequence('trusts_trust', 'id')) AS new_id,
       left(t.code, 3) || lpad(upper(to_hex(k)), 2, '0') AS new_code
FROM trusts_trust t, twin;

INSERT INTO trusts_trust
SELECT (jsonb_populate_record(NULL::trusts_trust,
        to_jsonb(t) || jsonb_build_object('id', m.new_id, 'code', m.new_code, 'name', t.name || ' (twin ' || m.k || ')')
       )).*
FROM trust_map m JOIN trusts_trust t ON t.id = m.old_id;

INSERT INTO trusts_trust_care_settings (trust_id, caresetting_id)
SELECT m.new_id, c.caresetting_id FROM trust_map m JOIN trusts_trust_care_settings c ON c.trust_id = m.old_id;

CREATE TEMP TABLE assessment_map AS
SELECT a.id AS old_id, m.k, m.new_id AS trust_id,
       nextval(pg_get_serial_sequence('maturity_assessment', 'id')) AS new_id
FROM maturity_assessment a JOIN trust_map m ON m.old_id = a.trust_id;

INSERT INTO maturity_assessment
SELECT (jsonb_populate_record(NULL::maturity_assessment,
        to_jsonb(a) || jsonb_build_object('id', am.new_id, 'trust_id', am.trust_id))).*
FROM assessment_map am JOIN maturity_assessment a ON a.id = am.old_id;

-- Levels nudged by ±1 on a third of the answers, deterministically, so twins are not exact copies.
INSERT INTO maturity_domainanswer (assessment_id, domain_id, level, evidence_note, evidence_link)
SELECT am.new_id, d.domain_id,
       CASE WHEN d.level IS NULL THEN NULL
            ELSE least(5, greatest(1, d.level + ((d.id + am.k) %% 3) - 1)) END,
       d.evidence_note, d.evidence_link
FROM assessment_map am JOIN maturity_domainanswer d ON d.assessment_id = am.old_id;

INSERT INTO maturity_publishedscore
SELECT (jsonb_populate_record(NULL::maturity_publishedscore,
        to_jsonb(p) || jsonb_build_object('id', nextval(pg_get_serial_sequence('maturity_publishedscore', 'id')),
                                          'assessment_id', am.new_id))).*
FROM assessment_map am JOIN maturity_publishedscore p ON p.assessment_id = am.old_id;

-- Indicator values: the assessments' own, and the trusts' published snapshots (DSPT, devices).
INSERT INTO maturity_indicatorvalue
SELECT (jsonb_populate_record(NULL::maturity_indicatorvalue,
        to_jsonb(v) || jsonb_build_object('id', nextval(pg_get_serial_sequence('maturity_indicatorvalue', 'id')),
                                          'assessment_id', am.new_id))).*
FROM assessment_map am JOIN maturity_indicatorvalue v ON v.assessment_id = am.old_id;

INSERT INTO maturity_indicatorvalue
SELECT (jsonb_populate_record(NULL::maturity_indicatorvalue,
        to_jsonb(v) || jsonb_build_object('id', nextval(pg_get_serial_sequence('maturity_indicatorvalue', 'id')),
                                          'trust_id', m.new_id))).*
FROM trust_map m JOIN maturity_indicatorvalue v ON v.trust_id = m.old_id AND v.assessment_id IS NULL;
"""


def add_twins(db: str, twins: int) -> None:
    """Give every trust `twins` synthetic copies, in one transaction of set-based SQL."""
    import psycopg2

    connection = psycopg2.connect(db)
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute(TWIN_SQL, {"twins": twins})
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    finally:
        connection.close()


# The demo cycle copied into earlier free years: a cycle row, its gap targets, its assessments (trusts' and ICSs'),
# their answers (levels moved by the year, evidence left out to save disk) and their indicator values.
CYCLES_SQL = """
CREATE TEMP TABLE cycle_map AS
SELECT year, nextval(pg_get_serial_sequence('maturity_cycle', 'id')) AS new_id
FROM (SELECT year FROM generate_series(%(demo_year)s - 40, %(demo_year)s - 1) AS year
      WHERE year NOT IN (SELECT year FROM maturity_cycle) ORDER BY year DESC LIMIT %(cycles)s) AS free;

INSERT INTO maturity_cycle
SELECT (jsonb_populate_record(NULL::maturity_cycle,
        to_jsonb(c) || jsonb_build_object('id', m.new_id, 'year', m.year, 'state', 'closed'))).*
FROM cycle_map m, maturity_cycle c WHERE c.year = %(demo_year)s;

INSERT INTO maturity_gaptarget
SELECT (jsonb_populate_record(NULL::maturity_gaptarget,
        to_jsonb(g) || jsonb_build_object('id', nextval(pg_get_serial_sequence('maturity_gaptarget', 'id')),
                                          'cycle_id', m.new_id))).*
FROM cycle_map m, maturity_gaptarget g JOIN maturity_cycle c ON c.id = g.cycle_id WHERE c.year = %(demo_year)s;

CREATE TEMP TABLE cycle_assessment_map AS
SELECT a.id AS old_id, m.new_id AS cycle_id, m.year,
       nextval(pg_get_serial_sequence('maturity_assessment', 'id')) AS new_id
FROM cycle_map m, maturity_assessment a JOIN maturity_cycle c ON c.id = a.cycle_id WHERE c.year = %(demo_year)s;

INSERT INTO maturity_assessment
SELECT (jsonb_populate_record(NULL::maturity_assessment,
        to_jsonb(a) || jsonb_build_object('id', am.new_id, 'cycle_id', am.cycle_id))).*
FROM cycle_assessment_map am JOIN maturity_assessment a ON a.id = am.old_id;

INSERT INTO maturity_domainanswer (assessment_id, domain_id, level, evidence_note, evidence_link)
SELECT am.new_id, d.domain_id,
       CASE WHEN d.level IS NULL THEN NULL
            ELSE least(5, greatest(1, d.level + ((d.id + am.year) %% 3) - 1)) END,
       '', ''
FROM cycle_assessment_map am JOIN maturity_domainanswer d ON d.assessment_id = am.old_id;

INSERT INTO maturity_indicatorvalue
SELECT (jsonb_populate_record(NULL::maturity_indicatorvalue,
        to_jsonb(v) || jsonb_build_object('id', nextval(pg_get_serial_sequence('maturity_indicatorvalue', 'id')),
                                          'assessment_id', am.new_id))).*
FROM cycle_assessment_map am JOIN maturity_indicatorvalue v ON v.assessment_id = am.old_id;
"""
SECTOR_TWINS = 118  # 210 trusts × 119 = 24,990
SECTOR_EXTRA_CYCLES = 9
DEMO_YEAR = 2026  # maturity.demo.DEMO_YEAR: the open demo cycle load_demo_data makes


def add_cycles(db: str, cycles: int) -> None:
    """Copy the demo cycle into `cycles` earlier free years, in one transaction of set-based SQL."""
    import psycopg2

    connection = psycopg2.connect(db)
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute(CYCLES_SQL, {"cycles": cycles, "demo_year": DEMO_YEAR})
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    finally:
        connection.close()


def counts(db: str) -> dict:
    tables = {
        "trusts": "trusts_trust",
        "assessments": "maturity_assessment",
        "domain_answers": "maturity_domainanswer",
        "indicator_values": "maturity_indicatorvalue",
        "pillar_scores": "reports_pillarscore",
    }
    figures = {label: sql(db, f"SELECT count(*) FROM {table}")[0][0] for label, table in tables.items()}
    figures["database_mb"] = round(sql(db, "SELECT pg_database_size(current_database())")[0][0] / 2**20)
    return figures


def build(scale: str, url: str) -> dict:
    """Fill the scratch database at `url` for `scale`; returns what it holds and how long building took."""
    env = env_for(url, debug=True, redis=False)
    db = dsn(url)
    timings = {}
    started = time.perf_counter()
    for command in SETUP_COMMANDS:
        print(f"    manage.py {' '.join(command)}", flush=True)
        timings[command[0]] = round(manage(env, *command), 1)
    if scale == "10x":
        print("    adding 9 twins to every trust (INSERT … SELECT)", flush=True)
        step = time.perf_counter()
        add_twins(db, 9)
        timings["twins"] = round(time.perf_counter() - step, 1)
    elif scale == "sector":
        print(f"    adding {SECTOR_TWINS} twins to every trust (INSERT … SELECT)", flush=True)
        step = time.perf_counter()
        add_twins(db, SECTOR_TWINS)
        timings["twins"] = round(time.perf_counter() - step, 1)
        print(f"    copying the demo cycle into {SECTOR_EXTRA_CYCLES} earlier cycles (INSERT … SELECT)", flush=True)
        step = time.perf_counter()
        add_cycles(db, SECTOR_EXTRA_CYCLES)
        timings["cycles"] = round(time.perf_counter() - step, 1)
        print(f"    {counts(db)}", flush=True)
    print("    manage.py rebuild_summaries", flush=True)
    timings["rebuild_summaries"] = round(manage(env, "rebuild_summaries"), 1)
    sql(db, "VACUUM ANALYZE")
    return {"build_seconds": round(time.perf_counter() - started, 1), "steps": timings, **counts(db)}
