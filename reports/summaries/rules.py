"""The aggregation rules, and the few of them that stay in Python. The database computes every summary row
(reports/summary_sql.py); tests/reports/test_aggregation.py checks each rule there with small hand-made data.

The unit of every aggregate is the assessment (one provider × care setting return): an area's figure is the plain
mean and spread over its assessments; a trust's own figure is the mean of its care settings. ICBs' own returns are
never mixed into provider aggregates.
"""

OVERALL = ("overall", "Overall", 0)
# Who a summary row belongs to, denormalised as the exports name it.
ORG_COLUMNS = [
    "assessment_id",
    "cycle_year",
    "region_code",
    "region_name",
    "ics_code",
    "ics_name",
    "org_code",
    "org_name",
    "org_type",
    "trust_type",
    "care_setting",
    "source",
    "status",
    "is_demo",
]
AREA_KEYS = {
    # area type: (the column naming the area, the column naming it for people)
    "england": (None, None),
    "region": ("region_code", "region_name"),
    "ics": ("ics_code", "ics_name"),
    "peer": ("peer_code", "peer_name"),
    "trust": ("org_code", "org_name"),
}


def target_code(theme: str, description: str) -> str:
    """A gap metric's code: a theme can have several targets in different units, so each target is its own metric."""
    slug = "-".join("".join(ch if ch.isalnum() else " " for ch in description.lower()).split())[:40]
    return f"{theme}:{slug}"


# The indicators summarised per area like pillar scores (AreaStat metric_type "indicator"): the money and people
# behind digital maturity that NHS England's reviews name as barriers. Each is (code, name, position, benchmark);
# share_met holds the share of returns at or above the benchmark (digital spend: 5 % of budget), empty without one.
SPEND_BENCHMARK = 5.0
AREA_INDICATORS = (
    ("digital_spend_pct", "Digital spend (% of budget)", 1, SPEND_BENCHMARK),
    ("ddat_vacancy_pct", "DDaT vacancy rate (%)", 2, None),
)


# The area statistics of the verified evidence behind the pillar scores (AreaStat metric_type "evidence"), from the
# pillar rows of entered returns, one metric per measure and pillar (and overall), coded "<measure>:<pillar code>":
# - verified_share: each return's share of answered domains whose evidence a reviewer verified; its mean is the
#   area's share of verified scores (the return being the unit, as everywhere);
# - verified_score: each return's pillar score over its verified answers only; its mean is the area's score without
#   the unverified answers. Only returns with a verified answer on the pillar have one, so its n is theirs.
# Both follow the minimum group like every other area figure.
EVIDENCE_METRIC_TYPE = "evidence"
VERIFIED_SHARE, VERIFIED_SCORE = "verified_share", "verified_score"
VERIFIED_MEASURES = (VERIFIED_SHARE, VERIFIED_SCORE)


def verified_metric(measure: str, pillar_code: str) -> str:
    return f"{measure}:{pillar_code}"
