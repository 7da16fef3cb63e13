"""The expectations of the permission matrix (tests/test_permission_matrix.py): one row per URL pattern and way of
filling its parameters, saying what each role gets with each method. DESIGN.md section 1 says who sees what.

The roles, all in the world of test_permission_matrix.build_world:
- anonymous: not signed in;
- inactive:  a deactivated lead of R0A, with a session and an API token (both refused);
- lead:      the lead of R0A, a trust of Greater Manchester (QOP);
- reviewer:  an ICS reviewer of Greater Manchester (QOP), whose member trusts are R0A and RBV;
- analyst:   an NHS England analyst;
- admin:     a superuser (staff).
Out of everyone's scope but analysts' and admins': Dorset (QVV) and its trust R0D.

The outcomes: OK (a 2xx, or a redirect to anything but a log-in page), LOGIN (a redirect to a log-in page), or the
error status. A malformed POST answered 400 got past the permission check. Where a page shows some roles more than
others, `reveals` names a text only those roles may meet in it."""

from collections.abc import Callable
from dataclasses import dataclass, field

ROLES = ("anonymous", "inactive", "lead", "reviewer", "analyst", "admin")
SIGNED_IN = ("lead", "reviewer", "analyst", "admin")

OK, LOGIN = "ok", "login"
BAD, UNAUTHENTICATED, DENIED, MISSING, NOT_ALLOWED, CONFLICT = "400", "401", "403", "404", "405", "409"

PAGE_METHODS = ("GET", "POST")
API_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def everyone(outcome: str, **roles: str) -> dict[str, str]:
    """Open to all: `outcome` for every role, but those named."""
    return {role: outcome for role in ROLES} | roles


def signed_in(outcome: str, **roles: str) -> dict[str, str]:
    """Behind the log-in page: the anonymous and the deactivated are sent to it; `outcome` for the rest, but those
    named."""
    return {"anonymous": LOGIN, "inactive": LOGIN} | {role: outcome for role in SIGNED_IN} | roles


def api(outcome: str, **roles: str) -> dict[str, str]:
    """The API (and the export files, which take tokens): no credentials or a deactivated user's token answer 401."""
    return {"anonymous": UNAUTHENTICATED, "inactive": UNAUTHENTICATED} | {role: outcome for role in SIGNED_IN} | roles


def analysts(outcome: str = OK, refused: str = DENIED, **roles: str) -> dict[str, str]:
    """Analysts' pages: signed-in users other than analysts and admins are refused."""
    return signed_in(refused, analyst=outcome, admin=outcome) | roles


@dataclass(frozen=True)
class Reveals:
    """`marker` (which names `what`) appears in a successful GET for the roles in `to`, and for no other role."""

    marker: str
    what: str
    to: frozenset[str]


def reveals(marker: str, what: str, *roles: str) -> Reveals:
    return Reveals(marker, what, frozenset(roles))


@dataclass(frozen=True)
class Case:
    """One way of filling a pattern's parameters, and what each role gets with each method.

    `kwargs` fill the route; a value "@name" is looked up in the world's refs. `post` gives the POST, PUT or PATCH
    body from the world (a well-formed one where the permission check comes after reading the form, so that it is
    the check that answers). `path` replaces the filled route for a pattern that names no parameter it matches."""

    pattern: str
    fill: str
    kwargs: dict = field(default_factory=dict)
    GET: dict | None = None
    POST: dict | None = None
    PUT: dict | None = None
    PATCH: dict | None = None
    DELETE: dict | None = None
    query: str = ""
    post: Callable | None = None
    json: bool = False
    path: str = ""
    reveals: Reveals | None = None

    def expected(self, method: str) -> dict[str, str]:
        return getattr(self, method)

    def fill_kwargs(self, world) -> dict:
        return {key: _ref(world.refs, value) for key, value in self.kwargs.items()}

    def body(self, world, method: str):
        return self.post(world) if self.post and method != "GET" else None


def _ref(refs: dict, value):
    """ "@name" (or "@group.name") is a value of the world's; anything else is itself."""
    if not (isinstance(value, str) and value.startswith("@")):
        return value
    for part in value[1:].split("."):
        refs = refs[part]
    return refs


def methods_of(case: Case) -> tuple[str, ...]:
    return API_METHODS if case.pattern.startswith("api:") else PAGE_METHODS


def _version(name: str) -> Callable:
    return lambda world: {"version": world.versions[name]}


def _answers(name: str) -> Callable:
    return lambda world: {"version": world.versions[name], "WL01-level": "4", "WL01-evidence_note": "Board minutes"}


