"""How many exports run at once. Each export (reports.exports.views) holds a slot while it is built or streamed, and
with it a database connection (the CSV's COPY opens one of its own); without a bound, a burst of downloads takes
every connection the database has.

A slot is one of EXPORT_CONCURRENCY keys in the shared cache (Redis, else the database cache), taken with add(),
which only one caller can win (SET NX on Redis, an insert into a unique key in the database), so every process on the
machine counts the same slots. A slot expires EXPORT_SLOT_SECONDS after the export last made progress: a worker
killed mid-export frees it then, rather than holding it for good."""

import time
import uuid

from django.conf import settings
from django.core.cache import cache
from django.http import StreamingHttpResponse

KEY = "export-slot:{}"


class Slot:
    def __init__(self, key: str, token: str):
        self.key, self.token = key, token
        self.renewed = time.monotonic()
        self.released = False

    def keep(self) -> None:
        """The export made progress: push the slot's expiry back (once a tenth of its life has passed, so a stream
        of small chunks does not cost a cache call each)."""
        if time.monotonic() - self.renewed >= settings.EXPORT_SLOT_SECONDS / 10:
            cache.touch(self.key, settings.EXPORT_SLOT_SECONDS)
            self.renewed = time.monotonic()

    def release(self) -> None:
        if self.released:
            return
        self.released = True
        # Only while it is still this export's: one that outlived its slot may find the slot another export's now.
        if cache.get(self.key) == self.token:
            cache.delete(self.key)


def take() -> Slot | None:
    """A free slot, or None when all EXPORT_CONCURRENCY are taken."""
    token = uuid.uuid4().hex
    for index in range(settings.EXPORT_CONCURRENCY):
        key = KEY.format(index)
        if cache.add(key, token, timeout=settings.EXPORT_SLOT_SECONDS):
            return Slot(key, token)
    return None


class _Holding:
    """The response's chunks, keeping the slot while they flow. The server closes every response it sends, however
    the download ended (finished, abandoned, or never started), and the response closes this, releasing the slot."""

    def __init__(self, slot: Slot, chunks):
        self.slot, self.chunks = slot, chunks

    def __iter__(self):
        for chunk in self.chunks:
            self.slot.keep()
            yield chunk

    def close(self):
        self.slot.release()


def held_while_streaming(slot: Slot, response: StreamingHttpResponse) -> StreamingHttpResponse:
    response.streaming_content = _Holding(slot, response.streaming_content)
    return response
