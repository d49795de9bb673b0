"""A report in its three forms — web page, PDF (WeasyPrint, through ``governance.pdf``) and CSV —
from the same sections, and the sections as plain JSON for a published snapshot."""

from __future__ import annotations

import csv
import io
from dataclasses import asdict
from datetime import date, datetime
from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone

from governance.pdf import render_pdf
from governance.reports.charts import chart_data_uri
from governance.reports.registry import Chart, Figure, Section, Table

NEVER_RECORDED = "Never recorded"
# A table of more columns than this is set on landscape pages in the PDF (``templates/pdf/_page.html``).
WIDE_TABLE_COLUMNS = 6


def cell(value: Any) -> str:
    """How a value reads in a table cell and in the CSV."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, int):
        return f"{value:,}" if abs(value) >= 10000 else str(value)
    return str(value)


def figure_text(figure: Figure) -> str:
    return NEVER_RECORDED if figure.unrecorded else cell(figure.value)


def sections_to_json(sections: list[Section]) -> list[dict]:
    def plain(value):
        if isinstance(value, (datetime, date)):
            return cell(value)
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list):
            return [plain(v) for v in value]
        return value

    return [plain(asdict(section)) for section in sections]


def sections_from_json(data: list[dict]) -> list[Section]:
    return [
        Section(
            code=s["code"],
            title=s["title"],
            notes=s.get("notes", []),
            figures=[Figure(**f) for f in s.get("figures", [])],
            tables=[Table(**t) for t in s.get("tables", [])],
            charts=[Chart(**c) for c in s.get("charts", [])],
        )
        for s in data
    ]


def _display(sections: list[Section]) -> list[dict]:
    return [
        {
            "section": section,
            "figures": [{"figure": f, "text": figure_text(f)} for f in section.figures],
            "tables": [
                {
                    "table": t,
                    # Each cell with its column's label (data-label: a phone shows one card per row) and
                    # whether it is a date (kept on one line in the PDF's narrow columns).
                    "rows": [
                        [(label, cell(v), isinstance(v, date)) for label, v in zip(t.columns, row, strict=False)]
                        for row in t.rows[: t.page_rows]
                    ],
                    "more": max(len(t.rows) - t.page_rows, 0) if t.page_rows else 0,
                    "wide": len(t.columns) > WIDE_TABLE_COLUMNS,
                }
                for t in section.tables
            ],
            "charts": [{"chart": c, "uri": chart_data_uri(c)} for c in section.charts],
        }
        for section in sections
    ]


def report_context(*, title: str, subtitle: str, sections: list[Section], generated_at: datetime | None = None) -> dict:
    return {
        "title": title,
        "subtitle": subtitle,
        "sections": _display(sections),
        "generated_at": generated_at or timezone.now(),
    }


def report_pdf(
    *,
    title: str,
    subtitle: str,
    sections: list[Section],
    generated_at: datetime | None = None,
    landscape: bool = False,
) -> bytes:
    """``landscape``: every page landscape (a document of wide tables); otherwise portrait pages, with
    each table of more than ``WIDE_TABLE_COLUMNS`` columns on landscape ones."""
    context = report_context(title=title, subtitle=subtitle, sections=sections, generated_at=generated_at)
    html = render_to_string("reports/report_pdf.html", {**context, "landscape": landscape})
    return render_pdf(html)


def report_csv(*, title: str, sections: list[Section]) -> str:
    """Every table of the report, one block each (title row, header, rows), after a block of the figures."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([title])
    writer.writerow([])
    writer.writerow(["Section", "Figure", "Value", "Note"])
    for section in sections:
        for figure in section.figures:
            writer.writerow(
                [
                    section.title,
                    figure.label,
                    str(figure.value) if isinstance(figure.value, int) else figure_text(figure),
                    figure.note,
                ]
            )
    for section in sections:
        for table in section.tables:
            writer.writerow([])
            writer.writerow([table.title])
            writer.writerow(table.columns)
            for row in table.rows:
                writer.writerow(["" if v is None else (str(v) if isinstance(v, int) else cell(v)) for v in row])
    return out.getvalue()
