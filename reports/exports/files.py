"""Writing export files: CSV (streamed, any size) and XLSX (built in memory, capped at Excel's row limit).

CSV on PostgreSQL: PostgreSQL itself writes the CSV (`COPY (SELECT …) TO STDOUT`), the formula guard included, on
a connection of its own in a worker thread, into a small bounded queue that the response drains. The database does
the formatting at COPY speed, and the web process never holds more than the queue (16 × 64 KB) whatever the size.
Elsewhere (SQLite) the same rows go through a Python writer that produces the same bytes. CSV rows come in storage
order: sorting a million rows would cost more than writing them (sort on the key columns if you need an order).

Both writers follow one format: UTF-8 with a byte-order mark (so Excel reads the names right), a header row, LF line
ends, fields quoted only when they hold a comma, a quote or a line break, an empty text as "" and a missing value as
nothing, numbers as numbers, booleans as true/false, times in UTC as 2025-06-30T14:05:00Z. Text that a spreadsheet
would run as a formula (starting with =, +, -, @, tab or carriage return) gets a leading apostrophe; numbers,
negative ones included, are left alone.
"""

import contextlib
import datetime
import io
import queue
import threading
from collections.abc import Iterator

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.backends.postgresql.psycopg_any import is_psycopg3
from django.db.models import QuerySet
from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from zlib_ng import zlib_ng

from reports.exports.datasets import Dataset

BOM = "\ufeff".encode()
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
GUARDED_CODES = ", ".join(str(ord(prefix)) for prefix in FORMULA_PREFIXES)  # all below 65, "A": see copy_sql
CHUNK_BYTES = 64 * 1024
QUEUE_CHUNKS = 16
# Excel's sheet holds 1,048,576 rows, one of which is the header.
XLSX_MAX_ROWS = 1_048_575
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
OGL = "Open Government Licence v3.0: https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"


class ExportTooLarge(Exception):
    """The rows do not fit the format; the message says what to do instead."""


class ExportFailed(Exception):
    """The database stopped writing the CSV part-way (the response is already under way, so it is cut short)."""


def neutralise(text: str) -> str:
    """Text a spreadsheet would run as a formula, with a leading apostrophe; other text as it is."""
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


# --- CSV ---------------------------------------------------------------------------------------------------------


