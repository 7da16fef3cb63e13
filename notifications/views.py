"""The page where each person chooses the e-mails they get."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from notifications import preferences
from notifications.forms import PreferencesForm


@login_required
@require_http_methods(["GET", "POST"])
def notification_preferences(request):
    if request.method == "POST":
        form = PreferencesForm(request.user, request.POST)
        form.refuse_malformed()
        preferences.choose(request.user, on=set(form.cleaned_data["kinds"]))
        messages.success(request, "Your e-mail choices were saved.")
        return redirect("notification_preferences")
    on = preferences.switched_on(request.user)
    kinds = [
        {"value": kind.value, "label": kind.label, "on": kind in on} for kind in preferences.kinds_for(request.user)
    ]
    return render(request, "notifications/preferences.html", {"kinds": kinds})
