"""The review page: who submitted, and the evidence set beside each answer (last year's level, the published pillar
score, the ICS's and similar trusts' medians with the fewer-than-5 rule, the published DSPT and device figures), the
decision at the top and the foot of one form, and comments opened on demand and kept after a refused decision.

The world is built by hand so that every figure on the page can be worked out on paper (see `world`)."""

import datetime
from html.parser import HTMLParser
from types import SimpleNamespace

import pytest
from django.utils import timezone

from maturity import pages, review
from maturity.models import (
    Assessment,
    Cycle,
    CycleKind,
    CycleState,
    DomainAnswer,
    FrameworkKind,
    IndicatorType,
    IndicatorValue,
    Pillar,
    PublishedScore,
    ReviewComment,
    Source,
    Status,
)
from maturity.pages import IndicatorRow, indicator_rows, pillars_of
from tests.factories import (
    AssessmentFactory,
    CycleFactory,
    ICSFactory,
    IndicatorFactory,
    TrustFactory,
    UserFactory,
    analyst,
    reviewer_of,
    small_framework,
)
from trusts import permissions
from trusts.models import CareSetting, TrustType

URL = "/trusts/R0A/assessments/2026/acute/review/"

# --- Pure builders -----------------------------------------------------------------------------------------------


def test_a_median_over_fewer_than_five_returns_is_withheld():
    median = review.group_median([1, 2, 3, 4])
    assert (median.n, median.median, median.shown) == (4, None, "fewer than 5 returns")


@pytest.mark.parametrize(("levels", "shown"), [([5, 1, 3, 2, 4], "3.0"), ([1, 2, 3, 4, 5, 5], "3.5")])
def test_a_median_over_five_returns_or_more_is_shown(levels, shown):
    assert review.group_median(levels).shown == shown


def test_last_years_level_follows_comparability_back_through_the_versions():
    # 30 (this year) is comparable with 20, which is comparable with 10, answered last year; 31 is new; 32 is the
    # same domain as last year's (framework unchanged).
    comparable_with = {30: 20, 20: 10, 31: None}
    previous = {10: 2, 11: 4, 32: 5}
    assert review.carried_levels([30, 31, 32], comparable_with, previous) == {30: 2, 32: 5}


def test_a_loop_in_comparability_ends_without_a_level():
    assert review.carried_levels([1], {1: 2, 2: 1}, {}) == {}


def test_a_person_is_named_by_full_name_then_email_then_username(db):
    assert pages.person_name(UserFactory(username="jb", first_name="Jo", last_name="Bloggs")) == "Jo Bloggs"
    assert pages.person_name(UserFactory(username="jb2", email="jo@nhs.net")) == "jo@nhs.net"
    assert pages.person_name(UserFactory(username="jb3")) == "jb3"


@pytest.mark.parametrize(
    ("value_type", "value", "shown"),
    [
        (IndicatorType.PERCENT, IndicatorValue(number=4.0), "4%"),
        (IndicatorType.NUMBER, IndicatorValue(number=1250.5), "1250.5"),
        (IndicatorType.BOOLEAN, IndicatorValue(boolean=False), "No"),
        (IndicatorType.DATE, IndicatorValue(date=datetime.date(2024, 4, 1)), "1 April 2024"),
        (IndicatorType.CHOICE, IndicatorValue(text="Epic"), "Epic"),
        (IndicatorType.PERCENT, None, "Not answered"),
    ],
)
def test_an_entered_indicator_is_shown_with_its_unit(value_type, value, shown):
    indicator = SimpleNamespace(value_type=value_type, code="x")
    assert review.entered_value(IndicatorRow(indicator, value)) == shown


def test_published_figures_are_set_beside_the_indicator_they_inform():
    dspt = SimpleNamespace(value_type=IndicatorType.CHOICE, code="dspt_status")
    spend = SimpleNamespace(value_type=IndicatorType.PERCENT, code="digital_spend_pct")
    met = review.PublishedFigure("DSPT 22/23", "Standards Met", None)
    [with_dspt, with_spend] = review.indicator_evidence(
        [IndicatorRow(dspt, IndicatorValue(text="Approaching Standards")), IndicatorRow(spend, None)],
        {"dspt_status": [met], "windows7_devices": [review.PublishedFigure("Windows 7", "3", None)]},
    )
    assert (with_dspt.entered, with_dspt.published) == ("Approaching Standards", [met])
    assert (with_spend.unit, with_spend.published) == ("%", [])


