"""The review queues: every return expected in the current cycles, started or not, with where it stands.

A collected cycle expects one return per open trust and care setting (Trust.care_settings, as start_assessment and
the demo loader allow and as the summaries' progress counts them), listed under the trust's host ICS, and one return
per ICB of its own. A return already started is listed under the ICS it recorded in its cycle, so one that moved ICS
stays with the reviewers who own it rather than showing as not started in its new ICS."""

from dataclasses import dataclass

from django.db import models
from django.urls import reverse

from maturity.models import Assessment, Cycle, Status
from maturity.pages import assessment_url
from trusts.models import ICS, CareSetting, Trust


class State(models.TextChoices):
    """Where a return stands, as the queues filter it: an assessment's status, or not started."""

    NOT_STARTED = "not-started", "Not started"
    DRAFT = Status.DRAFT.value, Status.DRAFT.label
    SUBMITTED = Status.SUBMITTED.value, Status.SUBMITTED.label
    RETURNED = Status.RETURNED.value, Status.RETURNED.label
    APPROVED = Status.APPROVED.value, Status.APPROVED.label


@dataclass
class ExpectedReturn:
    cycle: Cycle
    ics: ICS
    trust: Trust | None = None
    care_setting: CareSetting | None = None
    assessment: Assessment | None = None

    @property
    def state(self) -> str:
        return self.assessment.status if self.assessment else State.NOT_STARTED.value

    @property
    def organisation_name(self) -> str:
        return self.trust.name if self.trust else self.ics.name

    @property
    def setting_label(self) -> str:
        return self.care_setting.name if self.care_setting else "ICB"

    @property
    def url(self) -> str:
        if self.assessment is not None:
            return assessment_url(self.assessment)
        if self.trust is None:
            return reverse("ics_assessment:overview", args=[self.ics.code, self.cycle.year])
        return reverse("trust_assessment:overview", args=[self.trust.code, self.cycle.year, self.care_setting.pk])

    @property
    def review_url(self) -> str:
        return assessment_url(self.assessment, "review") if self.state == State.SUBMITTED else ""


def _ordered(returns: list[ExpectedReturn]) -> list[ExpectedReturn]:
    """Those awaiting review first, then by cycle (newest first), organisation and care setting."""
    return sorted(
        returns,
        key=lambda r: (
            r.state != State.SUBMITTED,
            -r.cycle.year,
            r.organisation_name,
            r.care_setting.position if r.care_setting else 0,
        ),
    )


def trust_returns(ics: ICS, cycles: list[Cycle]) -> list[ExpectedReturn]:
    """Every provider return expected of, or recorded in, this ICS in these cycles."""
    started = list(
        Assessment.objects.for_trusts()
        .filter(cycle__in=cycles)
        .filter(models.Q(ics=ics) | models.Q(trust__ics=ics, trust__closed_on__isnull=True))
        .select_related("trust", "care_setting", "cycle", "ics")
    )
    returns = [ExpectedReturn(a.cycle, a.ics, a.trust, a.care_setting, a) for a in started if a.ics_id == ics.pk]
    # Any start, in whichever ICS, means the return is not "not started".
    keys = {(a.cycle_id, a.trust_id, a.care_setting_id) for a in started}
    trusts = Trust.objects.open().in_ics(ics).prefetch_related("care_settings").order_by("name")
    returns += [
        ExpectedReturn(cycle, ics, trust, setting)
        for cycle in cycles
        for trust in trusts
        for setting in trust.care_settings.all()
        if (cycle.pk, trust.pk, setting.pk) not in keys
    ]
    return _ordered(returns)


def icb_returns(cycles: list[Cycle]) -> list[ExpectedReturn]:
    """Every ICB's own return in these cycles."""
    started = Assessment.objects.for_icss().filter(cycle__in=cycles).select_related("cycle", "ics")
    returns = [ExpectedReturn(a.cycle, a.ics, assessment=a) for a in started]
    keys = {(a.cycle_id, a.ics_id) for a in started}
    icss = list(ICS.objects.all())
    returns += [ExpectedReturn(cycle, ics) for cycle in cycles for ics in icss if (cycle.pk, ics.pk) not in keys]
    return _ordered(returns)


def parse_state(value: str | None) -> State | None:
    """The state a queue is filtered by (?state=…); None shows every return."""
    return State(value) if value in State.values else None


def state_counts(returns: list[ExpectedReturn]) -> list[tuple[State, int]]:
    """How many returns are in each state, every state listed: they add up to all the returns."""
    return [(state, sum(1 for r in returns if r.state == state)) for state in State]


def in_state(returns: list[ExpectedReturn], state: State | None) -> list[ExpectedReturn]:
    return returns if state is None else [r for r in returns if r.state == state]
