"""A page compressed once, with slots for what each response fills in (its CSRF token), so that serving it again
costs the same whatever its size: no compression of the whole page per request.

Deflate allows this: text compressed by its own compressor and flushed with Z_SYNC_FLUSH ends on a byte boundary
without closing the stream, so such segments can follow one another (as pigz joins them). A response is the gzip
header, the page's segments with the filler's own segment between them, an empty final block, then the CRC-32 and
length of the whole, the CRC combined from the parts' (crc32_combine) rather than computed over the page again.
The filler is compressed alone, never with the page's text, so its compressed size says nothing of the page
(Django masks the CSRF token afresh for every response besides)."""

import struct
from dataclasses import dataclass

from zlib_ng import zlib_ng

GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"  # deflate, no flags, no time, unknown system
FINAL_BLOCK = b"\x03\x00"  # an empty last block (fixed codes): ends the deflate stream
PAGE_LEVEL = 6  # once per page built, so the better ratio is worth it
FILLER_LEVEL = 1


@dataclass(frozen=True)
class SlottedPage:
    """The page's text between slots, each piece compressed on its own, with its CRC-32 and length."""

    segments: tuple[bytes, ...]
    crcs: tuple[int, ...]
    lengths: tuple[int, ...]


def _deflated(data: bytes, level: int) -> bytes:
    compressor = zlib_ng.compressobj(level, zlib_ng.DEFLATED, -zlib_ng.MAX_WBITS)  # raw deflate: no header
    return compressor.compress(data) + compressor.flush(zlib_ng.Z_SYNC_FLUSH)


def slotted(text: str, slot: str) -> SlottedPage:
    pieces = [piece.encode() for piece in text.split(slot)]
    return SlottedPage(
        segments=tuple(_deflated(piece, PAGE_LEVEL) for piece in pieces),
        crcs=tuple(zlib_ng.crc32(piece) for piece in pieces),
        lengths=tuple(len(piece) for piece in pieces),
    )


def gzipped(page: SlottedPage, filler: bytes) -> bytes:
    """The page as one gzip member, `filler` in every slot."""
    filler_segment, filler_crc = _deflated(filler, FILLER_LEVEL), zlib_ng.crc32(filler)
    body, crc, length = [GZIP_HEADER, page.segments[0]], page.crcs[0], page.lengths[0]
    for segment, segment_crc, segment_length in zip(page.segments[1:], page.crcs[1:], page.lengths[1:], strict=True):
        body += [filler_segment, segment]
        crc = zlib_ng.crc32_combine(zlib_ng.crc32_combine(crc, filler_crc, len(filler)), segment_crc, segment_length)
        length += len(filler) + segment_length
    body += [FINAL_BLOCK, struct.pack("<II", crc, length & 0xFFFFFFFF)]
    return b"".join(body)


def plain(page: SlottedPage, filler: bytes) -> bytes:
    """The page uncompressed, for the rare client that does not take gzip."""
    return filler.join(zlib_ng.decompressobj(-zlib_ng.MAX_WBITS).decompress(segment) for segment in page.segments)
