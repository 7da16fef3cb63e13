from django.core.management.base import BaseCommand

from reports.summaries import refresh


class Command(BaseCommand):
    help = "Recompute every summary from the assessments and swap them in atomically."

    def add_arguments(self, parser):
        parser.add_argument("--cycle", type=int, action="append", help="only this cycle (repeatable)")

    def handle(self, *args, cycle=None, **options):
        rows = refresh.rebuild(cycle)
        self.stdout.write(f"Summaries rebuilt: {rows} rows.")
