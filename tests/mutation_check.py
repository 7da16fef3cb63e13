"""Shows that the permission matrix (tests/test_permission_matrix.py) notices a removed permission check.

Each mutation below removes one check from one kind of view, in the test process only (nothing is edited), and the
matrix must then fail. Run them all, or some by name:

    .venv/bin/python -m tests.mutation_check                  # every mutation
    .venv/bin/python -m tests.mutation_check api-object admin # some
    .venv/bin/python -m tests.mutation_check --full           # the whole matrix each time, not just where to look

It exits non-zero if the matrix passes with any check removed. As a pytest plugin it adds --remove-check=<name>:

    .venv/bin/pytest tests/test_permission_matrix.py -p tests.mutation_check --remove-check=export
"""

import subprocess
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from types import SimpleNamespace

import pytest


def _without(module, **replacements):
    """A stand-in for `module` as one view module sees it, with some functions replaced."""
    return SimpleNamespace(**{**vars(module), **replacements})


def _allowed(*args, **kwargs):
    return True


def _no_check(*args, **kwargs):
    return None


def _everything():
    """What an admin's viewer sees: every row named."""
    from trusts.permissions import NOBODY

    return replace(NOBODY, signed_in=True, is_admin=True)


def _patches_organisation_pages():
    from config.pages import organisations
    from trusts import permissions

    return [(organisations, "permissions", _without(permissions, require=_no_check))]


def _patches_assessment_pages():
    from maturity import views
    from trusts import permissions

    return [(views, "permissions", _without(permissions, require=_no_check))]


def _patches_save_answers():
    from maturity import access, actions

    return [(actions, "access", _without(access, may_edit=_allowed))]


def _patches_review_page():
    from maturity import access, review_views

    return [(review_views, "access", _without(access, may_review=_allowed))]


def _patches_cycles():
    from maturity import cycle_views
    from trusts import permissions

    return [(cycle_views, "permissions", _without(permissions, require=_no_check))]


def _patches_export():
    from reports.exports import views

    return [(views, "visible_rows", lambda dataset, user: dataset.queryset().shown_to(_everything()))]


def _patches_api_object():
    from reports.api.permissions import MayOpen

    return [(MayOpen, "has_object_permission", _allowed)]


def _patches_api_datasets():
    from reports.api import views

    return [(views, "visible_rows", lambda dataset, user: dataset.queryset().shown_to(_everything()))]


def _patches_chart_csv():
    from reports.dashboards import sections

    return [(sections, "viewer_of", lambda user: _everything())]


def _patches_admin():
    from django.contrib import admin

    return [(admin.site, "has_permission", lambda request: request.user.is_active and request.user.is_authenticated)]


def _patches_health_details():
    from reports import views
    from trusts import permissions

    return [(views, "permissions", _without(permissions, can=_allowed))]


def _patches_summary_runs():
    from reports import views
    from trusts import permissions

    return [(views, "permissions", _without(permissions, require=_no_check))]


def _patches_invitations():
    from trusts import account_views, actions

    return [(account_views, "actions", _without(actions, may_invite=_allowed))]


@dataclass(frozen=True)
class Mutation:
    removes: str
    patches: object
    # A -k expression naming the part of the matrix where the hole shows, so a run stops early; --full drops it.
    look_in: str


MUTATIONS = {
    "organisation-pages": Mutation(
        "the VIEW check of the trust, ICS and region pages", _patches_organisation_pages, "trust or ics"
    ),
    "assessment-pages": Mutation(
        "the VIEW_NAMED check of every assessment page", _patches_assessment_pages, "trust_assessment"
    ),
    "form-post": Mutation(
        "save_answers' edit check (pillar and indicator forms, upload, API)", _patches_save_answers, "pillar"
    ),
    "review": Mutation("the review page's may_review check", _patches_review_page, "review"),
    "cycles": Mutation("the MANAGE check of the cycle pages", _patches_cycles, "cycle"),
    "export": Mutation("the row scoping of the export files", _patches_export, "export"),
    "api-object": Mutation("the API's object permission (MayOpen)", _patches_api_object, "api"),
    "api-datasets": Mutation("the row scoping of the API's datasets", _patches_api_datasets, "api"),
    "chart-csv": Mutation("the viewer scoping of the dashboards and chart CSVs", _patches_chart_csv, "CSV"),
    "admin": Mutation("the admin's staff check", _patches_admin, "admin:"),
    "health-details": Mutation("the health page's MANAGE check for details", _patches_health_details, "health"),
    "summary-runs": Mutation("the summaries page's MANAGE check", _patches_summary_runs, "summary_runs"),
    "requeue": Mutation("the parked refresh's MANAGE check", _patches_summary_runs, "requeue_refresh_mark"),
    "invitations": Mutation("the invitations page's check", _patches_invitations, "invitations"),
}


# --- As a pytest plugin ------------------------------------------------------------------------------------------


def pytest_addoption(parser):
    parser.addoption("--remove-check", choices=sorted(MUTATIONS), help="Remove one permission check (see MUTATIONS)")


@pytest.fixture(autouse=True)
def _removed_check(request, monkeypatch):
    name = request.config.getoption("--remove-check")
    if name:
        for target, attribute, replacement in MUTATIONS[name].patches():
            monkeypatch.setattr(target, attribute, replacement)


# --- As a script -------------------------------------------------------------------------------------------------


def run(name: str, full: bool) -> bool:
    """Whether the matrix fails with the check removed; prints the first test that noticed."""
    mutation = MUTATIONS[name]
    command = [
        sys.executable,
        "-m",
        "pytest",
        "tests/test_permission_matrix.py",
        "-n",
        "0",
        "-p",
        "tests.mutation_check",
        f"--remove-check={name}",
        "-x",
        "-q",
        "--tb=line",
        "-p",
        "no:cacheprovider",
    ]
    if not full:
        command += ["-k", mutation.look_in]
    result = subprocess.run(command, capture_output=True, text=True, cwd=Path(__file__).resolve().parent.parent)
    failed = [line for line in result.stdout.splitlines() if "AssertionError" in line]
    caught = result.returncode == 1 and bool(failed)
    print(f"{'caught ' if caught else 'MISSED '} {name}: {mutation.removes}")
    if caught:
        print(f"         {failed[0].split('AssertionError: ', 1)[-1][:200]}")
    elif result.returncode not in (0, 1):
        print(result.stdout[-2000:], result.stderr[-2000:])
    return caught


def main(argv: list[str]) -> int:
    full = "--full" in argv
    names = [arg for arg in argv if arg != "--full"] or list(MUTATIONS)
    unknown = [name for name in names if name not in MUTATIONS]
    if unknown:
        print(f"Unknown mutations: {', '.join(unknown)}. Known: {', '.join(MUTATIONS)}")
        return 2
    missed = [name for name in names if not run(name, full)]
    if missed:
        print(f"The matrix passed with these checks removed: {', '.join(missed)}")
        return 1
    print(f"The matrix noticed each of the {len(names)} removed checks.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