# --- The hand-built world ----------------------------------------------------------------------------------------


def answer(assessment, **levels):
    domains = {d.code: d for d in assessment.framework.domains.all()}
    DomainAnswer.objects.bulk_create(
        DomainAnswer(assessment=assessment, domain=domains[code], level=level) for code, level in levels.items()
    )


def provider_return(cycle, trust, status, setting=CareSetting.ACUTE, **levels):
    assessment = AssessmentFactory(cycle=cycle, trust=trust, care_setting_id=setting, status=status)
    answer(assessment, **levels)
    return assessment


@pytest.fixture
def world(db):
    """Greater Manchester (QOP) and one other ICS (QVV), under a framework that changed between 2025 and 2026.

    R0A's 2026 acute return, under review: WL01 3, SF01 2, SF02 4.
    Its 2025 return (approved, the earlier framework): WL01 2, SF01 3, SF02 1. This year's WL01 and SF02 are
    comparable with last year's; SF01 is new. So last year: WL01 2, SF01 none, SF02 1.
    Published (2024, NHS England's history): Well Led 2.3, Ensure Smart Foundations 1.9.

    Counted 2026 returns (submitted or approved; drafts and returned ones never count):
      QOP acute:     R0A 3/2/4, T1 1/1/-, T2 2/1/-, T3 4/5/2, T4 5/5/-   (T5 draft 5/5/5, T6 returned 5/5/5)
      QOP community: T3 1/1 (an acute trust's community return: in the ICS, not among R0A's peers)
      QVV acute:     P1 5/4/4, P2 5/4/4, P3 5/4/5; S1 (acute specialist) 1/1/1, not a peer
    ICS medians (every QOP return):  WL01 [3,1,2,4,5,1] 2.5; SF01 [2,1,1,5,5,1] 1.5; SF02 [4,2] fewer than 5.
    Peer medians (acute trusts' acute returns in England): WL01 [3,1,2,4,5,5,5,5] 4.5; SF01 [2,1,1,5,5,4,4,4] 4.0;
    SF02 [4,2,4,4,5] 4.0.
    """
    Pillar.objects.ensure_all()
    qop, qvv = ICSFactory(code="QOP", name="NHS Greater Manchester Integrated Care Board"), ICSFactory(code="QVV")
    r0a = TrustFactory(code="R0A", ics=qop)

    published_history = CycleFactory(
        year=2024,
        kind=CycleKind.PUBLISHED_HISTORY,
        state=CycleState.PUBLISHED,
        trust_framework=None,
        ics_framework=None,
    )
    published = AssessmentFactory(
        cycle=published_history, trust=r0a, framework=None, source=Source.PUBLISHED, status=Status.PUBLISHED
    )
    PublishedScore.objects.create(assessment=published, pillar=Pillar.objects.get(code="well_led"), score=2.3)
    PublishedScore.objects.create(assessment=published, pillar=Pillar.objects.get(code="smart_foundations"), score=1.9)
    PublishedScore.objects.create(assessment=published, pillar=None, score=2.1)

    last_year = CycleFactory(year=2025, state=CycleState.CLOSED)
    provider_return(last_year, r0a, Status.APPROVED, WL01=2, SF01=3, SF02=1)

    earlier = {d.code: d for d in last_year.trust_framework.domains.all()}
    framework = small_framework()
    framework.domains.filter(code="WL01").update(comparable_with=earlier["WL01"])
    framework.domains.filter(code="SF02").update(comparable_with=earlier["SF02"])
    IndicatorFactory(
        framework=framework,
        code="dspt_status",
        name="DSPT status",
        value_type=IndicatorType.CHOICE,
        choices=["Standards Met", "Approaching Standards"],
    )
    cycle = CycleFactory(year=2026, trust_framework=framework, ics_framework=small_framework(FrameworkKind.ICS))

    submitter = UserFactory(username="jbloggs", first_name="Jo", last_name="Bloggs")
    assessment = provider_return(cycle, r0a, Status.SUBMITTED, WL01=3, SF01=2, SF02=4)
    assessment.submitted_by, assessment.sign_off_name, assessment.sign_off_role = submitter, "Sam Chief", "CEO"
    assessment.submitted_at = timezone.make_aware(datetime.datetime(2026, 3, 2, 14, 5))
    assessment.save()
    IndicatorValue.objects.create(assessment=assessment, indicator_code="unsupported_devices_pct", number=4)
    IndicatorValue.objects.create(assessment=assessment, indicator_code="dspt_status", text="Approaching Standards")
    IndicatorValue.objects.create(
        trust=r0a, indicator_code="dspt_status", text="Standards Met", source=Source.PUBLISHED, edition="22/23"
    )
    IndicatorValue.objects.create(
        trust=r0a,
        indicator_code="unsupported_devices_pct",
        number=7.3,
        source=Source.PUBLISHED,
        edition="2022-09-09 snapshot",
        as_of=datetime.date(2022, 9, 9),
    )

    provider_return(cycle, TrustFactory(code="RT1", ics=qop), Status.APPROVED, WL01=1, SF01=1)
    provider_return(cycle, TrustFactory(code="RT2", ics=qop), Status.SUBMITTED, WL01=2, SF01=1)
    t3 = TrustFactory(code="RT3", ics=qop, care_settings=[CareSetting.ACUTE, CareSetting.COMMUNITY])
    provider_return(cycle, t3, Status.APPROVED, WL01=4, SF01=5, SF02=2)
    provider_return(cycle, t3, Status.APPROVED, setting=CareSetting.COMMUNITY, WL01=1, SF01=1)
    provider_return(cycle, TrustFactory(code="RT4", ics=qop), Status.SUBMITTED, WL01=5, SF01=5)
    provider_return(cycle, TrustFactory(code="RT5", ics=qop), Status.DRAFT, WL01=5, SF01=5, SF02=5)
    provider_return(cycle, TrustFactory(code="RT6", ics=qop), Status.RETURNED, WL01=5, SF01=5, SF02=5)
    provider_return(cycle, TrustFactory(code="RP1", ics=qvv), Status.APPROVED, WL01=5, SF01=4, SF02=4)
    provider_return(cycle, TrustFactory(code="RP2", ics=qvv), Status.SUBMITTED, WL01=5, SF01=4, SF02=4)
    provider_return(cycle, TrustFactory(code="RP3", ics=qvv), Status.SUBMITTED, WL01=5, SF01=4, SF02=5)
    specialist = TrustFactory(code="RS1", ics=qvv, trust_type=TrustType.ACUTE_SPECIALIST)
    provider_return(cycle, specialist, Status.APPROVED, WL01=1, SF01=1, SF02=1)

    return SimpleNamespace(assessment=assessment, reviewer=reviewer_of(qop), qop=qop, cycle=cycle)


