"""Every change to who holds which role goes through these functions: the admin, the invitation pages and
`manage.py grant_role` all call them. Each checks who may do it, writes in one transaction and records a RoleEvent.

Who may give (or take away) a role: admins and analysts any; an ICS reviewer only a trust lead of one of its ICS's
member trusts; the operator at the command line (`by=OPERATOR`) any. Only admins, analysts and the operator
deactivate accounts.
"""

from datetime import date

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import dateformat, timezone

from trusts import invitations, permissions
from trusts.models import ICS, Invitation, Membership, Role, RoleAction, RoleEvent, Trust

# The operator at the command line: no account, every right. Recorded as an event with no actor.
OPERATOR = None


class RoleError(Exception):
    """A refusal the person can act on; the message says what and why."""


class Invalid(RoleError):
    """Input that does not pass validation. `errors` maps a form field (email, role, organisation, starts_on,
    ends_on) to its message."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(errors.values()))


class InvitationRefused(RoleError):
    """The invitation cannot be accepted (unknown, used, expired, or its inviter lost the right to give it).
    `status`: 404 for a link that never worked, 410 (gone) for one that did."""

    def __init__(self, message: str, status: int = 410):
        self.status = status
        super().__init__(message)


# --- Rules (pure, or reads) ---------------------------------------------------------------------------------------


def may_grant(by, role: str, organisation: Trust | ICS | None) -> bool:
    if by is OPERATOR:
        return True
    if not by.is_authenticated or not by.is_active:
        return False
    viewer = permissions.viewer_of(by)
    if viewer.sees_everything:
        return True
    reviews_its_ics = isinstance(organisation, Trust) and organisation.ics_id in viewer.reviewed_ics_ids
    return role == Role.TRUST_LEAD and reviews_its_ics


def may_invite(user) -> bool:
    """Opens the invitations page: admins, analysts and ICS reviewers."""
    viewer = permissions.viewer_of(user)
    return viewer.sees_everything or bool(viewer.reviewed_ics_ids)


def may_deactivate(by) -> bool:
    return by is OPERATOR or permissions.can(by, permissions.MANAGE, None)


def grantable_roles(by) -> list[Role]:
    if may_grant(by, Role.ANALYST, None):
        return list(Role)
    return [Role.TRUST_LEAD] if may_invite(by) else []


def grantable_organisations(by) -> tuple[list[ICS], list[Trust]]:
    """The ICSs and open trusts `by` may give roles in, for the invitation form's choices."""
    trusts = Trust.objects.open().order_by("name")
    if may_grant(by, Role.ANALYST, None):
        return list(ICS.objects.order_by("name")), list(trusts)
    return [], list(trusts.filter(ics_id__in=permissions.viewer_of(by).reviewed_ics_ids))


def organisation_by_code(code: str) -> Trust | ICS:
    """A trust or an ICS by its ODS code (the two never share one)."""
    code = code.strip().upper()
    found = Trust.objects.filter(code=code).first() or ICS.objects.filter(code=code).first()
    if found is None:
        raise Invalid({"organisation": f"No trust or ICS has the ODS code '{code}'"})
    return found


def check_organisation(role: str, organisation: Trust | ICS | None) -> None:
    """The organisation a role names: a trust lead an open trust, an ICS reviewer an ICS, an analyst none."""
    if role not in Role.values:
        raise Invalid({"role": "Choose a role: trust lead, ICS reviewer or analyst"})
    if role == Role.TRUST_LEAD and not isinstance(organisation, Trust):
        raise Invalid({"organisation": "A trust lead belongs to a trust: choose a trust"})
    if role == Role.TRUST_LEAD and not organisation.is_open:
        closed_on = dateformat.format(organisation.closed_on, "j F Y")
        raise Invalid({"organisation": f"{organisation.name} closed on {closed_on}: choose an open trust"})
    if role == Role.ICS_REVIEWER and not isinstance(organisation, ICS):
        raise Invalid({"organisation": "An ICS reviewer belongs to an ICS: choose an integrated care board"})
    if role == Role.ANALYST and organisation is not None:
        raise Invalid({"organisation": "Analysts belong to NHS England: choose no organisation"})


