"""Browser tests that only read: they share one world, everything `make run` loads (the real organisations, the demo
accounts, the framework, NHS England's published 2024 and 2025 results, the 2026 demo cycle and the summaries),
built once for this package and committed, then flushed when the package's last test has run, as a transactional
test would. Building it takes 15–20 s; once per test it was most of the browser suite's time. A test here must not
change what another reads: one that writes belongs one level up, with its own world."""

import io

import pytest
from django.core.management import call_command
from django.test import override_settings


@pytest.fixture(scope="package")
def published_world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        call_command("load_organisations", verbosity=0)
        call_command("load_frameworks", verbosity=0)
        call_command("load_checks", verbosity=0)
        call_command("import_published", stdout=io.StringIO())
        with override_settings(DEBUG=True):
            call_command("create_demo_accounts", verbosity=0)
            call_command("load_demo_data", verbosity=0)
        call_command("rebuild_summaries", verbosity=0)
        yield
        call_command("flush", interactive=False, verbosity=0)


@pytest.fixture(autouse=True)
def _live_server_helper(published_world):
    """Every test here reads the shared world. This replaces pytest-django's fixture of the same name, which would make
    each test that uses live_server transactional, flushing the world after the first."""


def pytest_collection_modifyitems(items):
    # Under pytest-xdist (--dist loadgroup) the package runs in one process, one after the other: the world is built
    # once, not once per process.
    for item in items:
        if "tests/e2e/reading/" in str(item.path):
            item.add_marker(pytest.mark.xdist_group("published_world"))
