from django import template
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from maturity.models import Status

register = template.Library()

STATUS_COLOURS = {
    Status.DRAFT: "grey",
    Status.SUBMITTED: "blue",
    Status.RETURNED: "orange",
    Status.APPROVED: "green",
    Status.PUBLISHED: "purple",
}


@register.simple_tag
def status_tag(status: str, label: str = ""):
    """An NHS.UK tag for an assessment status; 'Not started' when there is none."""
    if not status:
        return mark_safe('<strong class="nhsuk-tag nhsuk-tag--white">Not started</strong>')  # noqa: S308 - constant
    label = label or Status(status).label
    return format_html('<strong class="nhsuk-tag nhsuk-tag--{}">{}</strong>', STATUS_COLOURS[status], label)
