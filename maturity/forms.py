"""The forms of the assessment, review and cycle pages. Each reads a post into the values the actions take and says,
under the page's own field names, what is wrong with it; none writes. What an answer may be is for maturity.answers
to say: the forms call it, as the upload and the API do (through the actions). Whether this person may make this
change now, and what a cycle or a gap target may be, stay with maturity.actions, which the views call with what a
valid form read. Which errors make a post malformed (a 400) rather than a page to correct: config.forms."""

import math
from functools import cached_property

from django import forms

from config.forms import PageForm
from maturity import actions, answers, review_queries
from maturity.models import CycleState, Framework, FrameworkKind, IndicatorType, TargetKind, Theme

VERSION_MISSING = "The form was incomplete: it did not say which version of the assessment it changes"
# The cycle page shows the targets and a few blank rows: a row count beyond this did not come from it.
MAX_TARGET_ROWS = 100


def _text():
    """A typed field, kept as typed: maturity.answers and the actions strip and measure it."""
    return forms.CharField(required=False, strip=False)


def _messages(message: str, *codes: str) -> dict[str, str]:
    return dict.fromkeys(codes, message)


# --- Assessments -------------------------------------------------------------------------------------------------


class AssessmentChangeForm(PageForm):
    """A form that changes an assessment names the version it was filled in on: the actions refuse a stale one."""

    version = forms.IntegerField(
        min_value=1, error_messages=_messages(VERSION_MISSING, "required", "invalid", "min_value")
    )
    page_filled = ("version",)


def checked(form: PageForm) -> dict:
    """What a form read, to pass to an action. A post the page could not have sent is refused (MalformedPost: a 400
    that says what was wrong); a typed mistake raises actions.Invalid, which the pages show beside the field just as
    they show the actions' own refusals."""
    form.refuse_malformed()
    if not form.is_valid():
        raise actions.Invalid(form.field_errors())
    return form.cleaned_data


def posted_version(data) -> int:
    """The version named by a form with no other field of its own to check (the upload's file is parsed apart)."""
    return checked(AssessmentChangeForm(data))["version"]