# --- Accounts and public pages -----------------------------------------------------------------------------------

ACCOUNTS = [
    # The log-in form itself; an empty POST is the form with its errors.
    Case("login", "", GET=everyone(OK), POST=everyone(OK)),
    # Logging out ends on the log-in page.
    Case("logout", "", GET=everyone(NOT_ALLOWED), POST=everyone(LOGIN)),
    Case("accessibility", "", GET=everyone(OK), POST=everyone(NOT_ALLOWED)),
    Case(
        "health",
        "",
        GET=everyone(OK),
        POST=everyone(OK),
        reveals=reveals("Detail</th>", "what each service is and where", "analyst", "admin"),
    ),
    # Links mailed to one person: the token is the credential, whoever follows it.
    Case(
        "accept_invitation", "a valid invitation", {"token": "@invitation_token"}, GET=everyone(OK), POST=everyone(OK)
    ),
    Case(
        "set_password",
        "a valid link",
        {"uidb64": "@newcomer_uid", "token": "@newcomer_token"},
        GET=everyone(OK),
        POST=everyone(OK),
    ),
    Case("home", "", GET=signed_in(OK), POST=signed_in(OK)),
    Case(
        "search",
        "a word in every trust's name",
        query="?q=Foundation",
        GET=signed_in(OK),
        POST=signed_in(OK),
        reveals=reveals("University Hospitals Dorset", "a trust of another ICS", "analyst", "admin"),
    ),
    Case("notification_preferences", "", GET=signed_in(OK), POST=signed_in(OK)),
    Case("api_token", "", GET=signed_in(OK), POST=signed_in(OK), post=lambda world: {"action": "create"}),
    Case(
        "invitations",
        "",
        GET=signed_in(OK, lead=DENIED),
        POST=signed_in(OK, lead=DENIED),
        reveals=reveals("new-lead@r0d.example", "an invitation to another ICS's trust", "analyst", "admin"),
    ),
    # An invitation to lead R0D (Dorset): only who may give that role withdraws it; others are not told it exists.
    Case(
        "withdraw_invitation",
        "an invitation to another ICS's trust",
        {"pk": "@admin.trusts_invitation"},
        GET=signed_in(NOT_ALLOWED),
        POST=signed_in(OK, lead=DENIED, reviewer=MISSING),
    ),
]

# --- Organisation pages, their chart CSVs and the board pack -----------------------------------------------------

CHART_CSV = "?cycle=2026&format=csv&chart="

ORGANISATIONS = [
    Case(
        "national",
        "",
        GET=signed_in(OK),
        POST=signed_in(OK),
        reveals=reveals('href="/ics/QVV/"', "a link to an ICS page the role may not open", "analyst", "admin"),
    ),
    Case("national", "chart CSV", query=CHART_CSV + "devices", GET=signed_in(OK), POST=signed_in(OK)),
    Case("region", "another region", {"code": "Y58"}, GET=signed_in(OK), POST=signed_in(OK)),
    Case("region", "chart CSV", {"code": "Y62"}, query=CHART_CSV + "devices", GET=signed_in(OK), POST=signed_in(OK)),
    Case("region", "unknown code", {"code": "Y00"}, GET=signed_in(MISSING), POST=signed_in(MISSING)),
    Case(
        "ics",
        "own ICS",
        {"code": "qop"},
        GET=signed_in(OK),
        POST=signed_in(OK),
        reveals=reveals("/ics/QOP/assessments/2026/", "the ICB's own return", "reviewer", "analyst", "admin"),
    ),
    Case(
        "ics",
        "own ICS, chart CSV",
        {"code": "QOP"},
        query=CHART_CSV + "heatmap",
        GET=signed_in(OK),
        POST=signed_in(OK),
        reveals=reveals("The Christie", "another trust's return by name", "reviewer", "analyst", "admin"),
    ),
    Case("ics", "another ICS", {"code": "QVV"}, GET=analysts(), POST=analysts()),
    Case(
        "ics", "another ICS, chart CSV", {"code": "QVV"}, query=CHART_CSV + "heatmap", GET=analysts(), POST=analysts()
    ),
    Case("ics", "unknown code", {"code": "Q00"}, GET=signed_in(MISSING), POST=signed_in(MISSING)),
    Case("ics_print", "own ICS", {"code": "QOP"}, GET=signed_in(OK), POST=signed_in(OK)),
    Case("ics_print", "another ICS", {"code": "QVV"}, GET=analysts(), POST=analysts()),
    Case("trust", "own trust", {"code": "R0A"}, GET=signed_in(OK), POST=signed_in(OK)),
    Case(
        "trust",
        "a member of the ICS, chart CSV",
        {"code": "RBV"},
        query=CHART_CSV + "compare-acute",
        GET=signed_in(OK, lead=DENIED),
        POST=signed_in(OK, lead=DENIED),
    ),
    Case(
        "trust", "a member of the ICS", {"code": "RBV"}, GET=signed_in(OK, lead=DENIED), POST=signed_in(OK, lead=DENIED)
    ),
    Case("trust", "another ICS's trust", {"code": "R0D"}, GET=analysts(), POST=analysts()),
    Case(
        "trust",
        "another ICS's trust, chart CSV",
        {"code": "R0D"},
        query=CHART_CSV + "compare-acute",
        GET=analysts(),
        POST=analysts(),
    ),
    Case("trust", "unknown code", {"code": "R00"}, GET=signed_in(MISSING), POST=signed_in(MISSING)),
]

