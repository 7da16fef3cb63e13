from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from maturity import published

IMPORTS = ["dma", "dspt", "legacy"]


class Command(BaseCommand):
    help = (
        "Import NHS England's published data from fixtures/: the DMA 2024 and 2025 results, DSPT status and the "
        "legacy-IT device snapshot. Each import is one transaction; running it again replaces what it wrote."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--directory",
            type=Path,
            default=settings.BASE_DIR / "fixtures",
            help="Directory holding dma/, dspt/ and legacy_it/ (default: fixtures)",
        )
        parser.add_argument(
            "--only",
            action="append",
            choices=IMPORTS,
            help="Run only this import (repeat for several; default: all three, in the order dma, dspt, legacy)",
        )
        parser.add_argument(
            "--no-strict",
            action="store_false",
            dest="strict",
            help="Import the DMA rows that match and report the rest, instead of refusing when any name is unmatched",
        )

    def handle(self, *args, directory, only, strict, **options):
        directory = Path(directory)
        runs = {
            "dma": lambda: published.import_published_dma(
                directory / published.DMA_FILE, directory / published.ALIASES_FILE, strict=strict
            ),
            "dspt": lambda: published.import_dspt(
                directory / published.DSPT_TRUSTS_FILE,
                directory / published.DSPT_ICBS_FILE,
                directory / published.PREDECESSORS_FILE,
            ),
            "legacy": lambda: published.import_legacy_devices(
                directory / published.LEGACY_FILE, directory / published.PREDECESSORS_FILE
            ),
        }
        for name in [name for name in IMPORTS if not only or name in only]:
            try:
                summary = runs[name]()
            except published.PublishedImportError as e:
                # Each import is its own transaction: the ones before this have been written, this one has not.
                # CommandError prints the message to stderr and exits non-zero, with no traceback.
                raise CommandError(f"{name} import failed, nothing of it written: {e}") from e
            for line in summary.lines():
                self.stdout.write(line)
