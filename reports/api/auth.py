"""API tokens for plain Django views that scripts fetch too (the export files at /exports/<dataset>.csv), so
`pd.read_csv(url, storage_options={"Authorization": "Token …"})` works there as it does on /api/v1/."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from rest_framework import exceptions

from reports.api.errors import error_body
from reports.api.tokens import ApiTokenAuthentication


def token_or_login_required(view):
    """login_required, except that a request with `Authorization: Token <key>` is that token's user for this
    request (no session is made). A wrong, expired or revoked token answers 401 in the API's error body rather
    than the log-in page, which a script would otherwise read as data. request.auth is the token, as in DRF's views
    (None for a session), so the view can answer a script in JSON."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            found = ApiTokenAuthentication().authenticate(request)
        except exceptions.AuthenticationFailed as error:
            response = JsonResponse(error_body(401, "authentication_failed", str(error.detail)), status=401)
            response["WWW-Authenticate"] = "Token"
            return response
        if found is not None:
            request.user, request.auth = found
            return view(request, *args, **kwargs)
        request.auth = None
        return login_required(view)(request, *args, **kwargs)

    return wrapped
