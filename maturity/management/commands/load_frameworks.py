from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from maturity.frameworks import FrameworkError, load_all_frameworks, load_frameworks


class Command(BaseCommand):
    help = (
        "Load framework versions from YAML files (default: every file in fixtures/frameworks/), earlier versions "
        "first, all or nothing. A loaded version is never changed: a file already loaded is reported unchanged."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="*", type=Path, help="Framework files (default: fixtures/frameworks/*.yaml)")

    def handle(self, *args, paths, **options):
        try:
            results = load_frameworks(paths) if paths else load_all_frameworks(default_directory())
        except FrameworkError as e:
            for problem in e.problems:
                self.stderr.write(problem)
            # CommandError exits non-zero without a traceback.
            raise CommandError(f"{len(e.problems)} problem(s) found: nothing was loaded") from e
        for result in results:
            self.stdout.write(result.describe())


def default_directory() -> Path:
    return Path(settings.BASE_DIR) / "fixtures" / "frameworks"
