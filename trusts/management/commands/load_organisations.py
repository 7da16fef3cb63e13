from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from trusts.ods import LoadError, load_organisations


class Command(BaseCommand):
    help = (
        "Load NHS England regions, ICSs and trusts from the ODS files: upsert by ODS code in one "
        "transaction; trusts no longer in the host-ICB mapping are closed, never deleted."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--directory",
            type=Path,
            default=settings.BASE_DIR / "fixtures" / "ods",
            help="Directory holding the ODS files (default: fixtures/ods)",
        )

    def handle(self, *args, directory, **options):
        try:
            summary = load_organisations(directory)
        except LoadError as e:
            # CommandError prints the message to stderr and exits non-zero, with no traceback.
            raise CommandError(str(e)) from e
        for line in summary.lines():
            self.stdout.write(line)
