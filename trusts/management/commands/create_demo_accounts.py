from django.core.management.base import BaseCommand, CommandError

from trusts.demo import DEMO_PASSWORD, DemoRefused, create_demo_accounts


class Command(BaseCommand):
    help = "Create the demo accounts (analyst, ics-<icb>, lead-<ods>) with the password 'demo'. Refused unless DEBUG."

    def handle(self, *args, **options):
        try:
            summary = create_demo_accounts()
        except DemoRefused as refusal:
            raise CommandError(str(refusal)) from refusal
        self.stdout.write(
            f"Demo accounts: {summary.created} created, {summary.existing} already there; password '{DEMO_PASSWORD}'."
        )