# --- Review queues and cycles ------------------------------------------------------------------------------------

REVIEWS_AND_CYCLES = [
    Case("review_queue", "own ICS", {"code": "QOP"}, GET=signed_in(OK, lead=DENIED), POST=signed_in(OK, lead=DENIED)),
    Case("review_queue", "another ICS", {"code": "QVV"}, GET=analysts(), POST=analysts()),
    Case("ics_review_queue", "", GET=analysts(), POST=analysts()),
    # An empty new-cycle form is shown again with its errors; an empty post to a cycle is a form no page sends.
    Case("cycles", "", GET=analysts(), POST=analysts()),
    Case("cycle", "the open cycle", {"year": 2026}, GET=analysts(), POST=analysts(BAD)),
    Case("cycle", "unknown year", {"year": 1999}, GET=analysts(MISSING), POST=analysts(MISSING)),
]

# --- Assessments -------------------------------------------------------------------------------------------------

R0A_DRAFT = {"code": "R0A", "year": 2026, "setting": "acute"}
RBV_SUBMITTED = {"code": "RBV", "year": 2026, "setting": "acute"}
R0D_APPROVED = {"code": "R0D", "year": 2026, "setting": "acute"}
R0A_NOT_STARTED = {"code": "R0A", "year": 2026, "setting": "community"}
R0D_NOT_STARTED = {"code": "R0D", "year": 2026, "setting": "community"}
QOP_SUBMITTED = {"code": "QOP", "year": 2026}
QVV_NOT_STARTED = {"code": "QVV", "year": 2026}
NO_QUERY = 999999

# Named data of a trust's return: its lead, its ICS's reviewers and analysts (DESIGN.md section 1).
OWN = signed_in(OK)
MEMBER = signed_in(OK, lead=DENIED)
OTHER = analysts()