class PillarForm(AssessmentChangeForm):
    """One pillar page: each domain's level (radios the page fills in), evidence note and evidence link, as
    `<domain code>-level` and so on, the keys maturity.answers names its errors by."""

    def __init__(self, domains, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.domains = {domain.code: domain for domain in domains}
        for code in self.domains:
            for name in actions.ANSWER_FIELDS:
                self.fields[f"{code}-{name}"] = _text()

    def is_page_filled(self, name: str) -> bool:
        return super().is_page_filled(name) or name.endswith("-level")

    def clean(self):
        _, errors = answers.clean_answers(self.domains, self.posted_answers())
        for key, message in errors.items():
            self.add_error(key, message)
        return self.cleaned_data

    def posted_answers(self) -> dict[str, dict]:
        """What was sent for each domain, by domain code, in the shape actions.save_answers takes."""
        return {code: {name: self.typed(f"{code}-{name}") for name in actions.ANSWER_FIELDS} for code in self.domains}


class DatePartsWidget(forms.Widget):
    """The NHS.UK date input: three boxes, `<name>-day`, `<name>-month` and `<name>-year`, read as one DateParts."""

    def value_from_datadict(self, data, files, name):
        return answers.DateParts(**{part: data.get(f"{name}-{part}", "") for part in answers.DATE_PARTS})


class DatePartsField(forms.Field):
    widget = DatePartsWidget

    def __init__(self, **kwargs):
        super().__init__(required=False, **kwargs)


class IndicatorsForm(AssessmentChangeForm):
    """The contextual indicators page: `indicator-<code>` each, a date as its three boxes."""

    def __init__(self, indicators, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.indicators = {indicator.code: indicator for indicator in indicators}
        for code, indicator in self.indicators.items():
            is_date = indicator.value_type == IndicatorType.DATE
            self.fields[f"indicator-{code}"] = DatePartsField() if is_date else _text()

    def clean(self):
        _, errors = answers.clean_indicators(self.indicators, self.posted_values())
        for key, message in errors.items():
            self.add_error(key, message)
        return self.cleaned_data

    def posted_values(self) -> dict[str, object]:
        """What was sent for each indicator, by code: a date as DateParts, anything else as text."""
        return {code: self.typed(f"indicator-{code}") for code in self.indicators}


class SubmitForm(AssessmentChangeForm):
    """The sign-off. That the names are given and the declaration ticked is actions.submit_assessment's rule."""

    sign_off_name = _text()
    sign_off_role = _text()
    declared = forms.ChoiceField(
        choices=[("yes", "Yes")],
        required=False,
        error_messages={"invalid_choice": "The declaration's box sends ‘yes’ when it is ticked, not ‘%(value)s’"},
    )
    page_filled = ("version", "declared")

    def sign_off(self) -> dict:
        return {
            "sign_off_name": self.typed("sign_off_name"),
            "sign_off_role": self.typed("sign_off_role"),
            "declared": self.typed("declared") == "yes",
        }


class ReopenForm(AssessmentChangeForm):
    reason = _text()


def _ticked(label: str):
    """A box the page fills in: it sends ‘yes’ when ticked and nothing when not."""
    return forms.ChoiceField(
        choices=[("yes", "Yes")],
        required=False,
        error_messages={"invalid_choice": f"{label} sends ‘yes’ when it is ticked, not ‘%(value)s’"},
    )


class ReviewForm(AssessmentChangeForm):
    """The reviewer's decision (the button pressed) with the comment on the whole and one per domain,
    `comment-<domain code>`, and a box per cross-check that fired, `query-<rule>-<domain or indicator code>`: every
    box on the page goes with either button. Every query box sent is read, not only those of the checks that fire
    as the page is read again: whether a check still fires is for actions.return_assessment to say."""

    decision = forms.ChoiceField(
        choices=[("approve", "Approve"), ("return", "Return for changes")],
        error_messages={
            "required": "The form did not say whether to return or approve the assessment",
            "invalid_choice": "A review is returned or approved, not ‘%(value)s’",
        },
    )
    comment = _text()
    page_filled = ("version", "decision")

    def __init__(self, domain_codes, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.domain_codes = list(domain_codes)
        for code in self.domain_codes:
            self.fields[f"comment-{code}"] = _text()
        self.query_fields = [name for name in self.data if name.startswith(review_queries.FIELD_PREFIX)]
        for name in self.query_fields:
            self.fields[name] = _ticked("The box “Send this query to the trust”")

    def is_page_filled(self, name: str) -> bool:
        return super().is_page_filled(name) or name in self.query_fields

    def comments(self) -> dict[str, str]:
        """The comments typed, by domain code ("" for the whole assessment)."""
        return {"": self.typed("comment"), **{code: self.typed(f"comment-{code}") for code in self.domain_codes}}

    def queries(self) -> list[str]:
        """The keys of the checks ticked to be sent as queries."""
        return [
            name.removeprefix(review_queries.FIELD_PREFIX) for name in self.query_fields if self.typed(name) == "yes"
        ]


class QueryAnswerForm(AssessmentChangeForm):
    """The lead's answer to a query: whether they changed the answer or explain it, and the explanation. What an
    answer needs is actions.answer_query's rule."""

    answer = _text()
    explanation = _text()

    def answered(self) -> dict:
        return {"answer": self.typed("answer"), "explanation": self.typed("explanation")}


class EvidenceVerificationForm(PageForm):
    """The review page's "Evidence verified" boxes, `verified-<domain code>`, one per domain with evidence; posted
    with the decision (ReviewForm) and saved with it."""

    def __init__(self, domain_codes, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.domain_codes = list(domain_codes)
        for code in self.domain_codes:
            self.fields[f"verified-{code}"] = forms.BooleanField(required=False)

    def ticked(self) -> set[str]:
        """The codes of the domains whose box was ticked (a checkbox sends its name only when ticked)."""
        return {code for code in self.domain_codes if f"verified-{code}" in self.data}


# --- Cycles (analysts) -------------------------------------------------------------------------------------------

DATE_MESSAGE = "Enter a date like 2026-03-31"


def _date():
    return forms.DateField(required=False, input_formats=["%Y-%m-%d"], error_messages={"invalid": DATE_MESSAGE})


class NewCycleForm(PageForm):
    year = forms.IntegerField(
        min_value=2000,
        max_value=2100,
        error_messages=_messages(
            "Enter the year as four digits, like 2027", "required", "invalid", "min_value", "max_value"
        ),
    )
    # Left empty, the action says to choose one; a value not in the list did not come from the page.
    trust_framework = forms.ModelChoiceField(
        Framework.objects.filter(kind=FrameworkKind.TRUST),
        required=False,
        error_messages={"invalid_choice": "That trust framework is not one of those listed: choose from the list"},
    )
    ics_framework = forms.ModelChoiceField(
        Framework.objects.filter(kind=FrameworkKind.ICS),
        required=False,
        error_messages={"invalid_choice": "That ICB framework is not one of those listed: choose from the list"},
    )
    opens_on = _date()
    closes_on = _date()
    page_filled = ("trust_framework", "ics_framework")


class CycleForm(PageForm):
    """A cycle's state and dates. Which state it may move to is actions.update_cycle's rule."""

    state = forms.ChoiceField(
        choices=CycleState.choices,
        error_messages=_messages(
            f"A cycle's state is one of {', '.join(CycleState.values)}, not ‘%(value)s’", "invalid_choice"
        )
        | {"required": "The form did not say which state the cycle is in"},
    )
    opens_on = _date()
    closes_on = _date()
    page_filled = ("state",)


class GapTargetForm(PageForm):
    """One row of the gap targets, fields `target-<number>-<name>`. A row without a description is no target.
    The value is typed by its kind: a list for 'one of', otherwise a number if it is a finite one; anything else is
    kept as typed for actions.set_gap_targets to say what to type, with the indicator's bounds."""

    description = forms.CharField(required=False)
    theme = forms.ChoiceField(choices=Theme.choices)
    kind = forms.ChoiceField(choices=TargetKind.choices)
    indicator_code = forms.CharField(required=False)
    value = _text()
    page_filled = ("theme", "kind")

    def __init__(self, number: int, *args, **kwargs):
        super().__init__(*args, prefix=f"target-{number}", **kwargs)
        self.number = number
        self.fields["theme"].error_messages = _messages(
            f"Target {number}: the theme must be one of {', '.join(Theme.values)}", "required", "invalid_choice"
        )
        self.fields["kind"].error_messages = _messages(
            f"Target {number}: what it measures must be one of {', '.join(TargetKind.values)}",
            "required",
            "invalid_choice",
        )

    @property
    def is_blank(self) -> bool:
        return not str(self.typed("description")).strip()

    def clean_value(self):
        raw = self.cleaned_data["value"]
        if self.cleaned_data.get("kind") == TargetKind.INDICATOR_IN:
            return [part.strip() for part in raw.split(",") if part.strip()]
        try:
            number = float(raw)
        except ValueError:
            return raw
        return number if math.isfinite(number) else raw

    def target(self) -> dict:
        return {name: self.cleaned_data[name] for name in ("theme", "kind", "indicator_code", "value", "description")}


class GapTargetsForm(PageForm):
    """Every row of the gap targets: `target_rows` says how many the page sent."""

    target_rows = forms.IntegerField(
        min_value=0,
        max_value=MAX_TARGET_ROWS,
        error_messages=_messages(
            f"The form did not say how many target rows it sent, as a number from 0 to {MAX_TARGET_ROWS}",
            "required",
            "invalid",
            "min_value",
            "max_value",
        ),
    )
    page_filled = ("target_rows",)

    @cached_property
    def rows(self) -> list[GapTargetForm]:
        """The rows with a description; the form must be valid."""
        rows = (GapTargetForm(number, self.data) for number in range(1, self.cleaned_data["target_rows"] + 1))
        return [row for row in rows if not row.is_blank]

    def malformed(self) -> list[str]:
        if problems := super().malformed():
            return problems
        return [problem for row in self.rows for problem in row.malformed()]

    def targets(self) -> list[dict]:
        return [row.target() for row in self.rows]