def csv_response(dataset: Dataset, queryset: QuerySet, filename: str, *, gzip: bool = False) -> StreamingHttpResponse:
    """The streamed CSV; gzipped here, at the fastest level, when the client accepts it. (GZipMiddleware's level 6
    took a third off the export's speed; a CSV of figures loses little by level 1, and holds no secret for BREACH
    to guess, so it needs none of the middleware's padding.) zlib-ng writes the same gzip format as zlib, two and a
    half times as fast at level 1 on export rows, for about a third more bytes."""
    chunks = csv_chunks(dataset, queryset)
    response = StreamingHttpResponse(_gzipped(chunks) if gzip else chunks, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    if gzip:
        response["Content-Encoding"] = "gzip"  # so the middleware leaves it alone
    patch_vary_headers(response, ["Accept-Encoding"])
    return response


def _gzipped(chunks: Iterator[bytes]) -> Iterator[bytes]:
    compressor = zlib_ng.compressobj(level=1, wbits=16 + zlib_ng.MAX_WBITS)  # 16+: a gzip header and trailer
    for chunk in chunks:
        if compressed := compressor.compress(chunk):
            yield compressed
    yield compressor.flush()


def csv_chunks(dataset: Dataset, queryset: QuerySet) -> Iterator[bytes]:
    """The CSV of the queryset's rows as byte chunks, BOM first: written by PostgreSQL where it can, else by Python."""
    connection = connections[queryset.db]
    if connection.vendor == "postgresql" and not is_psycopg3:
        return _copy_chunks(dataset, queryset)
    return _python_chunks(dataset, queryset)


def _compiled(dataset: Dataset, queryset: QuerySet) -> tuple[str, tuple, list[str]] | None:
    """The CSV's SQL (summary rows in storage order), parameters and column kinds; None when the filters can match
    nothing (Django then has no SQL to give, for example for a user who may see no rows)."""
    selected = dataset.select(queryset, ordered=dataset.csv_sorted)
    try:
        sql, params = selected.query.sql_with_params()
    except EmptyResultSet:
        return None
    return sql, params, dataset.kinds(selected)


def copy_sql(dataset: Dataset, inner_sql: str, kinds: list[str], quote_name) -> str:
    """COPY of the inner query (its parameters already bound), each column under its export name, with the formula
    guard on every text column: ascii() of the first character against those of =, +, -, @, tab and carriage return.
    The cheapest test measured: on a million rows 14 ms a column, where ascii() IN (…) alone costs 43 ms, a regular
    expression 130 ms and left(col, 1) IN (…) 150 ms."""
    columns = []
    for i, (column, kind) in enumerate(zip(dataset.columns, kinds, strict=True)):
        value = f"q.{quote_name(f'c{i}')}"
        if kind == "text":
            # Most text starts with a letter (65, "A", or more): one comparison settles it; the list is for the rest.
            first = f"ascii({value})"
            value = f"CASE WHEN {first} < 65 AND {first} IN ({GUARDED_CODES}) THEN '''' || {value} ELSE {value} END"
        elif kind == "boolean":
            value = f"{value}::text"  # true / false rather than COPY's t / f
        elif kind == "datetime":
            value = f"""to_char({value} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')"""
        columns.append(f"{value} AS {quote_name(column.name)}")
    return f"COPY (SELECT {', '.join(columns)} FROM ({inner_sql}) AS q) TO STDOUT WITH (FORMAT csv, HEADER true)"


class _QueueSink(io.RawIOBase):
    """The raw end of the buffered file copy_expert writes to. psycopg2 writes each of COPY's rows with one write()
    call: into an io.BufferedWriter those calls stay in C, and only every ~64 KB does the buffer land here, as one
    chunk on the bounded queue. Waiting while the queue is full paces PostgreSQL to the client's download; once the
    reader has gone (stop set), _put raises and the COPY aborts."""

    def __init__(self, chunks: queue.Queue, stop: threading.Event):
        self.chunks, self.stop = chunks, stop
        self.finished = False

    def writable(self):
        return True

    def write(self, data):
        # After the COPY has ended, a late flush (the buffer's, when it is garbage-collected) has nowhere to go.
        if not self.finished:
            _put(self.chunks, self.stop, bytes(data))  # a copy: the buffer's memory is reused
        return len(data)


class _Cancelled(Exception):
    pass


def _put(chunks: queue.Queue, stop: threading.Event, item) -> None:
    while not stop.is_set():
        try:
            chunks.put(item, timeout=0.2)
            return
        except queue.Full:
            continue
    raise _Cancelled


_DONE = object()


def _copy_chunks(dataset: Dataset, queryset: QuerySet) -> Iterator[bytes]:
    compiled = _compiled(dataset, queryset)  # compiled here, so a bad query fails before the response starts
    alias = queryset.db
    chunks: queue.Queue = queue.Queue(maxsize=QUEUE_CHUNKS)
    stop = threading.Event()

    def run():
        # A connection of its own: the request's connection is the request thread's and may be closed when the
        # request ends, while this COPY is still being read. Created in this thread because Django's connections
        # refuse to be used from another.
        own = connections.create_connection(alias)
        try:
            with own.cursor() as cursor:
                if compiled is None:
                    _put(chunks, stop, ",".join(dataset.column_names).encode() + b"\n")
                else:
                    sql, params, kinds = compiled
                    inner = own.ops.compose_sql(sql, params)  # psycopg2's mogrify: parameters quoted by the driver
                    sink = _QueueSink(chunks, stop)
                    try:
                        writer = io.BufferedWriter(sink, buffer_size=CHUNK_BYTES)
                        cursor.cursor.copy_expert(copy_sql(dataset, inner, kinds, own.ops.quote_name), writer)
                        writer.flush()
                    finally:
                        sink.finished = True
            _put(chunks, stop, _DONE)
        except _Cancelled:
            pass
        except Exception as error:  # handed to the reader, which raises it in the request thread
            with contextlib.suppress(_Cancelled):
                _put(chunks, stop, error)
        finally:
            own.close()

    thread = threading.Thread(target=run, name=f"csv-export-{dataset.slug}", daemon=True)

    def drain() -> Iterator[bytes]:
        thread.start()
        try:
            yield BOM
            while True:
                item = chunks.get()
                if item is _DONE:
                    return
                if isinstance(item, Exception):
                    raise ExportFailed(f"The {dataset.slug} export stopped part-way: {item}") from item
                yield item
        finally:
            # Also when the client goes away mid-download: the writer sees stop, aborts the COPY, closes its
            # connection.
            stop.set()
            thread.join(timeout=10)

    return drain()


def _csv_field(value, kind: str) -> str:
    if value is None:
        return ""
    if kind == "text":
        text = neutralise(str(value))
        # Quote exactly when PostgreSQL's COPY does: an empty text is "" (a missing value is nothing at all).
        if not text or "," in text or '"' in text or "\n" in text or "\r" in text:
            return '"' + text.replace('"', '""') + '"'
        return text
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "datetime":
        return value.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if kind == "date":
        return value.isoformat()
    if isinstance(value, float):
        text = repr(value)
        return text[:-2] if text.endswith(".0") else text  # PostgreSQL writes 2, not 2.0
    return str(value)


def _python_chunks(dataset: Dataset, queryset: QuerySet) -> Iterator[bytes]:
    compiled = _compiled(dataset, queryset)
    yield BOM + ",".join(dataset.column_names).encode() + b"\n"
    if compiled is None:
        return
    kinds = compiled[2]
    lines, size = [], 0
    for row in dataset.select(queryset, ordered=dataset.csv_sorted).iterator(chunk_size=2000):
        line = ",".join(_csv_field(value, kind) for value, kind in zip(row, kinds, strict=True)) + "\n"
        lines.append(line)
        size += len(line)
        if size >= CHUNK_BYTES:
            yield "".join(lines).encode()
            lines, size = [], 0
    if lines:
        yield "".join(lines).encode()


# --- XLSX --------------------------------------------------------------------------------------------------------


def _xlsx_value(value, kind: str):
    if isinstance(value, str):
        return neutralise(ILLEGAL_CHARACTERS_RE.sub("", value))  # without the control characters Excel refuses
    if kind == "datetime" and value is not None:
        # Excel has no time zones: write UTC, as the column description says.
        return value.astimezone(datetime.UTC).replace(tzinfo=None)
    return value


def _source_text(filters: dict[str, str]) -> str:
    published = "Published by NHS England (Digital Maturity Assessment results)"
    entered = "Entered here by trusts and ICBs (submitted, approved and, in assessments, draft and returned)"
    return {"published": published, "return": entered}.get(
        filters.get("source", ""), f"Both, told apart by the source column: published = {published}; return = {entered}"
    )


def _licence_text(filters: dict[str, str]) -> str:
    if filters.get("source") == "published":
        return f"Published data: {OGL}"
    return (
        f"Published data (source = published): {OGL}. Data entered here (source = return) is shared with you under "
        "this service's access rules: do not publish it."
    )


def xlsx_bytes(dataset: Dataset, queryset: QuerySet, *, filters: dict[str, str], user, now=None) -> bytes:
    """The workbook: sheet "Data" (header, then one row per observation) and sheet "About" (each column, the
    filters, the source, the licence, when and by whom). Raises ExportTooLarge above Excel's row limit."""
    total = queryset.count()
    if total > XLSX_MAX_ROWS:
        raise ExportTooLarge(
            f"This export has {total:,} rows; an Excel sheet holds at most {XLSX_MAX_ROWS:,}. "
            "Download the CSV instead, or narrow the filters (a cycle, a region or an ICS)."
        )
    now = now or timezone.now()
    workbook = Workbook(write_only=True)  # rows go to a temporary file as they are appended, not held as cells

    data = workbook.create_sheet("Data")
    for index, column in enumerate(dataset.columns):
        data.column_dimensions[get_column_letter(index + 1)].width = max(10, min(40, len(column.name) + 4))
    bold = Font(bold=True)
    data.append([_bold(data, name, bold) for name in dataset.column_names])
    selected = dataset.select(queryset)
    kinds = dataset.kinds(selected)
    for row in selected.iterator(chunk_size=2000):
        data.append([_xlsx_value(value, kind) for value, kind in zip(row, kinds, strict=True)])

    about = workbook.create_sheet("About")
    about.column_dimensions["A"].width = 22
    about.column_dimensions["B"].width = 110
    about.append([_bold(about, dataset.title, bold)])
    about.append([_xlsx_value(dataset.description, "text")])
    about.append([])
    applied = "; ".join(f"{name} = {value}" for name, value in filters.items()) or "None: every row you may see"
    for label, value in (
        ("Dataset", dataset.slug),
        ("Rows", total),
        ("Filters", applied),
        ("Source", _source_text(filters)),
        ("Licence", _licence_text(filters)),
        ("Generated", now.astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")),
        ("Generated by", user.get_username()),
        ("Formula guard", "Text starting with =, +, -, @, tab or carriage return begins with an apostrophe (')."),
    ):
        about.append([_bold(about, label, bold), _xlsx_value(value, "text")])
    about.append([])
    about.append([_bold(about, "Column", bold), _bold(about, "Description", bold)])
    for column in dataset.columns:
        about.append([column.name, _xlsx_value(column.description, "text")])

    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def xlsx_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _bold(sheet, value, font) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=value)
    cell.font = font
    return cell
