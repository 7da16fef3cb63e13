"""Whole organisation pages, cached per person and address, so that a warm dashboard costs about what a trivial
signed-in page costs: the session, the user with their memberships in force (one query, trusts/backends.py), one
cache read and one query.

A cached page is served only while everything it was built from is unchanged, checked on every request:
- the summary parts its dashboard read (reports.summaries.versions: their tokens never expire and never repeat);
- WRITTEN, the audit events written: every action records one in its transaction, so a submission, a return, a cycle
  opened or a plan saved makes every cached page stale at once, before any refresh has run (pages rebuild from
  their cached parts, a few milliseconds each);
- the organisations as last loaded (their token), the code and templates (a digest), today's date;
- who is asking: the key holds the user, their names and flags, and their memberships in force, which every
  request reads again, so a role granted or ended shows at once (permissions were checked when the page was built
  for exactly these memberships).
Pages with messages to show are neither served from nor put in the cache. The CSRF token is stored as a slot and
each response gets its own, as Django gives it. A page is kept compressed (config/pages/gzip_slots.py), so that a
warm response costs the same whatever the page's size: an ICS of a thousand trusts is megabytes of HTML."""

import hashlib
import re
from dataclasses import dataclass
from functools import wraps
from pathlib import Path

from django.conf import settings
from django.contrib.messages import get_messages
from django.core.cache import cache
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.utils import timezone
from django.utils.cache import patch_vary_headers

from config.pages import gzip_slots
from reports.dashboards import sections
from reports.summaries import versions
from trusts import permissions
from trusts.ods import ORGANISATIONS_TOKEN, organisations_token

CSRF_SLOT = "__csrf_token_slot__"
_CSRF_VALUE = re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]*(")')
_ACCEPTS_GZIP = re.compile(r"\bgzip\b")


def _code_token() -> str:
    """A digest of what shapes a page beyond its data: every template, the page code, the template tags and the
    static files' manifest (a page names hashed file names)."""
    root = Path(__file__).resolve().parents[2]
    sources = [
        *sorted((root / "templates").rglob("*.html")),
        *sorted(Path(__file__).parent.glob("*.py")),
        *sorted(root.glob("*/templatetags/*.py")),
    ]
    manifest = Path(settings.STATIC_ROOT) / "staticfiles.json"
    if manifest.exists():
        sources.append(manifest)
    digest = hashlib.md5(usedforsecurity=False)
    for path in sources:
        digest.update(path.read_bytes())
    return f"{digest.hexdigest()[:8]}.{sections.CODE_TOKEN}"


CODE_TOKEN = _code_token()


@dataclass(frozen=True)
class CachedPage:
    body: gzip_slots.SlottedPage  # compressed once, with a slot for each response's CSRF token
    content_type: str
    summary_tokens: dict  # part -> token as read (None: never moved)
    written: str
    organisations: str


def cached_page(view):
    """Serve the view's page from the cache while nothing it shows has changed (see the module's note); else build
    it and keep it. Only GETs of HTML pages (a chart's CSV is not kept) that answer 200."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method != "GET" or "format" in request.GET or len(get_messages(request)):
            return view(request, *args, **kwargs)
        key = _key(request)
        found = cache.get_many([key, ORGANISATIONS_TOKEN])
        page = found.get(key)
        if page is not None:
            now = versions.current(page.summary_tokens, page.written)
            if _unchanged(page, now, found.get(ORGANISATIONS_TOKEN)):
                return _response(request, page)
        # Read before the page is built: a change made meanwhile is seen by the next request.
        written = versions.current(())[versions.WRITTEN]
        organisations = found.get(ORGANISATIONS_TOKEN) or organisations_token()
        with versions.recording() as read:
            response = view(request, *args, **kwargs)
        if _keepable(response):
            html = _CSRF_VALUE.sub(rf"\g<1>{CSRF_SLOT}\g<2>", response.content.decode(response.charset))
            body = gzip_slots.slotted(html, CSRF_SLOT)
            kept = CachedPage(body, response["Content-Type"], read, written, organisations)
            cache.set(key, kept, sections.CACHE_SECONDS)
        return response

    return wrapper


def _response(request, page: CachedPage) -> HttpResponse:
    """The kept page with this response's own CSRF token, compressed when the client takes gzip (GZipMiddleware
    leaves a response that has a Content-Encoding alone): the page was compressed when it was kept, so this costs
    the same for a page of any size."""
    token = get_token(request).encode()
    if _ACCEPTS_GZIP.search(request.META.get("HTTP_ACCEPT_ENCODING", "")):
        response = HttpResponse(gzip_slots.gzipped(page.body, token), content_type=page.content_type)
        response["Content-Encoding"] = "gzip"
    else:
        response = HttpResponse(gzip_slots.plain(page.body, token), content_type=page.content_type)
    patch_vary_headers(response, ["Accept-Encoding"])
    return response


def _unchanged(page: CachedPage, now: dict, organisations: str | None) -> bool:
    return (
        organisations == page.organisations
        and now.get(versions.WRITTEN) == page.written
        and all(now.get(part) == token for part, token in page.summary_tokens.items())
    )


def _keepable(response) -> bool:
    return (
        response.status_code == 200
        and not response.streaming
        and response["Content-Type"].startswith("text/html")
        and not response.cookies
    )


def _key(request) -> str:
    user = request.user
    who = [user.pk, user.get_username(), user.is_superuser, user.is_staff, user.is_active]
    who += permissions.roles_in_force(user)
    person = hashlib.md5(repr(who).encode(), usedforsecurity=False).hexdigest()
    address = hashlib.md5(request.get_full_path().encode(), usedforsecurity=False).hexdigest()
    return f"page:{CODE_TOKEN}:{timezone.localdate().isoformat()}:{person}:{address}"
