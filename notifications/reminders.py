"""Reminders before a cycle's deadline (Cycle.closes_on) to the makers of every return not yet submitted: not
started, draft or returned. Beat runs this every day; each reminder goes once per person, return and threshold
(the outbox's unique key), so running it twice, or every hour, sends nothing twice."""

from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from maturity.models import EDITABLE_STATUSES, Assessment, Cycle, Source
from notifications import recipients
from notifications.models import Kind
from notifications.outbox import absolute, write
from trusts.models import ICS, CareSetting, Trust

THRESHOLDS = (14, 3)


def threshold_for(days_left: int) -> int | None:
    """The reminder due this many days before the deadline: the 14-day one from 14 days down to 4, the 3-day one
    from 3 to the deadline day. A day beat missed is caught up the next, and nobody gets both on one day."""
    due = [threshold for threshold in THRESHOLDS if 0 <= days_left <= threshold]
    return min(due) if due else None


@dataclass(frozen=True)
class Return:
    """A return someone should make in a cycle: a trust's for one care setting, or an ICB's own (no trust), with its
    assessment when started."""

    cycle: Cycle
    trust: Trust | None
    setting: CareSetting | None
    ics: ICS | None
    assessment: Assessment | None

    @property
    def code(self) -> str:
        return self.trust.code if self.trust else self.ics.code

    @property
    def title(self) -> str:
        """'Manchester University NHS Foundation Trust, Acute, 2026', or 'NHS … Integrated Care Board, 2026'."""
        if self.trust:
            return f"{self.trust.name}, {self.setting.name}, {self.cycle.year}"
        return f"{self.ics.name}, {self.cycle.year}"

    @property
    def status(self) -> str:
        return self.assessment.get_status_display().lower() if self.assessment else "not started"

    @property
    def link(self) -> str:
        if self.trust:
            kwargs = {"code": self.trust.code, "year": self.cycle.year, "setting": self.setting.slug}
            return absolute(reverse("trust_assessment:overview", kwargs=kwargs))
        return absolute(reverse("ics_assessment:overview", kwargs={"code": self.ics.code, "year": self.cycle.year}))

    def makers(self):
        return recipients.leads_of(self.trust) if self.trust else recipients.reviewers_of(self.ics)

    def key(self, threshold: int, user) -> str:
        setting = self.setting.slug if self.setting else "icb"
        return f"reminder:{self.cycle.year}:{self.code}:{setting}:{threshold}:{user.pk}"


def unsubmitted_returns(cycle: Cycle) -> list[Return]:
    """Every open trust's return for each of its care settings, and every ICB's own, that is not started, a draft or
    returned in this cycle."""
    made = Assessment.objects.in_cycle(cycle).filter(source=Source.RETURN)
    trusts_made = {(a.trust_id, a.care_setting_id): a for a in made if a.trust_id}
    icbs_made = {a.ics_id: a for a in made if not a.trust_id}
    found = [
        Return(cycle, trust, setting, None, trusts_made.get((trust.pk, setting.pk)))
        for trust in Trust.objects.open().prefetch_related("care_settings").order_by("code")
        for setting in trust.care_settings.all()
    ]
    found += [Return(cycle, None, None, ics, icbs_made.get(ics.pk)) for ics in ICS.objects.order_by("code")]
    return [r for r in found if r.assessment is None or r.assessment.status in EDITABLE_STATUSES]


def send_reminders(today: date | None = None) -> int:
    """Write the reminders due today for every open cycle with a deadline; returns how many e-mails were written."""
    today = today or timezone.localdate()
    written = 0
    for cycle in Cycle.objects.collected().open().filter(closes_on__isnull=False):
        days_left = (cycle.closes_on - today).days
        threshold = threshold_for(days_left)
        if threshold is None:
            continue
        for unsubmitted in unsubmitted_returns(cycle):
            with transaction.atomic():
                written += len(remind(unsubmitted, threshold=threshold, days_left=days_left))
    return written


def remind(unsubmitted: Return, *, threshold: int, days_left: int) -> list[int]:
    when = {0: "today", 1: "tomorrow"}.get(days_left, f"in {days_left} days")
    return write(
        Kind.REMINDER,
        unsubmitted.makers(),
        subject=f"Due {when}: {unsubmitted.title}",
        template="notifications/email/reminder.txt",
        context={
            "organisation": unsubmitted.trust.name if unsubmitted.trust else unsubmitted.ics.name,
            "setting": unsubmitted.setting.name if unsubmitted.setting else "",
            "year": unsubmitted.cycle.year,
            "deadline": unsubmitted.cycle.closes_on,
            "when": when,
            "status": unsubmitted.status,
            "link": unsubmitted.link,
        },
        assessment=unsubmitted.assessment,
        dedupe_key=lambda user: unsubmitted.key(threshold, user),
    )
