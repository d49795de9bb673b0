"""Charts drawn once, server-side, by matplotlib as SVG: the page and the PDF embed the very same
image (a ``data:`` URI), so what the DPO reads on screen is what the regulator reads on paper."""

from __future__ import annotations

import base64
import io

from governance.reports.registry import Chart

PALETTE = ["#1f4e79", "#c0504d", "#9bbb59", "#8064a2"]


def chart_svg(chart: Chart) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams["svg.hashsalt"] = "oversight"  # stable ids: the same figures give the same file
    figure, axes = plt.subplots(figsize=(7, 3), dpi=100)
    try:
        positions = list(range(len(chart.labels)))
        count = max(len(chart.series), 1)
        width = 0.8 / count
        for index, (name, values) in enumerate(chart.series.items()):
            colour = PALETTE[index % len(PALETTE)]
            if chart.kind == "line":
                axes.plot(positions, values, marker="o", label=name, color=colour)
            else:
                offsets = [p - 0.4 + width * (index + 0.5) for p in positions]
                axes.bar(offsets, values, width=width, label=name, color=colour)
        axes.set_xticks(positions)
        axes.set_xticklabels(
            chart.labels,
            rotation=30 if len(chart.labels) > 4 else 0,
            ha="right" if len(chart.labels) > 4 else "center",
            fontsize=8,
        )
        axes.set_title(chart.title, fontsize=11)
        if chart.y_label:
            axes.set_ylabel(chart.y_label)
        axes.yaxis.get_major_locator().set_params(integer=True)
        axes.spines[["top", "right"]].set_visible(False)
        if len(chart.series) > 1:
            axes.legend(frameon=False, fontsize=8)
        figure.tight_layout()
        out = io.StringIO()
        figure.savefig(out, format="svg", metadata={"Date": None})
        return out.getvalue()
    finally:
        plt.close(figure)


def chart_data_uri(chart: Chart) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(chart_svg(chart).encode()).decode()
