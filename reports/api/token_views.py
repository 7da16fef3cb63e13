"""The page where each user creates and revokes their own API token (DRF's authtoken: one token per user)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods
from rest_framework.authtoken.models import Token


@login_required
@require_http_methods(["GET", "POST"])
def api_token(request):
    if request.method == "POST":
        # A token sees exactly what its user sees, so only its user manages it; creating replaces any old one.
        if request.POST.get("action") == "create":
            Token.objects.filter(user=request.user).delete()
            Token.objects.create(user=request.user)
            messages.success(request, "Your API token was created. Keep it secret: it sees what you see.")
        elif request.POST.get("action") == "revoke":
            Token.objects.filter(user=request.user).delete()
            messages.success(request, "Your API token was revoked: requests with it are now refused.")
        return redirect("api_token")
    token = Token.objects.filter(user=request.user).first()
    return render(
        request,
        "reports/api_token.html",
        {"token": token, "api_root": request.build_absolute_uri("/api/v1/")},
    )
