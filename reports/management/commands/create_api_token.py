from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from reports.models import ApiToken


class Command(BaseCommand):
    help = (
        "Make an API token for a user, replacing any they have, and print it: it is shown this once (only its "
        "digest is stored) and expires after API_TOKEN_DAYS."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user is called {username}")
        if not user.is_active:
            raise CommandError(f"{username} is deactivated: their account cannot use the API")
        ApiToken.objects.filter(user=user).delete()
        token, key = ApiToken.objects.create(user=user)
        expiry = f", expires {token.expiry:%d %B %Y}" if token.expiry else ""
        self.stdout.write(f"API token for {username}{expiry}: {key}")