TRUST_ASSESSMENTS = [
    Case("trust_assessment:overview", "own draft", R0A_DRAFT, GET=OWN, POST=OWN),
    Case("trust_assessment:overview", "member's submitted", RBV_SUBMITTED, GET=MEMBER, POST=MEMBER),
    Case("trust_assessment:overview", "other ICS's approved", R0D_APPROVED, GET=OTHER, POST=OTHER),
    Case("trust_assessment:overview", "own, not started", R0A_NOT_STARTED, GET=OWN, POST=OWN),
    Case(
        "trust_assessment:start",
        "own, not started",
        R0A_NOT_STARTED,
        GET=signed_in(NOT_ALLOWED),
        POST=signed_in(OK, reviewer=DENIED, analyst=DENIED),
    ),
    Case(
        "trust_assessment:start",
        "other ICS's, not started",
        R0D_NOT_STARTED,
        GET=signed_in(NOT_ALLOWED),
        POST=analysts(DENIED, admin=OK),
    ),
    Case(
        "trust_assessment:pillar",
        "own draft",
        R0A_DRAFT | {"pillar_code": "well_led"},
        GET=OWN,
        POST=signed_in(OK, reviewer=DENIED, analyst=DENIED),
        post=_answers("draft"),
    ),
    Case(
        "trust_assessment:pillar",
        "member's submitted",
        RBV_SUBMITTED | {"pillar_code": "well_led"},
        GET=MEMBER,
        POST=signed_in(DENIED, admin=OK),
        post=_answers("submitted"),
    ),
    Case(
        "trust_assessment:pillar",
        "other ICS's approved",
        R0D_APPROVED | {"pillar_code": "well_led"},
        GET=OTHER,
        POST=analysts(DENIED, admin=OK),
        post=_answers("approved"),
    ),
    Case(
        "trust_assessment:indicators",
        "own draft",
        R0A_DRAFT,
        GET=OWN,
        POST=signed_in(OK, reviewer=DENIED, analyst=DENIED),
        post=_version("draft"),
    ),
    Case(
        "trust_assessment:indicators",
        "member's submitted",
        RBV_SUBMITTED,
        GET=MEMBER,
        POST=signed_in(DENIED, admin=OK),
        post=_version("submitted"),
    ),
    Case(
        "trust_assessment:indicators",
        "other ICS's approved",
        R0D_APPROVED,
        GET=OTHER,
        POST=analysts(DENIED, admin=OK),
        post=_version("approved"),
    ),
    Case("trust_assessment:check", "own draft", R0A_DRAFT, GET=OWN, POST=OWN),
    Case("trust_assessment:check", "member's submitted", RBV_SUBMITTED, GET=MEMBER, POST=MEMBER),
    Case("trust_assessment:check", "other ICS's approved", R0D_APPROVED, GET=OTHER, POST=OTHER),
    Case(
        "trust_assessment:submit",
        "own draft",
        R0A_DRAFT,
        GET=OWN,
        POST=signed_in(BAD, reviewer=DENIED, analyst=DENIED),
        post=_version("draft"),
    ),
    Case(
        "trust_assessment:submit",
        "member's submitted",
        RBV_SUBMITTED,
        GET=MEMBER,
        POST=signed_in(DENIED, admin=OK),
        post=_version("submitted"),
    ),
    Case(
        "trust_assessment:submit",
        "other ICS's approved",
        R0D_APPROVED,
        GET=OTHER,
        POST=analysts(DENIED, admin=OK),
        post=_version("approved"),
    ),
    # A reviewer may open the review page of a draft; the action refuses to decide on it (400: no decision sent).
    Case(
        "trust_assessment:review",
        "own draft",
        R0A_DRAFT,
        GET=signed_in(DENIED, reviewer=OK, admin=OK),
        POST=signed_in(DENIED, reviewer=BAD, admin=BAD),
        post=_version("draft"),
    ),
    Case(
        "trust_assessment:review",
        "member's submitted",
        RBV_SUBMITTED,
        GET=signed_in(DENIED, reviewer=OK, admin=OK),
        POST=signed_in(DENIED, reviewer=BAD, admin=BAD),
        post=_version("submitted"),
    ),
    Case(
        "trust_assessment:review",
        "other ICS's approved",
        R0D_APPROVED,
        GET=analysts(DENIED, admin=OK),
        POST=analysts(DENIED, admin=BAD),
        post=_version("approved"),
    ),
    Case(
        "trust_assessment:reopen",
        "own draft",
        R0A_DRAFT,
        GET=signed_in(NOT_ALLOWED),
        POST=signed_in(DENIED, analyst=OK, admin=OK),
        post=_version("draft"),
    ),
    Case(
        "trust_assessment:reopen",
        "other ICS's approved",
        R0D_APPROVED,
        GET=signed_in(NOT_ALLOWED),
        POST=analysts(),
        post=_version("approved"),
    ),
    Case("trust_assessment:history", "own draft", R0A_DRAFT, GET=OWN, POST=OWN),
    # A query's page: who gets past the assessment's check meets the query lookup (tests/maturity/test_queries.py
    # has the queries themselves: only the trust's lead answers one).
    Case(
        "trust_assessment:query",
        "own draft, no such query",
        R0A_DRAFT | {"query_id": NO_QUERY},
        GET=signed_in(MISSING),
        POST=signed_in(MISSING),
    ),
    Case(
        "trust_assessment:query",
        "other ICS's approved, no such query",
        R0D_APPROVED | {"query_id": NO_QUERY},
        GET=analysts(MISSING),
        POST=analysts(MISSING),
    ),
    Case("trust_assessment:history", "member's submitted", RBV_SUBMITTED, GET=MEMBER, POST=MEMBER),
    Case("trust_assessment:history", "other ICS's approved", R0D_APPROVED, GET=OTHER, POST=OTHER),
    Case("trust_assessment:template", "own draft", R0A_DRAFT | {"format": "xlsx"}, GET=OWN, POST=OWN),
    Case("trust_assessment:template", "member's submitted", RBV_SUBMITTED | {"format": "csv"}, GET=MEMBER, POST=MEMBER),
    Case("trust_assessment:template", "other ICS's approved", R0D_APPROVED | {"format": "csv"}, GET=OTHER, POST=OTHER),
    # Without a file, a lead's upload is a form error (400): past the check.
    Case(
        "trust_assessment:upload",
        "own draft",
        R0A_DRAFT,
        GET=OWN,
        POST=signed_in(BAD, reviewer=DENIED, analyst=DENIED),
        post=_version("draft"),
    ),
    Case(
        "trust_assessment:upload",
        "member's submitted",
        RBV_SUBMITTED,
        GET=MEMBER,
        POST=signed_in(DENIED),
        post=_version("submitted"),
    ),
    Case(
        "trust_assessment:upload",
        "other ICS's approved",
        R0D_APPROVED,
        GET=OTHER,
        POST=analysts(DENIED),
        post=_version("approved"),
    ),
]

