"""The permission matrix: every URL pattern of the site, filled with objects in and out of each role's scope, requested
by every role with every method, against one table of expectations (tests/permission_matrix.py).

A pattern added to the URL conf without a row fails test_every_url_pattern_has_a_row, and a row whose pattern is
gone fails it too. tests/mutation_check.py removes one view's permission check at a time and shows this matrix fail.

The world is built once for the module and committed (PostgreSQL streams the export CSV through COPY on a connection
of its own, which sees only committed rows); each request runs in a transaction rolled back after it, and the
database is flushed at the end of the module, as after any transactional test."""

import re
import zipfile
from io import BytesIO
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.tokens import default_token_generator
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.shortcuts import resolve_url
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from maturity.models import (
    CheckSet,
    DomainAnswer,
    GapTarget,
    IndicatorValue,
    RefreshMark,
    ReviewQuery,
    Status,
    TargetKind,
    Theme,
)
from notifications.models import Kind, OutboxEmail, Preference
from planning.models import Plan
from reports.summaries import tables
from tests.factories import (
    AssessmentFactory,
    CycleFactory,
    ICSFactory,
    RegionFactory,
    TrustFactory,
    analyst,
    api_token,
    lead_of,
    reviewer_of,
)
from tests.permission_matrix import CASES, LOGIN, OK, ROLES, methods_of
from trusts import invitations
from trusts.models import CareSetting, Invitation, Role, RoleAction, RoleEvent

# --- The URL conf ------------------------------------------------------------------------------------------------


def url_patterns(resolver=None, prefix: str = "", namespace: str = ""):
    """Every pattern of the URL conf as (key, route): the key is its namespaced name, or its route when it has no
    name (admin's redirects and catch-all, the API's 404)."""
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = ":".join(part for part in (namespace, pattern.namespace) if part)
            yield from url_patterns(pattern, route, inner)
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}:{pattern.name}" if namespace and pattern.name else pattern.name
            yield name or route, route


ROUTES = dict(url_patterns())

PARAMETER = re.compile(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>[^)]*\)")


def url_of(route: str, kwargs: dict[str, str]) -> str:
    """The path of a route with its parameters filled: path() converters and the regex groups of re_path() alike."""
    filled = PARAMETER.sub(lambda match: str(kwargs[match.group(1) or match.group(2)]), route)
    return "/" + filled.replace("^", "").replace("$", "")


# --- The world ---------------------------------------------------------------------------------------------------

LEVELS = {"WL01": 3, "SF01": 2, "SF02": 4}


def answered(cycle, trust, status, **kwargs):
    assessment = AssessmentFactory(cycle=cycle, trust=trust, status=status, **kwargs)
    DomainAnswer.objects.bulk_create(
        DomainAnswer(assessment=assessment, domain=domain, level=LEVELS[domain.code])
        for domain in assessment.applicable_domains()
    )
    IndicatorValue.objects.create(assessment=assessment, indicator_code="unsupported_devices_pct", number=7.5)
    return assessment


