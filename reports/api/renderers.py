"""CSV for the dataset endpoints (`?format=csv`): the page's rows under the contract's column names, in its order."""

import csv
import io

from rest_framework.renderers import BaseRenderer

# As the export files do: text a spreadsheet would run as a formula gets a leading apostrophe; numbers (negative
# gaps included) are left alone.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_field(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        text = repr(value)
        return text[:-2] if text.endswith(".0") else text  # 2, not 2.0, as the export files write it
    if isinstance(value, int):
        return str(value)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


class CSVRenderer(BaseRenderer):
    """One page of a dataset as CSV: UTF-8, a header row, then one row per observation. Paging works as for JSON
    (`page`, `page_size` up to 1000; the Link and X-Total-Count headers say where the rest is). The whole dataset in
    one file is /exports/<dataset>.csv, which streams."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        view = (renderer_context or {}).get("view")
        rows = data.get("results", []) if isinstance(data, dict) else data or []
        dataset = getattr(view, "dataset", None)
        columns = dataset.column_names if dataset is not None else list(rows[0]) if rows else []
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([csv_field(row.get(column)) for column in columns])
        return out.getvalue().encode(self.charset)