ICS_ASSESSMENTS = [
    Case("ics_assessment:overview", "own ICS's submitted", QOP_SUBMITTED, GET=MEMBER, POST=MEMBER),
    Case("ics_assessment:overview", "other ICS's, not started", QVV_NOT_STARTED, GET=OTHER, POST=OTHER),
    Case(
        "ics_assessment:start",
        "own ICS's submitted",
        QOP_SUBMITTED,
        GET=signed_in(NOT_ALLOWED),
        POST=signed_in(DENIED, reviewer=OK, admin=OK),
    ),
    Case(
        "ics_assessment:start",
        "other ICS's, not started",
        QVV_NOT_STARTED,
        GET=signed_in(NOT_ALLOWED),
        POST=analysts(DENIED, admin=OK),
    ),
    Case(
        "ics_assessment:pillar",
        "own ICS's submitted",
        QOP_SUBMITTED | {"pillar_code": "well_led"},
        GET=MEMBER,
        POST=signed_in(DENIED, reviewer=OK, admin=OK),
        post=_version("ics"),
    ),
    Case(
        "ics_assessment:pillar",
        "other ICS's, not started",
        QVV_NOT_STARTED | {"pillar_code": "well_led"},
        GET=analysts(MISSING),
        POST=analysts(MISSING),
    ),
    Case(
        "ics_assessment:indicators",
        "own ICS's submitted",
        QOP_SUBMITTED,
        GET=MEMBER,
        POST=signed_in(DENIED, reviewer=OK, admin=OK),
        post=_version("ics"),
    ),
    Case(
        "ics_assessment:indicators",
        "other ICS's, not started",
        QVV_NOT_STARTED,
        GET=analysts(MISSING),
        POST=analysts(MISSING),
    ),
    Case("ics_assessment:check", "own ICS's submitted", QOP_SUBMITTED, GET=MEMBER, POST=MEMBER),
    Case(
        "ics_assessment:check",
        "other ICS's, not started",
        QVV_NOT_STARTED,
        GET=analysts(MISSING),
        POST=analysts(MISSING),
    ),
    Case(
        "ics_assessment:submit",
        "own ICS's submitted",
        QOP_SUBMITTED,
        GET=MEMBER,
        POST=signed_in(DENIED, reviewer=OK, admin=OK),
        post=_version("ics"),
    ),
    Case(
        "ics_assessment:submit",
        "other ICS's, not started",
        QVV_NOT_STARTED,
        GET=analysts(MISSING),
        POST=analysts(MISSING),
    ),
    # ICB returns are reviewed by analysts, not by the ICB's own reviewers.
    Case(
        "ics_assessment:review",
        "own ICS's submitted",
        QOP_SUBMITTED,
        GET=signed_in(DENIED, analyst=OK, admin=OK),
        POST=signed_in(DENIED, analyst=BAD, admin=BAD),
        post=_version("ics"),
    ),
    Case(
        "ics_assessment:review",
        "other ICS's, not started",
        QVV_NOT_STARTED,
        GET=analysts(MISSING),
        POST=analysts(MISSING),
    ),
    Case(
        "ics_assessment:reopen",
        "own ICS's submitted",
        QOP_SUBMITTED,
        GET=signed_in(NOT_ALLOWED),
        POST=signed_in(DENIED, analyst=OK, admin=OK),
        post=_version("ics"),
    ),
    Case(
        "ics_assessment:reopen",
        "other ICS's, not started",
        QVV_NOT_STARTED,
        GET=signed_in(NOT_ALLOWED),
        POST=analysts(MISSING),
    ),
    Case("ics_assessment:history", "own ICS's submitted", QOP_SUBMITTED, GET=MEMBER, POST=MEMBER),
    Case(
        "ics_assessment:query",
        "own ICS's submitted, no such query",
        QOP_SUBMITTED | {"query_id": NO_QUERY},
        GET=signed_in(MISSING, lead=DENIED),
        POST=signed_in(MISSING, lead=DENIED),
    ),
    Case(
        "ics_assessment:query",
        "other ICS's, not started",
        QVV_NOT_STARTED | {"query_id": NO_QUERY},
        GET=analysts(MISSING),
        POST=analysts(MISSING),
    ),
    Case(
        "ics_assessment:history",
        "other ICS's, not started",
        QVV_NOT_STARTED,
        GET=analysts(MISSING),
        POST=analysts(MISSING),
    ),
    Case("ics_assessment:template", "own ICS's submitted", QOP_SUBMITTED | {"format": "csv"}, GET=MEMBER, POST=MEMBER),
    Case(
        "ics_assessment:template",
        "other ICS's, not started",
        QVV_NOT_STARTED | {"format": "csv"},
        GET=analysts(MISSING),
        POST=analysts(MISSING),
    ),
    # The upload refuses any POST that may not change the assessment now, a submitted one included.
    Case(
        "ics_assessment:upload",
        "own ICS's submitted",
        QOP_SUBMITTED,
        GET=MEMBER,
        POST=signed_in(DENIED),
        post=_version("ics"),
    ),
    Case(
        "ics_assessment:upload",
        "other ICS's, not started",
        QVV_NOT_STARTED,
        GET=analysts(MISSING),
        POST=analysts(MISSING),
    ),
]

