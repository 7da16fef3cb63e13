"""Account pages: invitations (list and send; accept) and setting a password from an operator's link. Thin: each
calls trusts.actions and renders."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import SetPasswordForm
from django.contrib.auth.views import PasswordResetConfirmView
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from trusts import actions
from trusts.forms import InvitationForm
from trusts.models import Invitation

# The invitations page lists the most recent; older ones stay in the admin.
INVITATIONS_SHOWN = 100


@login_required
@require_http_methods(["GET", "POST"])
def invitations(request):
    if not actions.may_invite(request.user):
        raise PermissionDenied("Only NHS England analysts and ICS reviewers invite people.")
    form = InvitationForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invitation = actions.invite(
                by=request.user,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                organisation=form.cleaned_data["organisation"],
                site_url=request.build_absolute_uri("/"),
            )
        except actions.Invalid as invalid:
            for field, message in invalid.errors.items():
                form.add_error(field, message)
        except actions.RoleError as refusal:
            form.add_error(None, str(refusal))
        else:
            messages.success(
                request,
                f"An invitation was sent to {invitation.email}: {invitation.get_role_display()}, "
                f"{invitation.organisation_name}.",
            )
            return redirect("invitations")
    shown = (
        Invitation.objects.managed_by(request.user)
        .select_related("trust", "ics", "invited_by", "accepted_by")
        .order_by("-created_at", "-pk")[:INVITATIONS_SHOWN]
    )
    return render(
        request,
        "trusts/invitations.html",
        {"form": form, "invitations": shown, "valid_days": settings.INVITATION_VALID_DAYS},
    )


@login_required
@require_http_methods(["POST"])
def withdraw_invitation(request, pk):
    """The Withdraw button beside a waiting invitation: its link stops working. Refusals come back as a message on
    the invitations page, which shows the invitation's state."""
    if not actions.may_invite(request.user):
        raise PermissionDenied("Only NHS England analysts and ICS reviewers invite people.")
    invitation = get_object_or_404(Invitation.objects.managed_by(request.user), pk=pk)
    try:
        actions.withdraw_invitation(by=request.user, invitation=invitation)
    except actions.Invalid as invalid:
        messages.error(request, invalid.errors["invitation"])
    else:
        messages.success(request, f"The invitation to {invitation.email} was withdrawn: its link no longer works.")
    return redirect("invitations")


@never_cache
@sensitive_post_parameters("new_password1", "new_password2")
@require_http_methods(["GET", "POST"])
def accept_invitation(request, token):
    """Three ways in: a new account (or one without a password yet) chooses a password here and is logged in; an
    account with a password logs in first and confirms; anything that cannot be accepted says why."""
    try:
        invitation = actions.invitation_for(token)
        account = actions.account_for(invitation.email)
    except actions.RoleError as refusal:
        return _refused(request, refusal)
    context = {"invitation": invitation, "account": account}
    if account is not None and account.has_usable_password():
        if request.user.pk != account.pk:
            context["login_url"] = f"{reverse('login')}?next={request.path}"
            return render(request, "trusts/accept_invitation.html", {**context, "mode": "log-in"})
        if request.method == "POST":
            try:
                actions.accept_invitation(token=token, user=request.user)
            except actions.RoleError as refusal:
                return _refused(request, refusal)
            return _accepted(request, invitation)
        return render(request, "trusts/accept_invitation.html", {**context, "mode": "confirm"})
    new_account = account or get_user_model()(username=invitation.email, email=invitation.email)
    form = SetPasswordForm(new_account, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = actions.accept_invitation(token=token, password=form.cleaned_data["new_password1"])
        except actions.RoleError as refusal:
            return _refused(request, refusal)
        login(request, user)
        return _accepted(request, invitation)
    return render(
        request,
        "trusts/accept_invitation.html",
        {**context, "mode": "set-password", "form": form, "username": new_account.username},
    )


def _accepted(request, invitation):
    messages.success(request, f"Welcome. You are now {invitation.get_role_display()}, {invitation.organisation_name}.")
    return redirect("home")


def _refused(request, refusal):
    status = getattr(refusal, "status", 409)
    return render(request, "trusts/invitation_refused.html", {"message": str(refusal)}, status=status)


class SetPasswordView(PasswordResetConfirmView):
    """The one-time link `manage.py grant_role` prints for an account it creates: Django's password-reset link
    (single use, since it signs the current password hash; valid PASSWORD_RESET_TIMEOUT seconds)."""

    template_name = "registration/set_password.html"
    post_reset_login = True
    success_url = reverse_lazy("home")

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, "Your password is set and you are logged in.")
        return response
