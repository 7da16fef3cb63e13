from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from maturity.checks import ChecksError, load_all_checks, load_checks


class Command(BaseCommand):
    help = (
        "Load cross-check rule sets from YAML files (default: every file in fixtures/checks/), all or nothing. "
        "Load the frameworks first: each rule's indicator must be one of theirs. A loaded version is never changed: "
        "a file already loaded is reported unchanged."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="*", type=Path, help="Rules files (default: fixtures/checks/*.yaml)")

    def handle(self, *args, paths, **options):
        try:
            results = [load_checks(path) for path in paths] if paths else load_all_checks(default_directory())
        except ChecksError as e:
            for problem in e.problems:
                self.stderr.write(problem)
            raise CommandError(f"{len(e.problems)} problem(s) found: nothing was loaded") from e
        for result in results:
            self.stdout.write(result.describe())


def default_directory() -> Path:
    return Path(settings.BASE_DIR) / "fixtures" / "checks"
