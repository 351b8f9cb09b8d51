"""Plots of verdicts as PNG bytes: one small figure per check, one summary of all.

The HTML report (``reports.html``) embeds them; the summary is also written as
a PNG for papers. matplotlib is imported inside the functions (the plugin must
stay quick to import) and drives the Agg canvas directly, without pyplot, so
no global backend or figure state is touched. Labels are drawn as plain text
(``text.parse_math`` off): a test id or scorer name with ``$`` in it is not
mathtext. Output is deterministic: no timestamp or version in the PNG.

A check's figure is described by a :class:`CheckPlot` (what to draw: the
rows, a threshold, an equivalence band, the difference) and built by
:func:`check_figure`, whose artists carry ids (``gid``: ``model-point``,
``baseline-interval``, ``equivalence-band`` ...), so a test can ask the figure
what it shows; :func:`check_png` renders it.

Colours are Okabe and Ito's (2008) palette, told apart under every common
colour-vision deficiency, and each role has its own marker as well (model
circle, baseline square, snapshot diamond; in the summary one marker per
outcome), so a grey print still separates them. Labels are wrapped, never
cut (:func:`wrap`): a row grows a line rather than lose part of a test id.
"""

from __future__ import annotations

import io
import math
import re
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# Colours by verdict in the summary (readable on white and in greyscale print:
# distinct lightness), with a marker each so that colour is never the only cue.
COLORS = {"PASS": "#1a7f37", "FAIL": "#cf222e", "INCONCLUSIVE": "#9a6700"}
MARKERS = {"PASS": "o", "FAIL": "X", "INCONCLUSIVE": "D"}
# The roles in a check's figure (Okabe-Ito).
MODEL_COLOR = "#0072B2"  # blue
BASELINE_COLOR = "#D55E00"  # vermillion
SNAPSHOT_COLOR = "#CC79A7"  # reddish purple
BAND_COLOR = "#009E73"  # bluish green, shaded
DIFFERENCE_COLOR = "#000000"

ROW_INCHES = 0.42  # a check's row of one label line
SUMMARY_ROW_INCHES = 0.3
LINE_INCHES = 0.16  # one more line of a wrapped label (9 pt text)
CHECK_LABEL_WIDTH = 36  # characters per label line
SUMMARY_LABEL_WIDTH = 64


@dataclass(frozen=True)
class Row:
    """One line of a plot: a point and, when known, its interval."""

    label: str
    rate: float
    low: float | None = None
    high: float | None = None
    color: str = "#24292f"
    members: tuple[float, ...] = ()  # e.g. each seed's rate in an arm
    threshold: float | None = None  # drawn as a tick on this row (summary plot)
    marker: str = "o"
    role: str = "row"  # names its artists: "<role>-point", "<role>-interval"
    legend: str | None = None  # the legend's words for its point and bar (None: none)


@dataclass(frozen=True)
class Band:
    """A shaded stretch of the value axis, e.g. an equivalence margin."""

    low: float
    high: float
    legend: str


@dataclass(frozen=True)
class CheckPlot:
    """What one check's figure shows. ``band`` is shaded on the value axis;
    ``difference`` (model - baseline, a comparison's tested quantity) gets a
    second panel with zero and ``difference_band`` (e.g. +-margin)."""

    rows: tuple[Row, ...]
    threshold: float | None = None
    band: Band | None = None
    difference: Row | None = None
    difference_band: Band | None = None


@contextmanager
def plain_text() -> Iterator[Any]:
    """Agg, no mathtext, no LaTeX, no warnings about glyphs a font lacks."""
    import matplotlib

    with matplotlib.rc_context({"text.parse_math": False, "text.usetex": False,
                                "font.size": 9, "svg.fonttype": "none"}), \
            warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*[Gg]lyph.*missing")
        yield matplotlib


def to_png(fig: Any, dpi: int) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    with plain_text():
        FigureCanvasAgg(fig)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    return buf.getvalue()


