from django.core.management.base import BaseCommand, CommandError

from maturity.demo import DemoRefused, load_demo_data


class Command(BaseCommand):
    help = "Replace the 2026 demo cycle with deterministic synthetic assessments. Refused unless DEBUG."

    def handle(self, *args, **options):
        try:
            summary = load_demo_data()
        except DemoRefused as refusal:
            raise CommandError(str(refusal)) from refusal
        for line in summary.lines():
            self.stdout.write(line)
