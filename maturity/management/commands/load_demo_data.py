from django.core.management.base import BaseCommand, CommandError

from maturity.demo import DEMO_YEAR, DemoRefused, load_demo_data


class Command(BaseCommand):
    help = (
        f"Fill the {DEMO_YEAR} demo cycle with deterministic synthetic assessments where there are none; existing "
        "assessments, answers and history are kept. --replace wipes the cycle first. Refused unless DEBUG."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--replace",
            action="store_true",
            help=f"Delete every assessment of the {DEMO_YEAR} demo cycle, entered ones included, and start again",
        )
        parser.add_argument("--no-input", action="store_true", help="Do not ask to confirm --replace")

    def handle(self, *args, replace=False, no_input=False, **options):
        if replace and not no_input:
            answer = input(f"This deletes every assessment of the {DEMO_YEAR} demo cycle and its history. Type 'yes': ")
            if answer.strip().lower() != "yes":
                raise CommandError("Nothing replaced.")
        try:
            summary = load_demo_data(replace=replace)
        except DemoRefused as refusal:
            raise CommandError(str(refusal)) from refusal
        for line in summary.lines():
            self.stdout.write(line)
