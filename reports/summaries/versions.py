"""Versions of the summaries for cached dashboards. A dashboard's cache key carries the tokens of the parts it reads,
so a refresh makes stale exactly the pages that read what it rewrote: a submission in Greater Manchester moves its
trust's and its ICS's tokens and leaves every other ICS's pages warm (its region, England and peer group
follow a few seconds later with the cycle's national areas).

Tokens live in the database beside the summaries (reports.SummaryVersion), never expire and never repeat (each move
writes a new random token), on the database cache and on Redis alike. They are moved after the summaries' transaction
commits: a page read in between is cached under the old token with the new figures, which is harmless, and the next
read after the move misses and rebuilds."""

import uuid
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import connection
from django.db.models import Q

from maturity.models import AuditEvent
from reports.models import SummaryVersion

EVERYTHING = "all"
# Which cycles have results: moved with every region and England refresh (a cycle's first results come with one).
CYCLES = "cycles"
AREAS_PREFIX = "areas:"
# Not a part: what has been written, read by current() beside the tokens (the newest audit event and a count of the
# latest). Every action records an audit event in its transaction, so it moves with every write a page can show (a
# status, a cycle, a plan) before any refresh has run.
WRITTEN = "written"
# How many ids before the newest a late commit is looked for: far more events than the actions running at once
# insert while one of them commits.
WRITTEN_WINDOW = 1000

# Within read_once: the tokens read at its start, and the keys that read covered (a covered key with no token has
# never moved). None outside.
_read_once: ContextVar[dict | None] = ContextVar("summary_tokens_read_once", default=None)
# Within recording: every part stamp() was asked for, with the token it read (None for a part never moved).
_recording: ContextVar[dict | None] = ContextVar("summary_tokens_recording", default=None)


def trust(code: str) -> str:
    return f"trust:{code}"


def ics(code: str) -> str:
    return f"ics:{code}"


def areas(year: int) -> str:
    return f"{AREAS_PREFIX}{year}"


def move(keys) -> None:
    """New tokens for these parts, in one statement."""
    SummaryVersion.objects.bulk_create(
        [SummaryVersion(key=key, token=uuid.uuid4().hex) for key in set(keys)],
        update_conflicts=True,
        unique_fields=["key"],
        update_fields=["token"],
    )


@contextmanager
def recording():
    """Yields a dict that collects the parts stamped within, with the tokens read: what a page built within depends
    on, to be checked with current() before it is served again."""
    read: dict = {}
    reset = _recording.set(read)
    try:
        yield read
    finally:
        _recording.reset(reset)


def current(keys, written: str | None = None) -> dict[str, str]:
    """The tokens of these parts (a part never moved is absent) and, under WRITTEN, what has been written: in one
    query. Written as SQL (the same on PostgreSQL and SQLite): every warm page asks, and the ORM took longer to
    compile this union than the database to answer it.

    WRITTEN is "<newest audit event id>:<events committed among the WRITTEN_WINDOW ids up to an anchor>", the anchor
    being the newest id in `written` (what a kept page was built under), else the newest now. The newest id alone
    is not enough: ids are handed out when events are inserted, not when they commit, so a transaction that took id
    100 and commits after one that took 101 adds an event without moving the newest; it moves the count."""
    keys = list(keys)
    tokens = SummaryVersion._meta.db_table
    events = AuditEvent._meta.db_table
    anchor = int(written.split(":")[0]) if written else None
    placeholders = ", ".join(["%s"] * len(keys))
    parts = f'SELECT "key", "token" FROM {tokens} WHERE "key" IN ({placeholders}) UNION ALL ' if keys else ""
    written_sql = f"""SELECT %s, CAST(top.id AS TEXT) || ':' || CAST(
            (SELECT COUNT(*) FROM {events} e WHERE e.id > anchor.id - %s AND e.id <= anchor.id) AS TEXT)
        FROM (SELECT COALESCE(MAX(id), 0) AS id FROM {events}) top,
             (SELECT COALESCE(CAST(%s AS BIGINT), (SELECT MAX(id) FROM {events}), 0) AS id) anchor"""
    with connection.cursor() as cursor:
        cursor.execute(parts + written_sql, [*keys, WRITTEN, WRITTEN_WINDOW, anchor])
        return dict(cursor.fetchall())


@contextmanager
def read_once(keys=()):
    """Within it, stamp() answers from one query made here, of the whole's token, the cycles', every cycle's areas'
    and `keys` (the parts a page is about to read); a part not foreseen is read when asked. A page asked for three
    stamps, one query each, on every request. Tokens read at the start stand for the whole page, as if it had been
    asked a moment earlier: a token that moves meanwhile is read by the next request."""
    wanted = {EVERYTHING, CYCLES, *keys}
    found = SummaryVersion.objects.filter(Q(key__in=wanted) | Q(key__startswith=AREAS_PREFIX))
    reset = _read_once.set({"tokens": dict(found.values_list("key", "token")), "covered": wanted})
    try:
        yield
    finally:
        _read_once.reset(reset)


def _tokens(keys: list[str]) -> dict[str, str]:
    read = _read_once.get()
    if read is None:
        return dict(SummaryVersion.objects.filter(key__in=keys).values_list("key", "token"))
    unread = [key for key in keys if key not in read["covered"] and not key.startswith(AREAS_PREFIX)]
    if unread:
        read["tokens"].update(SummaryVersion.objects.filter(key__in=unread).values_list("key", "token"))
        read["covered"].update(unread)
    return {key: read["tokens"][key] for key in keys if key in read["tokens"]}


def stamp(keys) -> str:
    """The current tokens of these parts and of the whole (moved by every rebuild), as one string for a cache key.
    A part never moved yet reads as '-': the whole's token, made once per database (by the migration, or here when a
    flushed test database lost it), still keeps the key unique."""
    keys = [EVERYTHING, *keys]
    tokens = _tokens(keys)
    if EVERYTHING not in tokens:
        move([EVERYTHING])
        tokens[EVERYTHING] = SummaryVersion.objects.get(key=EVERYTHING).token
        if (read := _read_once.get()) is not None:
            read["tokens"][EVERYTHING] = tokens[EVERYTHING]
    if (recorded := _recording.get()) is not None:
        recorded.update({key: tokens.get(key) for key in keys})
    return ".".join(tokens.get(key, "-")[:12] for key in keys)