# --- Exports and the API -----------------------------------------------------------------------------------------

R0D_NAMED = reveals("R0D", "another ICS's trust's return", "analyst", "admin")

EXPORTS = [
    Case("exports", "", GET=signed_in(OK), POST=signed_in(OK)),
    Case(
        "export_csv",
        "pillar scores",
        {"dataset": "pillar-scores"},
        GET=api(OK, inactive=UNAUTHENTICATED) | {"anonymous": LOGIN},
        POST=api(OK) | {"anonymous": LOGIN},
        reveals=R0D_NAMED,
    ),
    Case(
        "export_xlsx",
        "pillar scores",
        {"dataset": "pillar-scores"},
        GET=api(OK) | {"anonymous": LOGIN},
        POST=api(OK) | {"anonymous": LOGIN},
        reveals=R0D_NAMED,
    ),
    Case(
        "export_csv",
        "unknown dataset",
        {"dataset": "secrets"},
        GET=api(MISSING) | {"anonymous": LOGIN},
        POST=api(MISSING) | {"anonymous": LOGIN},
    ),
]

READ_ONLY = {"POST": api(NOT_ALLOWED), "PUT": api(NOT_ALLOWED), "PATCH": api(NOT_ALLOWED), "DELETE": api(NOT_ALLOWED)}


def read_only(pattern: str, fill: str, kwargs: dict | None = None, **options) -> Case:
    """An API endpoint that only reads: every write method answers 405 once the caller is known."""
    return Case(pattern, fill, kwargs or {}, **READ_ONLY, **options)


API = [
    read_only("api:api-root", "", GET=api(OK)),
    read_only("api:region-list", "", GET=api(OK)),
    read_only("api:region-detail", "another region", {"code": "Y58"}, GET=api(OK)),
    read_only(
        "api:ics-list", "", GET=api(OK), reveals=reveals('"QVV"', "an ICS the role may not open", "analyst", "admin")
    ),
    read_only("api:ics-detail", "own ICS", {"code": "QOP"}, GET=api(OK)),
    read_only("api:ics-detail", "another ICS", {"code": "qvv"}, GET=api(DENIED, analyst=OK, admin=OK)),
    read_only("api:ics-detail", "unknown code", {"code": "Q00"}, GET=api(MISSING)),
    read_only("api:trust-list", "", GET=api(OK), reveals=reveals('"R0D"', "another ICS's trust", "analyst", "admin")),
    read_only("api:trust-detail", "own trust", {"code": "R0A"}, GET=api(OK)),
    read_only("api:trust-detail", "a member of the ICS", {"code": "RBV"}, GET=api(OK, lead=DENIED)),
    read_only("api:trust-detail", "another ICS's trust", {"code": "R0D"}, GET=api(DENIED, analyst=OK, admin=OK)),
    read_only("api:cycle-list", "", GET=api(OK)),
    read_only("api:cycle-detail", "the open cycle", {"year": 2026}, GET=api(OK)),
    read_only("api:framework-list", "", GET=api(OK)),
    read_only("api:framework-detail", "the trust framework", {"pk": "@framework"}, GET=api(OK)),
    read_only("api:assessment-list", "", GET=api(OK), reveals=R0D_NAMED),
    read_only("api:assessment-detail", "own draft", {"pk": "@draft"}, GET=api(OK, reviewer=OK)),
    read_only("api:assessment-detail", "member's submitted", {"pk": "@submitted"}, GET=api(OK, lead=DENIED)),
    read_only(
        "api:assessment-detail", "other ICS's approved", {"pk": "@approved"}, GET=api(DENIED, analyst=OK, admin=OK)
    ),
    read_only("api:assessment-detail", "own ICS's submitted", {"pk": "@ics_submitted"}, GET=api(OK, lead=DENIED)),
    *(
        read_only(f"api:{name}-list", "", GET=api(OK), reveals=R0D_NAMED)
        for name in ("pillar-score", "domain-score", "indicator", "gap", "assessment-status")
    ),
]

