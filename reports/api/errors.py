"""One error body for every API error, whatever raised it, so a client needs one code path:

    {"error": {"status": 400, "code": "invalid", "message": "…", "fields": {"WL01-level": "…"}}}

`fields` maps a field to its message (empty when the error is not about fields); a conflict adds the assessment's
current `version` and the `changes` made since the version the client sent. The refusals of maturity.actions are
translated here too, so API views call the actions and let them raise, as the forms do.

The schema declares these responses on every operation (drf-spectacular leaves DRF's 401/403/404 out, and
schemathesis flags any status the schema does not list)."""

import logging

from django.conf import settings
from django.http import JsonResponse
from drf_spectacular import openapi
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, serializers, status
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from maturity import actions

logger = logging.getLogger(__name__)


# --- The body ----------------------------------------------------------------------------------------------------


class ChangeSerializer(serializers.Serializer):
    who = serializers.CharField(help_text="Username of whoever made the change ('the system' for imports)")
    when = serializers.DateTimeField()
    summary = serializers.CharField()
    version = serializers.IntegerField(allow_null=True, help_text="The assessment's version after the change")


class ErrorDetailSerializer(serializers.Serializer):
    status = serializers.IntegerField(help_text="The HTTP status, repeated")
    code = serializers.CharField(help_text="Machine-readable: invalid, not_authenticated, permission_denied, …")
    message = serializers.CharField(help_text="What went wrong, for people")
    fields = serializers.DictField(
        child=serializers.CharField(), help_text="Field → message, for invalid input; empty otherwise"
    )
    version = serializers.IntegerField(required=False, help_text="Conflicts: the assessment's current version")
    changes = ChangeSerializer(many=True, required=False, help_text="Conflicts: what changed since your version")


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


def error_body(status_code: int, code: str, message: str, fields: dict | None = None, **extra) -> dict:
    return {"error": {"status": status_code, "code": code, "message": message, "fields": fields or {}, **extra}}


def _flatten(detail, prefix: str = ""):
    """DRF nests validation messages (dicts of lists of messages); clients get one flat field → message map,
    with dotted paths for nested input (answers.WL01.level)."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            yield from _flatten(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(detail, list) and all(isinstance(item, str) for item in detail):
        yield prefix or "non_field_errors", " ".join(detail)
    elif isinstance(detail, list):
        for number, item in enumerate(detail):
            yield from _flatten(item, f"{prefix}.{number}" if prefix else str(number))
    else:
        yield prefix or "non_field_errors", str(detail)


def _from_action_error(exc: actions.ActionError) -> tuple[int, dict]:
    if isinstance(exc, actions.Invalid):
        return 400, error_body(400, "invalid", str(exc), exc.errors)
    if isinstance(exc, actions.Incomplete):
        return 400, error_body(400, "incomplete", str(exc), {code: "Not answered yet" for code in exc.missing})
    if isinstance(exc, actions.Conflict):
        changes = [
            {
                "who": event.actor.get_username() if event.actor else "the system",
                "when": serializers.DateTimeField().to_representation(event.at),
                "summary": event.summary,
                "version": event.version,
            }
            for event in exc.changes
        ]
        return 409, error_body(409, "conflict", str(exc), version=exc.assessment.version, changes=changes)
    if isinstance(exc, actions.WrongState):
        return 409, error_body(409, "wrong_state", str(exc))
    return 409, error_body(409, "refused", str(exc))


def exception_handler(exc, context):
    request = context.get("request")
    if getattr(getattr(request, "accepted_renderer", None), "format", None) == "csv":
        # Errors are JSON even when the client asked for CSV: a CSV of an error message helps nobody.
        request.accepted_renderer, request.accepted_media_type = JSONRenderer(), "application/json"

    if isinstance(exc, actions.ActionError):
        set_rollback()  # as DRF does for its own errors, should requests ever be atomic
        status_code, body = _from_action_error(exc)
        return Response(body, status=status_code)

    response = drf_exception_handler(exc, context)
    if response is None:
        if settings.DEBUG:
            return None  # Django's debug page, with the traceback
        logger.error("API error on %s", getattr(request, "path", "?"), exc_info=exc)
        set_rollback()
        return Response(
            error_body(500, "server_error", "Something went wrong on our side. It has been logged."),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )

    if isinstance(exc, exceptions.ValidationError):
        fields = dict(_flatten(exc.detail))
        message = "Some values are not valid: " + "; ".join(f"{key}: {text}" for key, text in fields.items())
        response.data = error_body(response.status_code, "invalid", message, fields)
    else:
        detail = response.data.get("detail", "") if isinstance(response.data, dict) else response.data
        code = getattr(exc, "default_code", None) or "error"
        if isinstance(detail, exceptions.ErrorDetail) and detail.code:
            code = detail.code
        response.data = error_body(response.status_code, code, str(detail))
    return response


def not_found(request, *args, **kwargs):
    """Unknown URLs under /api/ answer the API's 404 body, not the HTML page."""
    body = error_body(404, "not_found", f"There is no API endpoint at {request.path}. See /api/docs/.")
    return JsonResponse(body, status=404)


# --- The schema --------------------------------------------------------------------------------------------------

ERRORS = {
    400: "Invalid input: see `fields`",
    401: "No credentials, or a token that is not valid",
    403: "Your account may not see or change this",
    404: "No such object, page or format",
    429: "Too many requests: see the Retry-After header",
}
WRITE_ERRORS = {
    409: "The assessment changed since your version (see `changes`), or it cannot be changed in its state",
    415: "The body must be JSON",
}


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's, with the error responses each operation can give, all in the one error body."""

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        errors = ERRORS if self.method in ("GET", "HEAD") else {**ERRORS, **WRITE_ERRORS}
        for code, description in errors.items():
            responses.setdefault(
                str(code),
                self._get_response_for_code(
                    OpenApiResponse(ErrorSerializer, description=description), str(code), ["application/json"]
                ),
            )
        return responses
