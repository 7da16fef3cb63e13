"""Give someone a role from the command line: how an operator makes a deployment's first analyst (who then invites
the others from /account/invitations/), or mends an account. Recorded as a role event with no actor ("operator").

A user who does not exist is created, if an e-mail address is given, with no password: the command prints a
one-time link for them to set one (Django's password-reset link: it works once and runs out after
PASSWORD_RESET_TIMEOUT). No password ever passes through the command line or the shell's history."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.urls import reverse
from django.utils import dateformat
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from trusts import actions
from trusts.models import Role

ROLES = {role.value: role for role in Role}


class Command(BaseCommand):
    help = (
        "Give USER the role ROLE (trust-lead, ics-reviewer or analyst) in ORG, the ODS code of a trust or an ICB "
        "(none for an analyst). USER is a username or an e-mail address. A new user is created when --email is "
        "given (or USER is an address) and gets a one-time link to set a password."
    )

    def add_arguments(self, parser):
        parser.add_argument("user", help="Username or e-mail address")
        parser.add_argument("role", choices=sorted(ROLES), help="trust-lead, ics-reviewer or analyst")
        parser.add_argument("org", nargs="?", default="", help="ODS code of the trust or ICB; none for an analyst")
        parser.add_argument("--email", default="", help="E-mail address for a user to create")
        parser.add_argument(
            "--site-url",
            default="",
            help="The site's address, e.g. https://dma.example.nhs.uk, to print the set-password link in full",
        )

    def handle(self, *args, user, role, org, email, site_url, **options):
        try:
            with transaction.atomic():
                organisation = actions.organisation_by_code(org) if org else None
                actions.check_organisation(role, organisation)
                account, created = self._account(user, email)
                membership = actions.grant_role(by=actions.OPERATOR, user=account, role=role, organisation=organisation)
        except (actions.RoleError, PermissionDenied) as refusal:
            raise CommandError(str(refusal)) from refusal
        self.stdout.write(
            f"{'Created' if created else 'Found'} {account.username}: "
            f"{membership.get_role_display()}, {membership.organisation_name}, {_period(membership)}."
        )
        if not account.has_usable_password():
            self._print_set_password_link(account, site_url)

    def _account(self, user: str, email: str):
        User = get_user_model()
        matches = list(User.objects.filter(username__iexact=user)) or list(User.objects.filter(email__iexact=user))
        if len(matches) > 1:
            raise CommandError(f"More than one account matches '{user}': give the username.")
        if matches:
            return matches[0], False
        email = email or (user if "@" in user else "")
        if not email:
            raise CommandError(f"There is no user '{user}'. To create one, give their e-mail address with --email.")
        account = User(username=user, email=email.strip().lower())
        account.set_unusable_password()
        try:
            account.full_clean()
        except ValidationError as invalid:
            raise CommandError(" ".join(invalid.messages)) from invalid
        account.save()
        return account, True

    def _print_set_password_link(self, account, site_url: str):
        path = reverse(
            "set_password",
            kwargs={
                "uidb64": urlsafe_base64_encode(force_bytes(account.pk)),
                "token": default_token_generator.make_token(account),
            },
        )
        days = settings.PASSWORD_RESET_TIMEOUT // 86400
        self.stdout.write(
            f"{account.username} has no password yet. Send them this link to set one; it works once, "
            f"for {days} day{'s' if days != 1 else ''}:"
        )
        self.stdout.write(f"{site_url.rstrip('/')}{path}" if site_url else f"<the site's address>{path}")


def _period(membership) -> str:
    period = f"from {dateformat.format(membership.starts_on, 'j F Y')}"
    if membership.ends_on:
        period += f" until {dateformat.format(membership.ends_on, 'j F Y')}"
    return period
