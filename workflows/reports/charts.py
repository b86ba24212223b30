"""The report's charts, drawn once by matplotlib: SVG for the HTML, PNG of the same for the PDF.

matplotlib (Agg, no display, no system library) is imported here only, so nothing else pays
for it. Figures are made without pyplot, whose global state is not safe across a server's
threads. Text is drawn as paths, so the SVG needs no font on the reader's machine and no label
can become markup; matplotlib's comments (which repeat the labels) are dropped.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

# Colours that stay apart in grey print and for the common colour blindnesses (Okabe-Ito).
NOW, BEFORE = "#0072B2", "#B0B0B0"
COLOURS = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442")
WIDTH_INCHES = 6.3  # 160 mm: inside A4's width less the margins
_COMMENT = re.compile(r"<!--.*?-->", re.S)

matplotlib.rcParams.update({
    "svg.fonttype": "path", "svg.hashsalt": "dpo-bot", "font.size": 9,
    "axes.spines.top": False, "axes.spines.right": False,
})


@dataclass(frozen=True)
class Chart:
    title: str
    svg: str
    png: bytes
    alt: str  # the chart's numbers in words, for screen readers and the PDF's text


def _finish(figure: Figure, title: str, alt: str) -> Chart:
    figure.suptitle(title, fontsize=10, fontweight="bold", x=0.01, ha="left")
    figure.tight_layout()
    svg_out, png_out = io.StringIO(), io.BytesIO()
    figure.savefig(svg_out, format="svg", metadata={"Date": None})
    figure.savefig(png_out, format="png", dpi=150, metadata={"Software": None})
    svg = _COMMENT.sub("", svg_out.getvalue())
    svg = svg[svg.index("<svg"):]  # no XML prolog or doctype inside the HTML page
    return Chart(title, svg, png_out.getvalue(), alt)


def compare(title: str, labels: Sequence[str], now: Sequence[float], before: Sequence[float],
            now_label: str, before_label: str, alt: str) -> Chart:
    """Bars for this period beside the one before, per measure."""
    figure = Figure(figsize=(WIDTH_INCHES, 2.4))
    axes = figure.subplots()
    places = range(len(labels))
    axes.bar([p - 0.2 for p in places], before, 0.4, label=before_label, color=BEFORE)
    bars = axes.bar([p + 0.2 for p in places], now, 0.4, label=now_label, color=NOW)
    axes.bar_label(bars, fmt="%g", fontsize=8)
    axes.set_xticks(list(places), list(labels))
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    # Above the bars, so it never covers the tallest one's number.
    axes.legend(frameon=False, fontsize=8, ncol=2, loc="lower right", bbox_to_anchor=(1, 1))
    return _finish(figure, title, alt)


def breakdown(title: str, counts: Sequence[tuple[str, float]], alt: str, *,
              percent: bool = False) -> Chart:
    """Horizontal bars, one per kind, largest first (or in the order given for percentages)."""
    rows = list(counts) if percent else sorted(counts, key=lambda c: -c[1])
    height = 0.9 + 0.28 * max(len(rows), 1)
    figure = Figure(figsize=(WIDTH_INCHES, height))
    axes = figure.subplots()
    labels = [label for label, _ in rows][::-1]
    values = [value for _, value in rows][::-1]
    bars = axes.barh(labels, values, color=[COLOURS[i % len(COLOURS)] for i in
                                            range(len(rows))][::-1])
    axes.bar_label(bars, fmt="%g%%" if percent else "%g", fontsize=8, padding=2)
    if percent:
        axes.set_xlim(0, 110)
    else:
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    return _finish(figure, title, alt)