def build_world() -> SimpleNamespace:
    """Greater Manchester (QOP, North West) with its trusts R0A and RBV; Dorset (QVV, South West) with R0D. The lead
    leads R0A, the reviewer reviews QOP: R0A is in scope of both, RBV of the reviewer only, R0D and QVV of neither.

    In the open 2026 cycle: R0A's acute return is a draft (its lead edits it), RBV's is submitted (QOP's reviewer
    reviews it), R0D's is approved (an analyst may re-open it), and QOP's own return is submitted (analysts review
    ICB returns); R0A's and R0D's community returns and QVV's own are not started."""
    north = RegionFactory(code="Y62", name="North West")
    south = RegionFactory(code="Y58", name="South West")
    qop = ICSFactory(code="QOP", name="NHS Greater Manchester Integrated Care Board", region=north)
    qvv = ICSFactory(code="QVV", name="NHS Dorset Integrated Care Board", region=south)
    both = [CareSetting.ACUTE, CareSetting.COMMUNITY]
    r0a = TrustFactory(code="R0A", name="Manchester University NHS Foundation Trust", ics=qop, care_settings=both)
    rbv = TrustFactory(code="RBV", name="The Christie NHS Foundation Trust", ics=qop)
    r0d = TrustFactory(code="R0D", name="University Hospitals Dorset NHS Foundation Trust", ics=qvv, care_settings=both)

    cycle = CycleFactory(year=2026)
    GapTarget.objects.create(
        cycle=cycle, theme=Theme.EPR, kind=TargetKind.DOMAIN_LEVEL, value=3, description="Level 3 on the EPR domains"
    )
    draft = answered(cycle, r0a, Status.DRAFT)
    submitted = answered(cycle, rbv, Status.SUBMITTED)
    approved = answered(cycle, r0d, Status.APPROVED)
    ics_submitted = AssessmentFactory(
        cycle=cycle, trust=None, care_setting_id=None, ics=qop, framework=cycle.ics_framework, status=Status.SUBMITTED
    )
    tables.rebuild()

    users = {
        "lead": lead_of(r0a, user__username="lead-r0a"),
        "reviewer": reviewer_of(qop, user__username="ics-qop"),
        "analyst": analyst(user__username="analyst"),
        "admin": get_user_model().objects.create_superuser("admin", password="x"),
        "inactive": lead_of(r0a, user__username="former-lead-r0a"),
    }
    users["inactive"].is_active = False
    users["inactive"].save()
    invited = _invitation(users["analyst"], "new-lead@r0d.example", r0d)
    token, invitation_to_accept = invitations.new_token()
    Invitation.objects.create(
        email="new-lead@r0a.example",
        role=Role.TRUST_LEAD,
        trust=r0a,
        invited_by=users["reviewer"],
        token_hash=invitation_to_accept,
        expires_at=invitations.expiry(),
    )
    newcomer = get_user_model().objects.create_user("newcomer", password="not-yet-chosen")
    Group.objects.create(name="Operators")
    role_event = RoleEvent.objects.create(actor=users["analyst"], action=RoleAction.INVITE, email=invited.email)
    outbox = OutboxEmail.objects.create(
        kind=Kind.SUBMITTED, recipient=users["reviewer"], to="ics-qop@example.com", subject="Ready", body="Ready"
    )
    preference = Preference.objects.create(user=users["reviewer"], kind=Kind.SUBMITTED, enabled=False)
    parked = RefreshMark.objects.create(reason="matrix", cycle=cycle, attempts=3, parked_at=timezone.now())
    check_set = CheckSet.objects.create(code="matrix", version="1", name="Matrix checks", source_file="", checksum="")
    query = ReviewQuery.objects.create(
        assessment=submitted,
        check_set=check_set,
        rule_code="matrix",
        indicator_code="unsupported_devices_pct",
        message="7.5% of devices unsupported: is that right?",
        round=1,
        sent_by=users["reviewer"],
        sent_at=timezone.now(),
    )
    plan = Plan.objects.create(assessment=submitted, created_by=users["reviewer"])
    return SimpleNamespace(
        users=users,
        # Signed in once: each test sends the session's cookie.
        sessions={role: _session_of(user) for role, user in users.items()},
        # A deactivated user's token is refused where tokens are taken (the API, the export files).
        tokens={"inactive": api_token(users["inactive"])},
        refs={
            "draft": draft.pk,
            "submitted": submitted.pk,
            "approved": approved.pk,
            "ics_submitted": ics_submitted.pk,
            "framework": cycle.trust_framework.pk,
            "invitation_token": token,
            "newcomer_uid": urlsafe_base64_encode(force_bytes(newcomer.pk)),
            "newcomer_token": default_token_generator.make_token(newcomer),
            "trust_type": ContentType.objects.get_for_model(r0d).pk,
            "r0d": r0d.pk,
            "parked_mark": parked.pk,
            # One object of each model with an admin page, for its change, history and delete pages.
            "admin": {
                "auth_group": Group.objects.get().pk,
                "auth_user": users["lead"].pk,
                "trusts_region": south.pk,
                "trusts_ics": qvv.pk,
                "trusts_trust": r0d.pk,
                "trusts_membership": users["lead"].memberships.get().pk,
                "trusts_invitation": invited.pk,
                "trusts_roleevent": role_event.pk,
                "maturity_cycle": cycle.pk,
                "maturity_framework": cycle.trust_framework.pk,
                "maturity_reviewquery": query.pk,
                "planning_plan": plan.pk,
                "notifications_outboxemail": outbox.pk,
                "notifications_preference": preference.pk,
            },
        },
        versions={
            "draft": draft.version,
            "submitted": submitted.version,
            "approved": approved.version,
            "ics": ics_submitted.version,
        },
    )