# Only PATCH is routed; the body is well formed, so the answer is the permission check's (or the state's).
ANSWERS = {"GET": api(NOT_ALLOWED), "POST": api(NOT_ALLOWED), "PUT": api(NOT_ALLOWED), "DELETE": api(NOT_ALLOWED)}


def _api_answers(name: str) -> Callable:
    return lambda world: f'{{"version": {world.versions[name]}, "answers": {{"WL01": {{"level": 4}}}}}}'


API += [
    Case(
        "api:assessment-answers",
        "own draft",
        {"pk": "@draft"},
        **ANSWERS,
        PATCH=api(OK, reviewer=DENIED, analyst=DENIED),
        post=_api_answers("draft"),
        json=True,
    ),
    Case(
        "api:assessment-answers",
        "member's submitted",
        {"pk": "@submitted"},
        **ANSWERS,
        PATCH=api(DENIED, admin=CONFLICT),
        post=_api_answers("submitted"),
        json=True,
    ),
    Case(
        "api:assessment-answers",
        "other ICS's approved",
        {"pk": "@approved"},
        **ANSWERS,
        PATCH=api(DENIED, admin=CONFLICT),
        post=_api_answers("approved"),
        json=True,
    ),
    # Unknown paths under /api/ answer the API's 404, to everyone.
    Case(
        r"^api/[\s\S]*/$",
        "an unknown path",
        path="/api/v1/no-such-thing/",
        GET=everyone(MISSING),
        POST=everyone(MISSING),
    ),
    Case("api_schema", "", GET=api(OK), POST=api(NOT_ALLOWED)),
    Case("api_docs", "", GET=signed_in(OK), POST=signed_in(NOT_ALLOWED)),
]

# --- Analysts' pages ---------------------------------------------------------------------------------------------

OPERATIONS = [
    Case("summary_runs", "", GET=analysts(), POST=analysts()),
    Case(
        "requeue_refresh_mark",
        "a parked mark",
        {"pk": "@parked_mark"},
        GET=signed_in(NOT_ALLOWED),
        POST=analysts(),
    ),
    Case("requeue_refresh_mark", "no such mark", {"pk": 999999}, GET=signed_in(NOT_ALLOWED), POST=analysts(MISSING)),
]

# --- Django admin ------------------------------------------------------------------------------------------------

# Reference data and records that other code writes are read-only in the admin: "change" refused means its POST
# (the page itself shows the object, read-only).
READ_ONLY_ADMIN = ("add", "change", "delete")

# Every model with an admin page, and the pages the admin refuses even to superusers.
ADMIN_MODELS = {
    "auth_group": (),
    "auth_user": (),
    "trusts_region": READ_ONLY_ADMIN,
    "trusts_ics": READ_ONLY_ADMIN,
    "trusts_trust": READ_ONLY_ADMIN,
    # Ended, never deleted: the role history keeps them.
    "trusts_membership": ("delete",),
    "trusts_invitation": READ_ONLY_ADMIN,
    "trusts_roleevent": READ_ONLY_ADMIN,
    "maturity_cycle": READ_ONLY_ADMIN,
    "maturity_framework": READ_ONLY_ADMIN,
    "maturity_reviewquery": READ_ONLY_ADMIN,
    "planning_plan": READ_ONLY_ADMIN,
    # Written by the notifications, never by hand.
    "notifications_outboxemail": ("add",),
    "notifications_preference": (),
}


def staff_only(outcome: str = OK) -> dict[str, str]:
    """Django admin: everyone but staff goes to the admin's log-in page."""
    return everyone(LOGIN, admin=outcome)


