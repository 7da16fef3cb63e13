"""The page where each user creates and revokes their own API token. One token per user: creating replaces the
old one. The token is shown once, in the answer to the request that made it; only its digest is stored."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from reports.api.forms import TokenForm
from reports.models import ApiToken


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def api_token(request):
    new_token = None
    if request.method == "POST":
        form = TokenForm(request.POST)
        form.refuse_malformed()
        # A token sees exactly what its user sees, so only its user manages it.
        ApiToken.objects.filter(user=request.user).delete()
        if form.cleaned_data["action"] == "revoke":
            messages.success(request, "Your API token was revoked: requests with it are now refused.")
            return redirect("api_token")
        _, new_token = ApiToken.objects.create(user=request.user)
    return render(
        request,
        "reports/api_token.html",
        {
            "token": ApiToken.objects.filter(user=request.user).first(),
            "new_token": new_token,
            "api_root": request.build_absolute_uri("/api/v1/"),
        },
    )
