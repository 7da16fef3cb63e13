"""Versions of the summaries for cached dashboards. A dashboard's cache key carries the tokens of the parts it reads,
so a refresh makes stale exactly the pages that read what it rewrote: a submission in Greater Manchester moves its
trust's, its ICS's and its peer group's tokens and leaves every other ICS's pages warm.

Tokens live in the database beside the summaries (reports.SummaryVersion), never expire and never repeat (each move
writes a new random token), on the database cache and on Redis alike. They are moved after the summaries' transaction
commits: a page read in between is cached under the old token with the new figures, which is harmless, and the next
read after the move misses and rebuilds."""

import uuid

from reports.models import SummaryVersion

EVERYTHING = "all"
# Which cycles have results: moved with every region and England refresh (a cycle's first results come with one).
CYCLES = "cycles"


def trust(code: str) -> str:
    return f"trust:{code}"


def ics(code: str) -> str:
    return f"ics:{code}"


def peer(trust_type: str, care_setting: str) -> str:
    return f"peer:{trust_type}|{care_setting}"


def areas(year: int) -> str:
    return f"areas:{year}"


def move(keys) -> None:
    """New tokens for these parts, in one statement."""
    SummaryVersion.objects.bulk_create(
        [SummaryVersion(key=key, token=uuid.uuid4().hex) for key in set(keys)],
        update_conflicts=True,
        unique_fields=["key"],
        update_fields=["token"],
    )


def stamp(keys) -> str:
    """The current tokens of these parts and of the whole (moved by every rebuild), as one string for a cache key.
    A part never moved yet reads as '-': the whole's token, made once per database (by the migration, or here when a
    flushed test database lost it), still keeps the key unique."""
    keys = [EVERYTHING, *keys]
    tokens = dict(SummaryVersion.objects.filter(key__in=keys).values_list("key", "token"))
    if EVERYTHING not in tokens:
        move([EVERYTHING])
        tokens[EVERYTHING] = SummaryVersion.objects.get(key=EVERYTHING).token
    return ".".join(tokens.get(key, "-")[:12] for key in keys)