def _admin_model(model: str, refused: tuple[str, ...]) -> list[Case]:
    app, name = model.split("_", 1)
    object_id = {"object_id": f"@admin.{model}"}

    def page(view: str, get_refused: bool = True) -> dict:
        refusal = view in refused
        return {
            "GET": staff_only(DENIED if refusal and get_refused else OK),
            "POST": staff_only(DENIED if refusal else OK),
        }

    return [
        Case(f"admin:{model}_changelist", "", **page("changelist")),
        Case(f"admin:{model}_add", "", **page("add")),
        Case(f"admin:{model}_change", "an object", object_id, **page("change", get_refused=False)),
        Case(f"admin:{model}_history", "an object", object_id, **page("history")),
        Case(f"admin:{model}_delete", "an object", object_id, **page("delete")),
        # The old change URL, redirecting to the new one.
        Case(f"admin/{app}/{name}/<path:object_id>/", "an object", object_id, **page("redirect")),
    ]


ADMIN = [
    Case("admin:index", "", GET=staff_only(), POST=staff_only()),
    Case("admin:login", "", GET=everyone(OK), POST=everyone(OK)),
    # Logging out of the admin ends on the log-in page; others are sent to the admin's index (and on to log in).
    Case("admin:logout", "", GET=everyone(OK, admin=NOT_ALLOWED), POST=everyone(OK, admin=LOGIN)),
    Case("admin:password_change", "", GET=staff_only(), POST=staff_only()),
    Case("admin:password_change_done", "", GET=staff_only(), POST=staff_only(NOT_ALLOWED)),
    # Without the field it completes, the autocomplete refuses even staff.
    Case("admin:autocomplete", "", GET=staff_only(DENIED), POST=staff_only(NOT_ALLOWED)),
    Case("admin:jsi18n", "", GET=staff_only(), POST=staff_only(NOT_ALLOWED)),
    # Redirects to an object's own page, which has its own check; none of our models has one.
    Case(
        "admin:view_on_site",
        "a trust",
        {"content_type_id": "@trust_type", "object_id": "@r0d"},
        GET=staff_only(MISSING),
        POST=staff_only(MISSING),
    ),
    Case("admin:app_list", "an app", {"app_label": "trusts"}, GET=staff_only(), POST=staff_only()),
    Case("admin:auth_user_password_change", "a user", {"id": "@admin.auth_user"}, GET=staff_only(), POST=staff_only()),
    Case(
        "admin/(?P<url>.*)$",
        "an unknown page",
        {"url": "no-such-page/"},
        GET=staff_only(MISSING),
        POST=staff_only(MISSING),
    ),
    *(case for model, refused in ADMIN_MODELS.items() for case in _admin_model(model, refused)),
]

# --- Improvement plans ---------------------------------------------------------------------------------------------

# A plan is named only to its trust, its ICS's reviewers and analysts; for everyone else the planner is not there
# (404), so it says nothing of whether a return or a plan exists. A post without steps shows the simulation again.
PLANNED_BY_OTHERS = analysts(refused=MISSING)


def _no_steps(world) -> dict:
    return {"version": "0"}


PLANNER = [
    Case("planning:choose", "own trust", {"code": "r0a", "year": 2026}, GET=OWN, POST=OWN),
    Case(
        "planning:choose",
        "another ICS's trust",
        {"code": "R0D", "year": 2026},
        GET=PLANNED_BY_OTHERS,
        POST=PLANNED_BY_OTHERS,
    ),
    Case("planning:plan", "own draft", R0A_DRAFT, GET=OWN, POST=OWN, post=_no_steps),
    Case(
        "planning:plan",
        "member's submitted",
        RBV_SUBMITTED,
        GET=signed_in(OK, lead=MISSING),
        POST=signed_in(OK, lead=MISSING),
        post=_no_steps,
    ),
    Case(
        "planning:plan",
        "other ICS's approved",
        R0D_APPROVED,
        GET=PLANNED_BY_OTHERS,
        POST=PLANNED_BY_OTHERS,
        post=_no_steps,
    ),
    Case(
        "planning:plan",
        "own, not started",
        R0A_NOT_STARTED,
        GET=signed_in(MISSING),
        POST=signed_in(MISSING),
        post=_no_steps,
    ),
]

CASES = [
    *ACCOUNTS,
    *ORGANISATIONS,
    *REVIEWS_AND_CYCLES,
    *TRUST_ASSESSMENTS,
    *ICS_ASSESSMENTS,
    *PLANNER,
    *EXPORTS,
    *API,
    *OPERATIONS,
    *ADMIN,
]