def evidence_of(world):
    assessment = world.assessment
    viewer = permissions.viewer_of(world.reviewer)
    return review.evidence_for(assessment, viewer, pillars_of(assessment), indicator_rows(assessment))


def by_domain(evidence):
    return {item.row.domain.code: item for pillar in evidence.pillars for item in pillar.domains}


def test_the_evidence_pins_last_year_published_scores_and_medians(world):
    evidence = evidence_of(world)
    domains = by_domain(evidence)
    assert evidence.last_year == 2025
    assert {code: item.last_year for code, item in domains.items()} == {"WL01": 2, "SF01": None, "SF02": 1}
    assert evidence.published_year == 2024
    assert {p.progress.pillar.code: p.published_score for p in evidence.pillars} == {
        "well_led": 2.3,
        "smart_foundations": 1.9,
    }
    assert [group.label for group in evidence.comparisons] == ["ICS median", "Similar trusts' median"]
    medians = {code: [median.shown for _, median in item.medians] for code, item in domains.items()}
    assert medians == {
        "WL01": ["2.5", "4.5"],
        "SF01": ["1.5", "4.0"],
        "SF02": ["fewer than 5 returns", "4.0"],
    }


def test_the_evidence_names_the_submitter_and_the_published_figures(world):
    evidence = evidence_of(world)
    assert (evidence.submission.by, evidence.submission.sign_off_name) == ("Jo Bloggs", "Sam Chief")
    indicators = {item.row.indicator.code: item for item in evidence.indicators}
    assert indicators["unsupported_devices_pct"].entered == "4%"
    assert [(f.label, f.shown) for f in indicators["unsupported_devices_pct"].published] == [
        ("Windows 10 devices on unsupported versions", "7.3%")
    ]
    assert [(f.label, f.shown) for f in indicators["dspt_status"].published] == [
        ("Data Security and Protection Toolkit 22/23", "Standards Met")
    ]