def _session_of(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def _invitation(by, email, trust):
    _, token_hash = invitations.new_token()
    return Invitation.objects.create(
        email=email,
        role=Role.TRUST_LEAD,
        trust=trust,
        invited_by=by,
        token_hash=token_hash,
        expires_at=invitations.expiry(),
    )


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        try:
            yield build_world()
        finally:
            call_command("flush", interactive=False, verbosity=0)


# --- The requests ------------------------------------------------------------------------------------------------

LOGIN_PAGES = {resolve_url(settings.LOGIN_URL), "/admin/login/"}


def outcome_of(response) -> str:
    """The class of an answer: allowed (2xx, or a redirect anywhere but a log-in page), a log-in redirect, or the
    error status."""
    if response.status_code in (301, 302, 303, 307, 308):
        return LOGIN if urlsplit(response["Location"]).path in LOGIN_PAGES else OK
    if 200 <= response.status_code < 300:
        return OK
    return str(response.status_code)


def body_of(response) -> str:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    if content.startswith(b"PK"):
        # An XLSX: its text cells are in the shared strings.
        with zipfile.ZipFile(BytesIO(content)) as workbook:
            content = b"".join(workbook.read(name) for name in workbook.namelist() if name.endswith(".xml"))
    return content.decode("utf-8-sig", errors="replace")


def request(client, world, case, role, method):
    if role in world.sessions:
        client.cookies[settings.SESSION_COOKIE_NAME] = world.sessions[role]
    headers = {}
    if role in world.tokens:
        headers["HTTP_AUTHORIZATION"] = f"Token {world.tokens[role]}"
    path = case.path or url_of(ROUTES[case.pattern], case.fill_kwargs(world))
    body = case.body(world, method)
    if method == "GET":
        return path, client.get(path + case.query, **headers)
    if case.json:
        return path, client.generic(method, path, body, content_type="application/json", **headers)
    if method == "POST":
        return path, client.post(path + case.query, body or {}, **headers)
    return path, client.generic(method, path, **headers)


MATRIX = [
    pytest.param(case, role, method, id=f"{case.pattern} [{case.fill}] {role} {method}")
    for case in CASES
    for method in methods_of(case)
    for role in ROLES
]


@pytest.mark.parametrize(("case", "role", "method"), MATRIX)
def test_permission_matrix(client, world, db, case, role, method):
    path, response = request(client, world, case, role, method)
    match = resolve(path)
    assert (match.view_name if match.url_name else match.route) == case.pattern, f"{path} is not {case.pattern}"
    observed = outcome_of(response)
    expected = case.expected(method)[role]
    body = body_of(response)
    assert observed == expected, (
        f"{method} {path}{case.query} as {role}: {observed} ({response.status_code}), expected {expected}"
    )
    if case.reveals and method == "GET" and observed == OK:
        shown = case.reveals.marker in body
        assert shown == (role in case.reveals.to), (
            f"{path}{case.query} as {role}: {case.reveals.marker!r} {'shown' if shown else 'not shown'}; "
            f"it names {case.reveals.what}, for {', '.join(sorted(case.reveals.to))} only"
        )


# --- The table is complete ---------------------------------------------------------------------------------------


def test_every_url_pattern_has_a_row():
    keys = [key for key, _ in url_patterns()]
    assert len(keys) == len(ROUTES), f"Patterns sharing a name: {sorted({k for k in keys if keys.count(k) > 1})}"
    covered = {case.pattern for case in CASES}
    missing = sorted(set(ROUTES) - covered)
    stale = sorted(covered - set(ROUTES))
    assert not missing, "URL patterns without a row in tests/permission_matrix.py:\n" + "\n".join(
        f"  {key}  ({ROUTES[key]})" for key in missing
    )
    assert not stale, "Rows in tests/permission_matrix.py for patterns that no longer exist:\n" + "\n".join(stale)


def test_every_row_names_each_role_for_each_method():
    for case in CASES:
        for method in methods_of(case):
            assert set(case.expected(method)) == set(ROLES), f"{case.pattern} [{case.fill}] {method}"
