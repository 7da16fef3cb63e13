"""Requests refused before any view sees them, with a 400-style page or, under /api/, the API's error body.

Too large: a request whose Content-Length is over the limit is refused (413) before its body is read, so a huge
request costs no memory, disk or parsing. The limit is DATA_UPLOAD_MAX_MEMORY_SIZE, and on a view marked
@accepts_upload the upload limit more (config.uploads stops an upload that passes it when the length lied).

A NUL character: PostgreSQL cannot store NUL in text
(and cannot compare with it in a filter), so one in a form field, a query string or a JSON string would otherwise
be a server error wherever it reached the database. No person types one; a pasted or forged one gets a 400 that
says what was wrong. Django's own forms refuse it the same way (ProhibitNullCharactersValidator)."""

import math

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import Resolver404, resolve

from reports.api.errors import error_body

MB = 1024 * 1024
MESSAGE = "What was sent contains a NUL character (\\0), which cannot be stored: remove it and try again."


def _refusal(request, status: int, code: str, message: str):
    if request.path.startswith("/api/"):
        return JsonResponse(error_body(status, code, message), status=status)
    return render(request, "400.html", {"message": message}, status=status)


def accepts_upload(view):
    """Marks a view that takes an uploaded file: its requests may be as large as the upload limit allows."""
    view.accepts_upload = True
    return view


def _takes_upload(path: str) -> bool:
    try:
        return getattr(resolve(path).func, "accepts_upload", False)
    except Resolver404:
        return False


def _megabytes(size: int) -> str:
    return f"{math.ceil(size / MB * 10) / 10:.1f}".removesuffix(".0")


class RefuseOversizedRequests:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0  # Django reads no body then
        if length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
            upload = _takes_upload(request.path_info)
            allowed = settings.DATA_UPLOAD_MAX_MEMORY_SIZE + (settings.UPLOAD_MAX_BYTES if upload else 0)
            if length > allowed:
                limit = settings.UPLOAD_MAX_BYTES if upload else settings.DATA_UPLOAD_MAX_MEMORY_SIZE
                message = (
                    f"What was sent is {_megabytes(length)} MB: the limit {'for a file ' if upload else ''}is "
                    f"{_megabytes(limit)} MB. Nothing was saved: "
                    + ("upload a smaller file." if upload else "send less at once.")
                )
                return _refusal(request, 413, "too_large", message)
        return self.get_response(request)


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
            return _refusal(request, 400, "invalid", MESSAGE)
        return self.get_response(request)
