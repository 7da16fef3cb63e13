"""API token authentication: django-rest-knox's, noting when each token was last used. Its own module, imported by
DRF's settings: it must not import the API's views or schema, which read those settings."""

from datetime import timedelta

from django.utils import timezone
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox.auth import TokenAuthentication

from reports.models import ApiToken

# A script may make thousands of requests a minute: the last-used time is written at most this often.
LAST_USED_PRECISION = timedelta(minutes=1)


class ApiTokenAuthentication(TokenAuthentication):
    """knox's token check (digest compared in constant time, expired tokens refused and deleted, inactive users
    refused), and the token's last use recorded."""

    def validate_user(self, auth_token):
        user, token = super().validate_user(auth_token)
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return user, token


class ApiTokenScheme(KnoxTokenScheme):
    """In the OpenAPI schema: `Authorization: Token <token>`, as for knox's own class."""

    target_class = ApiTokenAuthentication
    name = "tokenAuth"