def test_last_year_is_read_only_where_the_reviewer_may_see_it(world):
    # The trust's 2025 return was recorded in another ICS: the reviewer of QOP does not see it by name.
    Assessment.objects.filter(cycle__year=2025).update(ics=ICSFactory(code="QXX"))
    assert evidence_of(world).last_year is None
    assert "no submitted or approved 2025 return" in evidence_of(world).last_year_note


def test_a_published_history_year_gives_pillar_scores_not_domain_levels(world):
    Assessment.objects.filter(cycle__year=2025).delete()
    Cycle.objects.filter(year=2025).delete()
    evidence = evidence_of(world)
    assert evidence.last_year is None
    assert "published 2024's results as pillar scores" in evidence.last_year_note


def test_the_submitter_comes_from_the_audit_trail_when_not_recorded_on_the_assessment(world):
    Assessment.objects.filter(pk=world.assessment.pk).update(submitted_by=None)
    world.assessment.refresh_from_db()
    lead = UserFactory(username="lead", email="lead@nhs.net")
    world.assessment.audit_events.create(actor=lead, action="submit", summary="Submitted", cycle=world.cycle)
    assert review.submission(world.assessment).by == "lead@nhs.net"


# --- The page ----------------------------------------------------------------------------------------------------


class _Rows(HTMLParser):
    """Each table row's cell texts, named by its first cell's id, without the headings the responsive table shows
    only on narrow screens (aria-hidden spans, which hold no other span)."""

    def __init__(self):
        super().__init__()
        self.rows, self.row, self.cell, self.hidden = {}, None, None, False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "tr":
            self.row, self.row_id = [], ""
        elif tag in ("td", "th") and self.row is not None:
            self.cell = []
            if not self.row:
                self.row_id = attrs.get("id", "")
        elif tag == "span" and attrs.get("aria-hidden") == "true":
            self.hidden = True

    def handle_endtag(self, tag):
        if tag == "span":
            self.hidden = False
        elif tag in ("td", "th") and self.cell is not None:
            self.row.append(" ".join("".join(self.cell).split()))
            self.cell = None
        elif tag == "tr" and self.row is not None:
            if self.row_id:
                self.rows[self.row_id] = self.row
            self.row = None

    def handle_data(self, data):
        if self.cell is not None and not self.hidden:
            self.cell.append(data)


def table_rows(html: str) -> dict[str, list[str]]:
    parser = _Rows()
    parser.feed(html)
    return parser.rows


def test_the_page_shows_who_submitted_and_when(client, world):
    client.force_login(world.reviewer)
    content = client.get(URL).content.decode()
    assert "Jo Bloggs" in content and "2 March 2026 at 14:05" in content and "Sam Chief, CEO" in content
    assert "None" not in content.split("<main")[1]


def test_the_page_sets_each_answer_beside_last_year_and_the_medians(client, world):
    client.force_login(world.reviewer)
    rows = table_rows(client.get(URL).content.decode())
    assert rows["domain-WL01"] == ["WL01 Board leadership", "3", "2", "2.5", "4.5"]
    assert rows["domain-SF01"] == ["SF01 Infrastructure", "2", "–", "1.5", "4.0"]
    assert rows["domain-SF02"] == ["SF02 Acute EPR", "4", "1", "fewer than 5 returns", "4.0"]


def test_the_page_shows_the_published_pillar_scores_and_national_figures(client, world):
    client.force_login(world.reviewer)
    content = client.get(URL).content.decode()
    assert "NHS England's published 2024 score 2.3" in content
    assert "NHS England's published 2024 score 1.9" in content
    assert "Devices on unsupported systems (%)" in content
    assert "Windows 10 devices on unsupported versions: <strong>7.3%</strong>" in content
    assert "Data Security and Protection Toolkit 22/23: <strong>Standards Met</strong>" in content


