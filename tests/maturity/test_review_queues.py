"""The review queues list every return expected in the current cycles, not started ones included, each with its
state, filterable by state, with counts per state that add up to the whole."""

import datetime
import re
from types import SimpleNamespace

import pytest

from maturity import queues
from maturity.models import CycleState, Status
from tests.factories import AssessmentFactory, CycleFactory, ICSFactory, TrustFactory, analyst, reviewer_of
from trusts.models import CareSetting


@pytest.fixture
def world(db):
    """Greater Manchester (QOP) in the open 2026 cycle (2027 is upcoming, so not current):

    RA (acute, community): acute submitted, community not started
    RB (acute): draft            RC (mental health): returned          RD (acute): approved
    RE: closed, no return (not expected)                RF: closed, its submitted return recorded in QOP
    RG: now in QVV, its submitted return recorded in QOP (listed in QOP only)
    RH: no return (not started)                          RV: QVV's own trust, draft (never in QOP's queue)

    So QOP's queue: not started 2, draft 1, submitted 3, returned 1, approved 1: 8 returns."""
    qop, qvv = ICSFactory(code="QOP"), ICSFactory(code="QVV")
    cycle = CycleFactory(year=2026)
    CycleFactory(year=2027, state=CycleState.UPCOMING)

    def trust(code, ics=qop, settings=(CareSetting.ACUTE,), **kwargs):
        return TrustFactory(code=code, ics=ics, care_settings=list(settings), **kwargs)

    def started(trust, status, setting=CareSetting.ACUTE, ics=qop):
        return AssessmentFactory(cycle=cycle, trust=trust, care_setting_id=setting, ics=ics, status=status)

    started(trust("RA", settings=[CareSetting.ACUTE, CareSetting.COMMUNITY]), Status.SUBMITTED)
    started(trust("RB"), Status.DRAFT)
    started(trust("RC", settings=[CareSetting.MENTAL_HEALTH]), Status.RETURNED, setting=CareSetting.MENTAL_HEALTH)
    started(trust("RD"), Status.APPROVED)
    trust("RE", closed_on=datetime.date(2025, 3, 31))
    started(trust("RF", closed_on=datetime.date(2026, 3, 31)), Status.SUBMITTED)
    started(trust("RG", ics=qvv), Status.SUBMITTED)
    trust("RH")
    started(trust("RV", ics=qvv), Status.DRAFT, ics=qvv)
    return SimpleNamespace(qop=qop, qvv=qvv, cycle=cycle)


def listed(returns):
    return sorted(
        (r.trust.code if r.trust else r.ics.code, r.care_setting.pk if r.care_setting else "", r.state) for r in returns
    )


def test_the_queue_lists_every_expected_return_started_or_not(world):
    assert listed(queues.trust_returns(world.qop, [world.cycle])) == [
        ("RA", "acute", "submitted"),
        ("RA", "community", "not-started"),
        ("RB", "acute", "draft"),
        ("RC", "mental-health", "returned"),
        ("RD", "acute", "approved"),
        ("RF", "acute", "submitted"),
        ("RG", "acute", "submitted"),
        ("RH", "acute", "not-started"),
    ]


def test_a_return_recorded_in_another_ics_is_not_shown_as_not_started(world):
    assert listed(queues.trust_returns(world.qvv, [world.cycle])) == [("RV", "acute", "draft")]


def test_the_counts_per_state_add_up_to_every_return(world):
    returns = queues.trust_returns(world.qop, [world.cycle])
    counts = queues.state_counts(returns)
    assert [(state.value, n) for state, n in counts] == [
        ("not-started", 2),
        ("draft", 1),
        ("submitted", 3),
        ("returned", 1),
        ("approved", 1),
    ]
    assert sum(n for _, n in counts) == len(returns)


def test_returns_awaiting_review_come_first(world):
    returns = queues.trust_returns(world.qop, [world.cycle])
    assert [r.state for r in returns[:3]] == ["submitted"] * 3


@pytest.mark.parametrize(("value", "state"), [("not-started", queues.State.NOT_STARTED), ("", None), ("bogus", None)])
def test_a_state_is_read_from_the_query_string(value, state):
    assert queues.parse_state(value) == state


def states_on(content: str) -> list[str]:
    """The states of the returns listed in the page's tables (rows of the counts table carry no link to a return)."""
    return re.findall(
        r'<tr class="nhsuk-table__row" data-state="([a-z-]+)">\s*<th scope="row" class="nhsuk-table__header"><span',
        content,
    )


def test_the_queue_page_lists_not_started_returns_and_counts_that_add_up(client, world):
    client.force_login(reviewer_of(world.qop))
    content = client.get("/ics/QOP/reviews/").content.decode()
    assert sorted(states_on(content)) == sorted(
        ["submitted"] * 3 + ["not-started"] * 2 + ["draft", "returned", "approved"]
    )
    assert 'href="/trusts/RH/assessments/2026/acute/"' in content
    assert re.search(r'data-state="all">.*?<strong>8</strong>', content, re.S)


def test_the_queue_page_filters_by_state(client, world):
    client.force_login(reviewer_of(world.qop))
    content = client.get("/ics/QOP/reviews/?state=not-started").content.decode()
    assert states_on(content) == ["not-started", "not-started"]
    # The counts still cover every return, and the form says which state is shown.
    assert re.search(r'data-state="all">.*?<strong>8</strong>', content, re.S)
    assert '<option value="not-started" selected>not started (2)</option>' in content
    assert '<select class="nhsuk-select" id="state" name="state">' in content
    assert '<button class="nhsuk-button nhsuk-button--secondary" type="submit">Show returns</button>' in content


def test_an_unknown_state_shows_every_return(client, world):
    client.force_login(reviewer_of(world.qop))
    assert len(states_on(client.get("/ics/QOP/reviews/?state=bogus").content.decode())) == 8


def test_the_icb_queue_lists_every_icbs_own_return(client, world):
    AssessmentFactory(
        cycle=world.cycle,
        trust=None,
        care_setting_id=None,
        ics=world.qop,
        framework=world.cycle.ics_framework,
        status=Status.SUBMITTED,
    )
    client.force_login(analyst())
    content = client.get("/reviews/icbs/").content.decode()
    assert sorted(states_on(content)) == ["not-started", "submitted"]
    assert 'href="/ics/QVV/assessments/2026/"' in content
    content = client.get("/reviews/icbs/?state=submitted").content.decode()
    assert states_on(content) == ["submitted"]
    assert 'href="/ics/QOP/assessments/2026/review/"' in content