def account_for(email: str):
    """The one account with this e-mail address (or with it as its username), or None."""
    accounts = list(get_user_model().objects.filter(Q(email__iexact=email) | Q(username__iexact=email))[:2])
    if len(accounts) > 1:
        raise RoleError(f"More than one account uses {email}: ask an administrator to sort them out first.")
    return accounts[0] if accounts else None


def _require_may_grant(by, role: str, organisation) -> None:
    if not may_grant(by, role, organisation):
        raise PermissionDenied("ICS reviewers may give only the trust lead role, and only for their ICS's trusts.")


def _organisation_fields(organisation) -> dict:
    return {
        "trust": organisation if isinstance(organisation, Trust) else None,
        "ics": organisation if isinstance(organisation, ICS) else None,
    }


def _period(starts_on: date, ends_on: date | None) -> str:
    return f"from {starts_on:%Y-%m-%d}" + (f" until {ends_on:%Y-%m-%d}" if ends_on else "")


def _record(by, action: str, *, subject=None, email="", role="", organisation=None, invitation=None, note=""):
    RoleEvent.objects.create(
        actor=by,
        subject=subject,
        email=email or (subject.email if subject else ""),
        action=action,
        role=role,
        invitation=invitation,
        note=note,
        **_organisation_fields(organisation),
    )


def _check_dates(starts_on: date, ends_on: date | None) -> None:
    if ends_on is not None and ends_on < starts_on:
        raise Invalid({"ends_on": "The end must be on or after the start"})


def _open_membership(user, role: str, organisation, starts_on: date | None, ends_on: date | None):
    """The user's membership in force for this role and organisation, created or (if it ended or has yet to start)
    re-opened, so that there is one row per user and organisation. Returns it and whether anything changed."""
    today = timezone.localdate()
    membership = (
        Membership.objects.select_for_update()
        .filter(user=user, role=role, **_organisation_fields(organisation))
        .first()
    )
    if membership is None:
        _check_dates(starts_on or today, ends_on)
        membership = Membership.objects.create(
            user=user, role=role, starts_on=starts_on or today, ends_on=ends_on, **_organisation_fields(organisation)
        )
        return membership, True
    current = membership.is_current(today)
    starts_on = starts_on or (membership.starts_on if current else today)
    _check_dates(starts_on, ends_on)
    if (membership.starts_on, membership.ends_on) == (starts_on, ends_on):
        return membership, False
    membership.starts_on, membership.ends_on = starts_on, ends_on
    membership.save(update_fields=["starts_on", "ends_on"])
    return membership, True


def _locked_membership(membership: Membership) -> Membership:
    return Membership.objects.select_for_update(of=("self",)).select_related("trust", "ics").get(pk=membership.pk)


# --- Actions -----------------------------------------------------------------------------------------------------


@transaction.atomic
def grant_role(*, by, user, role: str, organisation=None, starts_on=None, ends_on=None) -> Membership:
    """Give `user` the role from `starts_on` (today by default) until the day before `ends_on` (open-ended by
    default). Granting a role the user holds already changes nothing and records nothing."""
    check_organisation(role, organisation)
    _require_may_grant(by, role, organisation)
    if not user.is_active:
        raise RoleError(f"{user} is deactivated: an administrator must reactivate the account first.")
    membership, changed = _open_membership(user, role, organisation, starts_on, ends_on)
    if changed:
        note = _period(membership.starts_on, membership.ends_on)
        _record(by, RoleAction.GRANT, subject=user, role=role, organisation=organisation, note=note)
    return membership


@transaction.atomic
def set_membership_dates(*, by, membership: Membership, starts_on: date, ends_on: date | None) -> Membership:
    membership = _locked_membership(membership)
    _require_may_grant(by, membership.role, membership.organisation)
    _check_dates(starts_on, ends_on)
    before = _period(membership.starts_on, membership.ends_on)
    if (membership.starts_on, membership.ends_on) == (starts_on, ends_on):
        return membership
    membership.starts_on, membership.ends_on = starts_on, ends_on
    membership.save(update_fields=["starts_on", "ends_on"])
    _record(
        by,
        RoleAction.CHANGE_DATES,
        subject=membership.user,
        role=membership.role,
        organisation=membership.organisation,
        note=f"{before} → {_period(starts_on, ends_on)}",
    )
    return membership


