"""The export page and the CSV / XLSX downloads. Thin: the rows come from reports.exports.datasets (scoped by role), the
filters from reports.exports.filters (the API's too), the files from reports.exports.files."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode

from maturity.models import Cycle, Source
from reports.api.auth import token_or_login_required
from reports.api.errors import error_body
from reports.exports import files, slots
from reports.exports.datasets import DATASETS, Dataset, visible_rows
from reports.exports.filters import (
    CARE_SETTING_CHOICES,
    PARAMETERS,
    PILLAR_CHOICES,
    applied,
    error_messages,
    filterset_for,
)
from trusts.models import ICS, Region, TrustType

DEFAULT_DATASET = "pillar-scores"
FORMATS = ("csv", "xlsx")
# Seconds a client is asked to wait when every export slot is taken: most exports take seconds.
RETRY_AFTER = 30


def _filter_query(request) -> dict[str, str]:
    """The filter parameters of the request as given (empty ones dropped), to carry into the download links."""
    return {name: request.GET[name].strip() for name in PARAMETERS if request.GET.get(name, "").strip()}


def _filename(dataset: Dataset, filters: dict[str, str], extension: str) -> str:
    # Validated values only (years, codes, choice slugs), so they are safe in a header.
    parts = [dataset.slug, *(filters[name].lower() for name in ("cycle", "region", "ics", "trust") if name in filters)]
    return f"{'-'.join(parts)}.{extension}"


def _fields(query: dict[str, str], errors: dict[str, str]) -> list[dict]:
    """The filter inputs in parameter order: a select where the values are a known list, a text input for codes."""
    choices = {
        "cycle": [(str(year), str(year)) for year in Cycle.objects.values_list("year", flat=True)],
        "region": [(code, f"{name} ({code})") for code, name in Region.objects.values_list("code", "name")],
        "ics": [(code, f"{name} ({code})") for code, name in ICS.objects.values_list("code", "name")],
        "trust": None,
        "trust_type": TrustType.choices,
        "care_setting": CARE_SETTING_CHOICES,
        "pillar": PILLAR_CHOICES,
        "source": Source.choices,
    }
    labels = {
        "cycle": ("Cycle", ""),
        "region": ("Region", ""),
        "ics": ("Integrated care system", "Where the assessment was recorded in its cycle"),
        "trust": ("Organisation ODS code", "A trust's code, such as R0A, or an ICB's, such as QOP, for its own return"),
        "trust_type": ("Trust type", ""),
        "care_setting": ("Care setting", ""),
        "pillar": ("Pillar", "Pillar scores and domain levels only; the other datasets ignore it"),
        "source": ("Source", ""),
    }
    fields = []
    for name in PARAMETERS:
        label, hint = labels[name]
        value = query.get(name, "")
        # Codes match whichever case was typed, so the select shows them chosen too.
        if name in ("region", "ics"):
            value = value.upper()
        fields.append(
            {
                "name": name,
                "label": label,
                "hint": hint,
                "choices": choices[name],
                "value": value,
                "error": errors.get(name, ""),
            }
        )
    return fields


def _page(request, *, dataset: Dataset | None, status: int = 200, **context):
    """The export page: the dataset choice, the filters, and (when they are valid) the row count and download links."""
    query = _filter_query(request)
    dataset_slug = dataset.slug if dataset else request.GET.get("dataset", "")
    links = {}
    if dataset is not None and "count" in context:
        suffix = f"?{urlencode(query)}" if query else ""
        links = {fmt: reverse(f"export_{fmt}", args=[dataset.slug]) + suffix for fmt in FORMATS}
    errors = context.pop("errors", [])
    return render(
        request,
        "reports/exports.html",
        {
            "datasets": DATASETS.values(),
            "dataset": dataset,
            "dataset_slug": dataset_slug,
            "query": query,
            "links": links,
            "error_list": [(f"#{name}", message) for name, message in errors],
            "errors": dict(errors),
            "pillar_ignored": dataset is not None and not dataset.has_pillar and "pillar" in query,
            "fields": _fields(query, dict(errors)),
            "count_text": f"{context['count']:,}" if "count" in context else "",
            **context,
        },
        status=status,
    )


@login_required
def export_page(request):
    dataset = DATASETS.get(request.GET.get("dataset") or DEFAULT_DATASET)
    if dataset is None:
        return _page(request, dataset=None, status=400, errors=[("dataset", "dataset: Choose one of the datasets.")])
    filterset = filterset_for(dataset, request.GET, visible_rows(dataset, request.user))
    if not filterset.is_valid():
        return _page(request, dataset=dataset, status=400, errors=error_messages(filterset))
    return _page(request, dataset=dataset, count=filterset.qs.count())


def _busy(request, dataset: Dataset):
    message = (
        f"{settings.EXPORT_CONCURRENCY} exports are being downloaded at the moment, the most this service makes at "
        f"once: try again in {RETRY_AFTER} seconds. Nothing is wrong with your filters."
    )
    if request.auth is not None:  # a script, with an API token
        response = JsonResponse(error_body(503, "busy", message), status=503)
    else:
        response = _page(request, dataset=dataset, status=503, errors=[("format", message)])
    response["Retry-After"] = str(RETRY_AFTER)
    return response


@token_or_login_required
def export_file(request, dataset: str, fmt: str):
    chosen = DATASETS.get(dataset)
    if chosen is None or fmt not in FORMATS:
        raise Http404("No such export")
    filterset = filterset_for(chosen, request.GET, visible_rows(chosen, request.user))
    if not filterset.is_valid():
        return _page(request, dataset=chosen, status=400, errors=error_messages(filterset))
    filters = applied(filterset)
    slot = slots.take()
    if slot is None:
        return _busy(request, chosen)
    if fmt == "csv":
        accepts_gzip = "gzip" in request.headers.get("Accept-Encoding", "")
        try:
            response = files.csv_response(chosen, filterset.qs, _filename(chosen, filters, "csv"), gzip=accepts_gzip)
        except BaseException:
            slot.release()
            raise
        return slots.held_while_streaming(slot, response)  # released when the response is closed
    try:
        content = files.xlsx_bytes(chosen, filterset.qs, filters=filters, user=request.user)
    except files.ExportTooLarge as error:
        # The page still offers the CSV, which has no row limit.
        count = filterset.qs.count()
        return _page(request, dataset=chosen, status=400, count=count, errors=[("format", str(error))])
    finally:
        slot.release()
    return files.xlsx_response(content, _filename(chosen, filters, "xlsx"))