def _finite(values: Sequence[float | None]) -> list[float]:
    return [x for x in values if x is not None and math.isfinite(x)]


def _limits(rows: Sequence[Row], extra: Sequence[float | None] = ()) -> tuple[float, float]:
    """[0, 1] for rates; a padded range around the values for anything else."""
    values = _finite([x for r in rows for x in (r.rate, r.low, r.high, r.threshold, *r.members)]
                     + list(extra))
    if not values:
        return 0.0, 1.0
    lo, hi = min(values), max(values)
    if lo >= 0.0 and hi <= 1.0:
        return -0.02, 1.02
    pad = 0.05 * (hi - lo or 1.0)
    return lo - pad, hi + pad


_BREAKS = re.compile(r"(?<=::)|(?<=[\[/_,\- ])")


def wrap(text: str, width: int) -> str:
    """``text`` on lines of at most ``width`` characters, broken after ``::``,
    ``[``, ``/``, ``_``, ``,``, ``-`` or a space (where a test id breaks well),
    and inside a run that is longer than a line only then. Nothing is left out: joining the lines
    gives the text back (runs of whitespace made one space)."""
    lines: list[str] = []
    line = ""
    for piece in _BREAKS.split(" ".join(text.split())):
        if line and len(line) + len(piece) > width:
            lines.append(line)
            line = ""
        line += piece
        while len(line) > width:
            lines.append(line[:width])
            line = line[width:]
    return "\n".join([*lines, line] if line or not lines else lines)


def _heights(labels: Sequence[str], row_inches: float) -> list[float]:
    """Each row's height in inches: a row, plus a line for each extra label line."""
    return [row_inches + LINE_INCHES * label.count("\n") for label in labels]


def _point(ax: Any, row: Row, y: float) -> None:
    if row.low is not None and row.high is not None:
        ax.hlines(y, row.low, row.high, color=row.color, linewidth=3, alpha=0.85,
                  gid=f"{row.role}-interval")
        ax.vlines([row.low, row.high], y - 0.07, y + 0.07, color=row.color, linewidth=1.5,
                  gid=f"{row.role}-ends")
    if row.members:
        ax.plot(row.members, [y] * len(row.members), row.marker, mfc="none", mec=row.color,
                markersize=5, alpha=0.9, gid=f"{row.role}-members")
    ax.plot([row.rate], [y], row.marker, color=row.color, markersize=7, zorder=3,
            gid=f"{row.role}-point")
    if row.threshold is not None:
        ax.vlines(row.threshold, y - 0.12, y + 0.12, color="black", linewidth=1.2, zorder=4,
                  gid=f"{row.role}-threshold")


