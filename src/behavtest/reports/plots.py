"""Plots of verdicts as PNG bytes: one small figure per check, one summary of all.

The HTML report (``html_report``) embeds them; the summary is also written as
a PNG for papers. matplotlib is imported inside the functions (the plugin must
stay quick to import) and drives the Agg canvas directly, without pyplot, so
no global backend or figure state is touched. Labels are drawn as plain text
(``text.parse_math`` off): a test id or scorer name with ``$`` in it is not
mathtext. Output is deterministic: no timestamp or version in the PNG.
"""

from __future__ import annotations

import io
import math
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

# Colours by verdict (readable on white and in greyscale print: distinct lightness).
COLORS = {"PASS": "#1a7f37", "FAIL": "#cf222e", "INCONCLUSIVE": "#9a6700"}
BASELINE_COLOR = "#57606a"
SNAPSHOT_COLOR = "#0969da"


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


@contextmanager
def _plain_text() -> Iterator[Any]:
    """Agg, no mathtext, no LaTeX, no warnings about glyphs a font lacks."""
    import matplotlib

    with matplotlib.rc_context({"text.parse_math": False, "text.usetex": False,
                                "font.size": 9, "svg.fonttype": "none"}), \
            warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*[Gg]lyph.*missing")
        yield matplotlib


def _png(fig: Any, dpi: int) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    return buf.getvalue()


def _limits(rows: Sequence[Row], extra: Sequence[float] = ()) -> tuple[float, float]:
    """[0, 1] for rates; a padded range around the values for anything else."""
    values = [x for r in rows for x in (r.rate, r.low, r.high, r.threshold, *r.members)
              if x is not None and math.isfinite(x)] + [x for x in extra if math.isfinite(x)]
    if not values:
        return 0.0, 1.0
    lo, hi = min(values), max(values)
    if lo >= 0.0 and hi <= 1.0:
        return -0.02, 1.02
    pad = 0.05 * (hi - lo or 1.0)
    return lo - pad, hi + pad


def _short(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "\u2026"


def _draw_rows(ax: Any, rows: Sequence[Row]) -> None:
    """Rows top to bottom: a point, its interval as a bar, members as open dots."""
    ys = list(range(len(rows)))[::-1]
    for y, row in zip(ys, rows, strict=True):
        if row.low is not None and row.high is not None:
            ax.hlines(y, row.low, row.high, color=row.color, linewidth=3, alpha=0.85)
            ax.vlines([row.low, row.high], y - 0.18, y + 0.18, color=row.color, linewidth=1.5)
        if row.members:
            ax.plot(row.members, [y] * len(row.members), "o", mfc="none", mec=row.color,
                    markersize=5, alpha=0.9)
        ax.plot([row.rate], [y], "o", color=row.color, markersize=7, zorder=3)
        if row.threshold is not None:
            ax.vlines(row.threshold, y - 0.35, y + 0.35, color="black", linewidth=1.2, zorder=4)
    ax.set_yticks(ys, [_short(r.label, 60) for r in rows])
    ax.set_ylim(-0.6, len(rows) - 0.4)
    ax.grid(axis="x", color="#d0d7de", linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def check_png(
    rows: Sequence[Row],
    threshold: float | None = None,
    difference: tuple[float, float, float] | None = None,
    difference_color: str = "#24292f",
) -> bytes:
    """One check: model (and baseline, snapshot) rates with intervals, the
    threshold as a dashed line; for comparisons a second panel with the
    difference model - baseline, its interval and zero."""
    with _plain_text():
        from matplotlib.figure import Figure

        height = 0.42 * len(rows) + 0.75
        fig = Figure(figsize=(8.0, height), layout="constrained")
        if difference is None:
            ax = fig.add_subplot()
        else:
            ax, dx = fig.subplots(1, 2, width_ratios=(3, 2))
            d, d_low, d_high = difference
            _draw_rows(dx, [Row("difference", d, d_low, d_high, difference_color)])
            dx.set_yticks([0], ["model \u2212 baseline"])
            dx.axvline(0.0, color="black", linewidth=1, linestyle=":")
            lo, hi = _limits([], (d, d_low, d_high, 0.0))
            dx.set_xlim(min(lo, -0.05), max(hi, 0.05))
            dx.set_xlabel("difference with its interval")
        _draw_rows(ax, rows)
        if threshold is not None and math.isfinite(threshold):
            ax.axvline(threshold, color="black", linewidth=1, linestyle="--")
            ax.annotate(f"threshold {threshold:g}", (threshold, 1.0),
                        xycoords=("data", "axes fraction"), xytext=(3, -2),
                        textcoords="offset points", va="top", fontsize=8)
        ax.set_xlim(*_limits(rows, () if threshold is None else (threshold,)))
        ax.set_xlabel("rate (or mean) with its interval")
        return _png(fig, dpi=100)


def summary_png(rows: Sequence[Row]) -> bytes:
    """Every check of the run, one row each, coloured by verdict, thresholds as
    black ticks: the figure for a paper (300 dpi)."""
    with _plain_text():
        from matplotlib.figure import Figure
        from matplotlib.lines import Line2D

        fig = Figure(figsize=(8.0, 0.3 * max(len(rows), 1) + 1.3), layout="constrained")
        ax = fig.add_subplot()
        if rows:
            _draw_rows(ax, rows)
        ax.set_xlim(*_limits(rows))
        ax.set_xlabel("rate (or mean) with its interval; | threshold")
        handles = [Line2D([], [], marker="o", linestyle="-", color=c, label=o)
                   for o, c in COLORS.items()]
        ax.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=3,
                  frameon=False, fontsize=8)
        return _png(fig, dpi=300)