def _end(by, membership: Membership, note: str) -> bool:
    """End a membership today (one not yet started: on the day it would have started, so it never counts)."""
    today = timezone.localdate()
    if membership.ends_on is not None and membership.ends_on <= max(today, membership.starts_on):
        return False
    membership.ends_on = max(today, membership.starts_on)
    membership.save(update_fields=["ends_on"])
    _record(
        by,
        RoleAction.REVOKE,
        subject=membership.user,
        role=membership.role,
        organisation=membership.organisation,
        note=note,
    )
    return True


@transaction.atomic
def revoke_role(*, by, membership: Membership) -> Membership:
    """End the membership today. It is kept, ended, with the events that explain it."""
    membership = _locked_membership(membership)
    _require_may_grant(by, membership.role, membership.organisation)
    _end(by, membership, note=f"ended on {timezone.localdate():%Y-%m-%d}")
    return membership


@transaction.atomic
def deactivate_user(*, by, user):
    """Close an account: it can no longer log in, its API token is deleted (so the API answers 401) and its
    memberships end today. The account is kept, for the audit history that names it."""
    if not may_deactivate(by):
        raise PermissionDenied("Only administrators and analysts deactivate accounts.")
    if by is not OPERATOR and by.pk == user.pk:
        raise RoleError("You cannot deactivate your own account.")
    user = get_user_model().objects.select_for_update().get(pk=user.pk)
    was_active = user.is_active
    if was_active:
        user.is_active = False
        user.save(update_fields=["is_active"])
    token_deleted, _ = user.auth_token_set.all().delete()  # django-rest-knox's tokens (reports.ApiToken)
    ended = [
        membership
        for membership in Membership.objects.select_for_update(of=("self",))
        .filter(user=user)
        .select_related("trust", "ics")
        if _end(by, membership, note="account deactivated")
    ]
    if was_active or token_deleted or ended:
        _record(by, RoleAction.DEACTIVATE, subject=user, note="API token deleted" if token_deleted else "")
    return user


@transaction.atomic
def reactivate_user(*, by, user):
    """Open a deactivated account again. Its roles stay ended (deactivation ended them): whoever reactivates gives
    the roles it needs now, each recorded on its own."""
    if not may_deactivate(by):
        raise PermissionDenied("Only administrators and analysts reactivate accounts.")
    user = get_user_model().objects.select_for_update().get(pk=user.pk)
    if user.is_active:
        return user
    user.is_active = True
    user.save(update_fields=["is_active"])
    _record(by, RoleAction.REACTIVATE, subject=user, note="roles stay ended until granted again")
    return user


@transaction.atomic
def invite(*, by, email: str, role: str, organisation=None, site_url: str) -> Invitation:
    """Offer a role to an e-mail address. The e-mail, with a link to accept, is sent after the transaction commits
    (best effort: a broker that is down is logged). `site_url` is the address the link starts with."""
    email = email.strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise Invalid({"email": "Enter an e-mail address in the right format, like name@nhs.net"}) from None
    check_organisation(role, organisation)
    _require_may_grant(by, role, organisation)
    account = account_for(email)
    if account is not None and not account.is_active:
        raise Invalid({"email": f"{email} belongs to a deactivated account: an administrator must reactivate it"})
    fields = _organisation_fields(organisation)
    if account is not None and Membership.objects.current().filter(user=account, role=role, **fields).exists():
        raise Invalid({"email": f"{email} already has this role"})
    token, token_hash = invitations.new_token()
    invitation = Invitation.objects.create(
        email=email,
        role=role,
        invited_by=by,
        token_hash=token_hash,
        expires_at=invitations.expiry(),
        **fields,
    )
    _record(
        by,
        RoleAction.INVITE,
        subject=account,
        email=email,
        role=role,
        organisation=organisation,
        invitation=invitation,
    )
    link = site_url.rstrip("/") + reverse("accept_invitation", args=[token])
    invitations.send_after_commit(invitation, link)
    return invitation


