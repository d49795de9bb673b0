"""The regulator pack PDF keeps every column of every table on the page (issue 25: its "Rules
broken", DPIA and the deployments' alert columns were cut off at the right edge).

The PDF is rendered by the real view and read back with poppler's ``pdftotext -bbox``, which keeps
only the words inside each page's box: every word of every column header must be there, with its
box inside the page, as many times as the headers use it.
"""

from __future__ import annotations

import subprocess
import xml.etree.ElementTree as ET
from collections import Counter

import pytest

from governance.reports.pack import regulator_pack
from tests.governance.reports.conftest import kings_cross_2016

pytestmark = pytest.mark.django_db

XHTML = "{http://www.w3.org/1999/xhtml}"


def visible_words(pdf_path) -> tuple[Counter, int]:
    """Words whose box lies inside their page's box (and how many pages)."""
    xml = subprocess.run(["pdftotext", "-bbox", str(pdf_path), "-"], capture_output=True, text=True, check=True).stdout
    root = ET.fromstring(xml)
    words: Counter = Counter()
    pages = root.iter(f"{XHTML}page")
    count = 0
    for page in pages:
        count += 1
        width, height = float(page.get("width")), float(page.get("height"))
        for word in page.iter(f"{XHTML}word"):
            x0, y0, x1, y1 = (float(word.get(k)) for k in ("xMin", "yMin", "xMax", "yMax"))
            if 0 <= x0 and x1 <= width and 0 <= y0 and y1 <= height:
                words[word.text] += 1
    return words, count


def test_every_column_header_of_the_regulator_pack_is_on_the_page(cast, activity, client, artifacts_dir):
    kings_cross_2016(cast)
    client.force_login(cast.regulator)
    response = client.get("/reports/regulator-pack/?format=pdf")
    assert response.status_code == 200
    path = artifacts_dir / "regulator-pack-columns.pdf"
    path.write_bytes(response.content)
    words, pages = visible_words(path)

    tables = [t for s in regulator_pack(cast.regulator).sections for t in s.tables]
    assert {t.code for t in tables} >= {"register", "deployments", "principles"}
    needed: Counter = Counter()
    for table in tables:
        for column in table.columns:
            needed.update(column.split())
    missing = {word: n - words[word] for word, n in needed.items() if words[word] < n}
    assert not missing, f"column header words cut off or missing in {pages} pages: {missing}"
    # The columns the issue names, by name.
    register = next(t for t in tables if t.code == "register")
    assert any("Rules" in c for c in register.columns) and any("DPIA" in c for c in register.columns)
    assert words["Rules"] >= 1 and words["DPIA"] >= 1 and words["False"] >= 1


def test_the_check_fails_on_a_table_wider_than_the_page(artifacts_dir):
    """The reader of the test: a table forced wider than A4 loses its last header from the page."""
    from governance.pdf import render_pdf

    cells = "".join(f"<th style='min-width:60mm'>Column{n}</th>" for n in range(6))
    path = artifacts_dir / "too-wide.pdf"
    path.write_bytes(render_pdf(f"<table style='table-layout:fixed'><tr>{cells}</tr></table>"))
    words, _ = visible_words(path)
    assert words["Column0"] == 1 and words["Column5"] == 0