def test_the_decision_is_offered_at_the_top_and_the_foot_of_one_form(client, world):
    client.force_login(world.reviewer)
    content = client.get(URL).content.decode()
    form = content.split('<form method="post"')[1].split("</form>")[0]
    top, rest = form.split('id="comment-WL01"', 1)
    for part in (top, rest):
        assert 'name="decision" value="approve"' in part and 'name="decision" value="return"' in part


def test_approving_from_the_top_of_the_page(client, world):
    client.force_login(world.reviewer)
    # The top buttons post the whole form: every comment box, empty unless typed.
    form = {"version": world.assessment.version, "decision": "approve", "comment": "Well evidenced"}
    form.update({f"comment-{code}": "" for code in ("WL01", "SF01", "SF02")})
    response = client.post(URL, form)
    assert response.status_code == 302
    world.assessment.refresh_from_db()
    assert world.assessment.status == Status.APPROVED
    assert ReviewComment.objects.get(assessment=world.assessment).text == "Well evidenced"


def test_comments_on_domains_open_on_demand(client, world):
    client.force_login(world.reviewer)
    content = client.get(URL).content.decode()
    assert content.count("<textarea") == 4  # one per domain, and one on the whole
    assert '<details class="nhsuk-details nhsuk-u-margin-bottom-0">' in content
    assert "Add a comment on WL01 Board leadership" in content


def test_approving_with_comments_on_domains_is_refused_and_keeps_what_was_typed(client, world):
    client.force_login(world.reviewer)
    response = client.post(
        URL,
        {
            "version": world.assessment.version,
            "decision": "approve",
            "comment-SF01": "Which data centre?",
            "comment": "Nearly there",
        },
    )
    assert response.status_code == 400
    content = response.content.decode()
    assert "comments on domains go back to the trust only with a return" in content
    assert 'href="#comment-SF01"' in content
    assert '<details class="nhsuk-details nhsuk-u-margin-bottom-0" open>' in content
    assert ">Which data centre?</textarea>" in content and ">Nearly there</textarea>" in content
    world.assessment.refresh_from_db()
    assert world.assessment.status == Status.SUBMITTED


def test_a_return_without_a_comment_keeps_the_page_and_a_return_with_one_sends_it(client, world):
    client.force_login(world.reviewer)
    refused = client.post(URL, {"version": world.assessment.version, "decision": "return", "comment-WL01": " "})
    assert refused.status_code == 400
    response = client.post(
        URL, {"version": world.assessment.version, "decision": "return", "comment-SF02": "Name the EPR"}
    )
    assert response.status_code == 302
    comment = ReviewComment.objects.get(assessment=world.assessment)
    assert (comment.domain.code, comment.text) == ("SF02", "Name the EPR")


def test_an_analyst_reviews_an_icb_return_beside_every_icbs(client, world):
    AssessmentFactory(
        cycle=world.cycle,
        trust=None,
        care_setting_id=None,
        ics=world.qop,
        framework=world.cycle.ics_framework,
        status=Status.SUBMITTED,
    )
    client.force_login(analyst())
    rows = table_rows(client.get("/ics/QOP/assessments/2026/review/").content.decode())
    assert rows["domain-WL01"] == ["WL01 Board leadership", "Not answered", "fewer than 5 returns"]


@pytest.mark.parametrize(
    ("decision", "message"),
    [
        ({"decision": "publish"}, "A review is returned or approved, not ‘publish’"),
        ({}, "The form did not say whether to return or approve the assessment"),
    ],
)
def test_a_decision_the_buttons_cannot_send_is_a_bad_request_that_says_so(client, world, decision, message):
    client.force_login(world.reviewer)
    response = client.post(URL, {"version": world.assessment.version, "comment-WL01": "Why?", **decision})
    assert response.status_code == 400
    content = response.content.decode()
    assert "The form could not be used" in content and message in content
    world.assessment.refresh_from_db()
    assert world.assessment.status == Status.SUBMITTED
    assert not ReviewComment.objects.filter(assessment=world.assessment).exists()
