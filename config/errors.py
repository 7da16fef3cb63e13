"""A post its page could not have sent (a hidden field, a radio's or a button's value changed or left out) is a
400. Django's own 400 page shows no message, so that no exception text reaches the page; a MalformedPost's message
is written to be shown, and says what was wrong."""

from django.core.exceptions import BadRequest
from django.shortcuts import render
from django.views import defaults
from django.views.decorators.csrf import requires_csrf_token


class MalformedPost(BadRequest):
    """Raised by a view whose form refused what only the page itself fills in; the message is fit to show."""


@requires_csrf_token
def bad_request(request, exception):
    if isinstance(exception, MalformedPost):
        return render(request, "400.html", {"message": str(exception)}, status=400)
    return defaults.bad_request(request, exception)
