"""The planner's link on the assessment and trust pages: shown to those planning.actions.may_plan lets in."""

from django import template

from planning.actions import may_plan
from planning.views import plan_url

register = template.Library()


@register.simple_tag(takes_context=True)
def plan_link(context, assessment) -> str:
    """The URL of the assessment's planner, or '' when there is none for this person (or no assessment)."""
    request = context.get("request")
    if assessment is None or request is None or not may_plan(request.user, assessment):
        return ""
    return plan_url(assessment)
