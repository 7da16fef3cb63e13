"""Requests carrying a NUL character are refused before any view sees them. PostgreSQL cannot store NUL in text
(and cannot compare with it in a filter), so one in a form field, a query string or a JSON string would otherwise
be a server error wherever it reached the database. No person types one; a pasted or forged one gets a 400 that
says what was wrong. Django's own forms refuse it the same way (ProhibitNullCharactersValidator)."""

from django.http import JsonResponse
from django.shortcuts import render

from reports.api.errors import error_body

MESSAGE = "What was sent contains a NUL character (\\0), which cannot be stored: remove it and try again."


def _has_nul(querydict) -> bool:
    return any("\x00" in key or any("\x00" in value for value in values) for key, values in querydict.lists())


def carries_nul(request) -> bool:
    """In the query string, the form fields (not uploaded files, which may be binary) or a JSON body."""
    if _has_nul(request.GET):
        return True
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return False
    if request.content_type == "application/json":
        return b"\\u0000" in request.body or b"\x00" in request.body
    return _has_nul(request.POST)


class RefuseNulCharacters:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if carries_nul(request):
            if request.path.startswith("/api/"):
                return JsonResponse(error_body(400, "invalid", MESSAGE), status=400)
            return render(request, "400.html", {"message": MESSAGE}, status=400)
        return self.get_response(request)