def _draw_rows(ax: Any, rows: Sequence[Row], width: int, row_inches: float) -> None:
    """Rows top to bottom (y in inches): a point, its interval as a bar, members
    as open markers, the label wrapped."""
    labels = [wrap(r.label, width) for r in rows]
    heights = _heights(labels, row_inches)
    total, top, ys = sum(heights), sum(heights), []
    for h in heights:
        ys.append(top - h / 2)
        top -= h
    for y, row in zip(ys, rows, strict=True):
        _point(ax, row, y)
    ax.set_yticks(ys, labels)
    ax.set_ylim(0.0, total)
    ax.grid(axis="x", color="#d0d7de", linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _shade(ax: Any, band: Band, gid: str) -> None:
    ax.axvspan(band.low, band.high, color=BAND_COLOR, alpha=0.22, linewidth=0, zorder=0,
               gid=gid)


def _draw_difference(dx: Any, d: Row, band: Band | None) -> None:
    """The second panel: the difference with its interval, zero, and ``band``."""
    _draw_rows(dx, [d], CHECK_LABEL_WIDTH, ROW_INCHES)
    dx.axvline(0.0, color="black", linewidth=1, linestyle=":", gid="zero")
    if band is not None:
        _shade(dx, band, "margin-band")
    lo, hi = _limits([d], (0.0, *((band.low, band.high) if band else ())))
    dx.set_xlim(min(lo, -0.05), max(hi, 0.05))
    dx.set_xlabel("difference with its interval")


def _legend_handles(plot: CheckPlot) -> list[Any]:
    """The legend's entries: each row's words, the threshold, the bands (once each)."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles: list[Any] = []
    for row in (*plot.rows, *([plot.difference] if plot.difference else [])):
        if row.legend:
            bar = row.low is not None and row.high is not None
            handles.append(Line2D([], [], color=row.color, marker=row.marker, linewidth=3,
                                  linestyle="-" if bar else "none", label=row.legend))
    if plot.threshold is not None and math.isfinite(plot.threshold):
        handles.append(Line2D([], [], color="black", linewidth=1, linestyle="--",
                              label=f"threshold {plot.threshold:g}"))
    for band in (plot.band, plot.difference_band):
        if band is not None and band.legend not in [h.get_label() for h in handles]:
            handles.append(Patch(color=BAND_COLOR, alpha=0.22, label=band.legend))
    return handles


def check_figure(plot: CheckPlot) -> Figure:
    """One check as a matplotlib figure (not drawn yet): the rows with their
    intervals, the threshold as a dashed line, an equivalence band shaded; for
    comparisons a second panel with the difference model - baseline, zero
    and its band. One legend above says what each mark is."""
    with plain_text():
        from matplotlib.figure import Figure

        handles = _legend_handles(plot)
        labels = [wrap(r.label, CHECK_LABEL_WIDTH) for r in plot.rows]
        height = sum(_heights(labels, ROW_INCHES)) + 0.6 + LINE_INCHES * len(handles)
        fig = Figure(figsize=(8.0, height), layout="constrained")
        if plot.difference is None:
            ax = fig.add_subplot()
        else:
            ax, dx = fig.subplots(1, 2, width_ratios=(3, 2))
            _draw_difference(dx, plot.difference, plot.difference_band)
        _draw_rows(ax, plot.rows, CHECK_LABEL_WIDTH, ROW_INCHES)
        if plot.band is not None:
            _shade(ax, plot.band, "equivalence-band")
        t = plot.threshold
        if t is not None and math.isfinite(t):
            ax.axvline(t, color="black", linewidth=1, linestyle="--", gid="threshold")
        band = (plot.band.low, plot.band.high) if plot.band else ()
        ax.set_xlim(*_limits(plot.rows, (t, *band)))
        ax.set_xlabel("rate (or mean) with its interval")
        if handles:
            fig.legend(handles=handles, loc="outside upper center", ncols=1, frameon=False,
                       fontsize=8)
        return fig


def check_png(plot: CheckPlot) -> bytes:
    """:func:`check_figure` as PNG bytes (100 dpi, for the page)."""
    return to_png(check_figure(plot), dpi=100)


def summary_png(rows: Sequence[Row]) -> bytes:
    """Every check of the run, one row each (labels wrapped), coloured and
    marked by verdict, thresholds as black ticks: the figure for a paper (300 dpi)."""
    with plain_text():
        from matplotlib.figure import Figure
        from matplotlib.lines import Line2D

        labels = [wrap(r.label, SUMMARY_LABEL_WIDTH) for r in rows]
        height = sum(_heights(labels, SUMMARY_ROW_INCHES)) if rows else SUMMARY_ROW_INCHES
        fig = Figure(figsize=(8.0, height + 1.0), layout="constrained")
        ax = fig.add_subplot()
        if rows:
            _draw_rows(ax, rows, SUMMARY_LABEL_WIDTH, SUMMARY_ROW_INCHES)
        ax.set_xlim(*_limits(rows))
        ax.set_xlabel("rate (or mean) with its interval; | threshold")
        handles = [Line2D([], [], marker=MARKERS[o], linestyle="-", color=c, label=o)
                   for o, c in COLORS.items()]
        ax.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=3,
                  frameon=False, fontsize=8)
        return to_png(fig, dpi=300)