@transaction.atomic
def withdraw_invitation(*, by, invitation: Invitation) -> Invitation:
    """Take back an invitation not yet accepted (sent to the wrong address, or no longer needed): its link stops
    working at once. Whoever may give its role may withdraw it."""
    invitation = Invitation.objects.select_for_update(of=("self",)).select_related("trust", "ics").get(pk=invitation.pk)
    _require_may_grant(by, invitation.role, invitation.organisation)
    if not invitation.is_pending:
        state = "accepted" if invitation.accepted_at else "withdrawn" if invitation.withdrawn_at else "expired"
        raise Invalid({"invitation": f"The invitation to {invitation.email} was already {state}: nothing to withdraw"})
    invitation.withdrawn_at, invitation.withdrawn_by = timezone.now(), by
    invitation.save(update_fields=["withdrawn_at", "withdrawn_by"])
    _record(
        by,
        RoleAction.WITHDRAW,
        subject=account_for(invitation.email),
        email=invitation.email,
        role=invitation.role,
        organisation=invitation.organisation,
        invitation=invitation,
    )
    return invitation


def _acceptable(invitation: Invitation | None) -> Invitation:
    if invitation is None:
        raise InvitationRefused("This invitation link is not valid. Check that you copied the whole link.", status=404)
    if invitation.accepted_at is not None:
        raise InvitationRefused(
            "This invitation has already been used: each invitation link works once. Log in with the account "
            "you set up, or ask for a new invitation."
        )
    if invitation.withdrawn_at is not None:
        raise InvitationRefused(
            "This invitation was withdrawn by the person who sent it. Ask them, or an NHS England analyst, if you "
            "still need access."
        )
    if invitation.is_expired:
        raise InvitationRefused(
            f"This invitation expired on {dateformat.format(timezone.localtime(invitation.expires_at), 'j F Y')}. "
            "Ask the person who invited you to send a new one."
        )
    if not may_grant(invitation.invited_by, invitation.role, invitation.organisation):
        raise InvitationRefused(
            "The person who invited you can no longer give this role. Ask them, or an NHS England analyst, for a "
            "new invitation."
        )
    return invitation


def invitation_for(token: str) -> Invitation:
    """The invitation a link names, if it can still be accepted; InvitationRefused says why not."""
    invitation = (
        Invitation.objects.select_related("trust", "ics", "invited_by")
        .filter(token_hash=invitations.hash_token(token))
        .first()
    )
    return _acceptable(invitation)


@transaction.atomic
def accept_invitation(*, token: str, user=None, password: str | None = None):
    """Accept an invitation once. Either `user`, the signed-in account the invitation's address belongs to, or
    `password` for a new account (its username is the address) or for an existing one that has none yet. The
    caller validates the password (Django's SetPasswordForm). Returns the account, now holding the role."""
    invitation = _acceptable(
        Invitation.objects.select_for_update(of=("self",))
        .select_related("trust", "ics", "invited_by")
        .filter(token_hash=invitations.hash_token(token))
        .first()
    )
    account = account_for(invitation.email)
    if user is not None:
        if account is None or account.pk != user.pk:
            raise InvitationRefused(f"This invitation is for {invitation.email}: log in with that account.")
        account = user
    elif account is not None and account.has_usable_password():
        raise InvitationRefused(f"You already have an account ({account.username}): log in to accept.")
    elif password is None:
        raise InvitationRefused("Choose a password to accept this invitation.")
    else:
        account = account or get_user_model()(username=invitation.email, email=invitation.email)
        account.set_password(password)
        account.save()
    if not account.is_active:
        raise InvitationRefused("Your account is deactivated: ask an administrator to reactivate it.")
    _open_membership(account, invitation.role, invitation.organisation, None, None)
    invitation.accepted_at, invitation.accepted_by = timezone.now(), account
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    _record(
        account,
        RoleAction.ACCEPT,
        subject=account,
        role=invitation.role,
        organisation=invitation.organisation,
        invitation=invitation,
        note=f"invited by {invitation.invited_by}",
    )
    return account
