"""Demo accounts for every organisation, all with the password `demo`. Development only."""

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import Value
from django.db.models.functions import Concat

from trusts.models import ICS, Membership, Role, Trust

DEMO_PASSWORD = "demo"  # noqa: S105 - published in the README; refused when DEBUG is off
# Demo accounts get e-mail addresses under a reserved domain (RFC 2606), so notifications to them can be read in
# var/mail/ during development and can never reach a real mailbox.
DEMO_EMAIL_DOMAIN = "dma-demo.example"


def demo_email(username: str) -> str:
    return f"{username}@{DEMO_EMAIL_DOMAIN}"


class DemoRefused(Exception):
    pass


@dataclass(frozen=True)
class DemoSummary:
    created: int
    existing: int


def wanted_accounts():
    """(username, role, trust, ics) for the analyst, every ICS and every open trust."""
    yield "analyst", Role.ANALYST, None, None
    for ics in ICS.objects.order_by("code"):
        yield f"ics-{ics.code.lower()}", Role.ICS_REVIEWER, None, ics
    for trust in Trust.objects.open().order_by("code"):
        yield f"lead-{trust.code.lower()}", Role.TRUST_LEAD, trust, None


@transaction.atomic
def create_demo_accounts() -> DemoSummary:
    if not settings.DEBUG:
        raise DemoRefused("Demo accounts share a published password: they are only created when DEBUG is on.")
    User = get_user_model()
    accounts = list(wanted_accounts())
    usernames = [username for username, *_ in accounts]
    # One hash for all: hashing the same password hundreds of times would take minutes.
    password = make_password(DEMO_PASSWORD)
    existing = set(User.objects.filter(username__in=usernames).values_list("username", flat=True))
    User.objects.bulk_create(
        User(username=name, email=demo_email(name), password=password) for name in usernames if name not in existing
    )
    User.objects.filter(username__in=existing).update(password=password, is_active=True)
    # Accounts made before demo accounts had addresses get one; an address someone set is kept.
    User.objects.filter(username__in=existing, email="").update(
        email=Concat("username", Value(f"@{DEMO_EMAIL_DOMAIN}"))
    )
    users = dict(User.objects.filter(username__in=usernames).values_list("username", "pk"))
    Membership.objects.bulk_create(
        (
            Membership(user_id=users[username], role=role, trust=trust, ics=ics)
            for username, role, trust, ics in accounts
        ),
        ignore_conflicts=True,
    )
    return DemoSummary(created=len(usernames) - len(existing), existing=len(existing))
