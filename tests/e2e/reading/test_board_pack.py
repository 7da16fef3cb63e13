"""The ICS board pack as a board paper, printed to PDF by Chromium: page 1 its headline and summary, at most 6 A4
pages before its appendix for Greater Manchester (15 trusts), every chart drawn, every table within the page, and
nothing that only works on a screen (toggles, link addresses). The PDF goes to /tmp/board-pack-QOP.pdf."""

import pytest
from pypdf import PdfReader

from tests.e2e.conftest import log_in, violations

APPENDIX = "Appendix: the data behind each chart"
# A4 less the pack's page margins (static/scss/_print.scss), in CSS pixels (96 per inch).
PRINTED_WIDTH_PX = round((210 - 2 * 14) / 25.4 * 96)


@pytest.fixture(scope="module")
def pack(browser, live_server, published_world):
    """The pack, opened and drawn once for the module's tests: each only prints or inspects it."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    log_in(page, "ics-qop")
    page.wait_for_load_state()
    page.goto("/ics/QOP/print/")
    charts = page.locator(".app-chart")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.app-chart')].every((c) => c.querySelector('.main-svg'))",
        timeout=20000,
    )
    assert charts.count() >= 5
    yield page
    context.close()


def test_the_board_pack_prints_as_a_board_paper_of_at_most_six_pages(pack):
    pack.emulate_media(media="print")
    path = "/tmp/board-pack-QOP.pdf"
    pack.pdf(path=path, format="A4", print_background=True)
    pages = [page.extract_text() or "" for page in PdfReader(path).pages]

    first_of_appendix = next(i for i, text in enumerate(pages) if APPENDIX in text)
    assert 1 <= first_of_appendix <= 6, f"the appendix starts on page {first_of_appendix + 1}"
    assert "At a glance: 2026" in pages[0] and "In brief" in pages[0]
    for theme in ("EPR gap", "Cyber gap", "Legacy IT gap"):
        assert any(text.startswith(theme) for text in pages[1:first_of_appendix]), f"{theme} does not open a page"
    text = "\n".join(pages)
    assert "Show the data as a table" not in text
    assert "http" not in text and "?cycle=" not in text
    # Every chart's data is in the appendix, numbered as the body refers to it.
    assert "Table A1" in "\n".join(pages[first_of_appendix:])


def test_every_table_of_the_board_pack_fits_the_printed_page(pack):
    pack.emulate_media(media="print")
    pack.set_viewport_size({"width": PRINTED_WIDTH_PX, "height": 1100})
    too_wide = pack.evaluate(
        """(width) => [...document.querySelectorAll('main table')]
            .filter((table) => table.getBoundingClientRect().right > width + 1)
            .map((table) => table.querySelector('caption')?.textContent.trim() || table.className)""",
        PRINTED_WIDTH_PX,
    )
    assert too_wide == []


def test_the_board_pack_passes_axe(pack):
    assert violations(pack) == []
