"""The planner's form: for each answered domain below the top level, a planned level, a target date and an owner,
as `<domain code>-level`, `-target_date` and `-owner`. It reads what was typed; what a step may be (above today's
level, not before the cycle opens, an owner named) is for planning.actions to say."""

from dataclasses import dataclass

from django import forms

from config.forms import PageForm
from planning import simulate
from planning.actions import Step

ACTIONS = ("simulate", "save")


@dataclass
class Row:
    """One domain's line of the form: its three fields, each with its error (None when it has none) and its
    column's heading (shown beside the field on narrow screens, where the table's columns stack)."""

    answer: simulate.Answer
    cells: list[tuple[forms.BoundField, str | None, str]]
    holds_back: bool = False


class PlanForm(PageForm):
    # Which button was pressed: "Show the simulation" or "Save plan". Only the page sends it.
    action = forms.ChoiceField(choices=[(action, action) for action in ACTIONS], required=False)
    # The plan's version the page showed (0: no plan yet), so that a save over someone else's is refused.
    version = forms.IntegerField(min_value=0, widget=forms.HiddenInput)
    page_filled = ("action", "version")

    def __init__(self, answers: list[simulate.Answer], *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.plannable = [a for a in answers if a.level is not None and a.level < simulate.TOP_LEVEL]
        for answer in self.plannable:
            label = f"{answer.code} {answer.name}"
            choices = [("", "No change")] + [
                (level, f"Level {level}") for level in range(answer.level + 1, simulate.TOP_LEVEL + 1)
            ]
            self.fields[f"{answer.code}-level"] = forms.IntegerField(
                required=False,
                label=f"Planned level for {label}",
                widget=forms.Select(choices=choices, attrs={"class": "nhsuk-select"}),
                error_messages={"invalid": f"{label}: choose a planned level from the list"},
            )
            self.fields[f"{answer.code}-target_date"] = forms.DateField(
                required=False,
                label=f"Target date for {label}",
                input_formats=["%Y-%m-%d", "%d/%m/%Y"],
                widget=forms.DateInput(
                    format="%Y-%m-%d", attrs={"type": "date", "class": "nhsuk-input nhsuk-input--width-10"}
                ),
                error_messages={"invalid": f"{label}: the target date must be a real date, for example 2027-03-31"},
            )
            self.fields[f"{answer.code}-owner"] = forms.CharField(
                required=False,
                strip=False,
                label=f"Owner of {label}",
                widget=forms.TextInput(attrs={"class": "nhsuk-input", "autocomplete": "off"}),
            )

    def clean(self):
        cleaned = super().clean()
        for answer in self.plannable:
            date_field = f"{answer.code}-target_date"
            planned = cleaned.get(f"{answer.code}-level") is not None
            if planned and cleaned.get(date_field) is None and date_field not in self.errors:
                self.add_error(date_field, f"{answer.code} {answer.name}: enter a target date for the step")
        return cleaned

    @property
    def wants_save(self) -> bool:
        return self.cleaned_data.get("action") == "save"

    def show_version(self, version: int) -> None:
        """Carry `version` in the page from now on: after a refused save, a second save replaces the plan."""
        self.data = self.data.copy()
        self.data[self.add_prefix("version")] = version

    def steps(self) -> dict[str, Step]:
        """The rows with a planned level, as the action takes them; rows left at "No change" are not steps."""
        found = {}
        for answer in self.plannable:
            typed = {part: self.cleaned_data.get(f"{answer.code}-{part}") for part in ("level", "target_date", "owner")}
            if typed["level"] is not None:
                found[answer.code] = Step(typed["level"], typed["target_date"], typed["owner"] or "")
        return found

    def row(self, answer: simulate.Answer, holds_back: bool, errors: dict[str, str]) -> Row:
        parts = [("level", "Planned level"), ("target_date", "Target date"), ("owner", "Owner")]
        cells = [
            (self[f"{answer.code}-{part}"], errors.get(f"{answer.code}-{part}"), heading) for part, heading in parts
        ]
        return Row(answer, cells, holds_back)


def initial_from(plan, steps) -> dict:
    """The saved plan's version and steps as the form's first values."""
    initial = {"version": plan.version if plan else 0}
    for step in steps:
        code = step.domain.code
        initial |= {f"{code}-level": step.level, f"{code}-target_date": step.target_date, f"{code}-owner": step.owner}
    return initial
