"""The plot of a checkpoint series: the rate over training rounds, as PNG bytes.

A claim over an ordered checkpoint series (``peak_at_least``,
``area_at_least``, ``trend``, or a comparison whose model side is a series)
is about the shape of the curve: cross-context abduction peaks after one
round and fades. The check's own figure (``reports.plots``) shows the tested
number; this one shows where it comes from: x is the checkpoint's position in
training order (tick labels: each checkpoint's short name, wrapped, never
cut), y the rate, each point with the exact 95% interval of its k/n
(``reports.reading.series``), joined by a line; the claim's threshold as a
dashed line; a control series (a comparison's baseline, one model per round)
beside it in the baseline's colour and marker, or a baseline of one model
as a dash-dotted level across the rounds.

The conventions are ``reports.plots``': Okabe-Ito colours and a marker per
role (model circle, baseline square), artists with ids a test can ask for
(``series-point``, ``series-interval``, ``series-line``,
``baseline-series-point`` ..., ``threshold``, ``baseline-level``), plain-text
labels, matplotlib imported inside the functions, no timestamp in the PNG.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from behavtest.reports.plots import (
    BASELINE_COLOR,
    LINE_INCHES,
    MODEL_COLOR,
    plain_text,
    to_png,
    wrap,
)
from behavtest.reports.reading import SERIES_LEVEL, Checkpoint, Series, short_name
from behavtest.untrusted import plain

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["SeriesLine", "SeriesPlot", "series_figure", "series_plot", "series_png",
           "short_names"]

TICK_CHARACTERS = 72  # all tick labels of a row together, before they wrap
LEGEND_CHARACTERS = 100  # a legend entry's line, before it wraps (never cut)
OFFSET = 0.07  # model and control series side by side at one round


@dataclass(frozen=True)
class SeriesLine:
    """One series drawn over the rounds (``role`` names its artists)."""

    role: str  # "series" or "baseline-series"
    points: tuple[Checkpoint, ...]
    color: str
    marker: str
    legend: str
    at: tuple[int, ...] = ()  # each point's round (0-based); () for 0, 1, 2, ...


@dataclass(frozen=True)
class SeriesPlot:
    """What the series figure shows: the lines, tick labels, the threshold, and
    a baseline's level across the rounds."""

    lines: tuple[SeriesLine, ...]
    ticks: tuple[str, ...]
    threshold: float | None = None
    level: float | None = None
    level_legend: str | None = None
    title: str = ""


def short_names(names: Sequence[str]) -> list[str]:
    """Each checkpoint's last path part (``hf/./runs/ckpt-100`` -> ``ckpt-100``)
    when those tell every checkpoint apart, else the whole specs."""
    short = [short_name(n) for n in names]
    return short if len(set(short)) == len(set(names)) else list(names)


def series_plot(s: Series, threshold: float | None, what: str) -> SeriesPlot:
    """A verdict's series (``reading.series``) as a figure's description;
    ``what`` names the check for the title."""
    level = f"{SERIES_LEVEL:.0%}"
    lines = [SeriesLine("series", s.checkpoints, MODEL_COLOR, "o",
                        plain(f"model series: rate per checkpoint, exact {level} interval"))]
    if s.control:
        lines.append(SeriesLine("baseline-series", s.control, BASELINE_COLOR, "s",
                                plain(f"control series (baseline): rate per checkpoint, exact "
                                      f"{level} interval"), s.control_at))
    level_legend = None if s.level is None else wrap(plain(  # a long arm name wraps
        f"baseline {s.control_name}: its rate {s.level:.3f}"), LEGEND_CHARACTERS)
    return SeriesPlot(tuple(lines), tuple(short_names([c.name for c in s.checkpoints])),
                      threshold, s.level, level_legend,
                      plain(f"{what}: {len(s.checkpoints)} checkpoints in training order"))


def _draw(ax: Any, line: SeriesLine, shift: float) -> None:
    xs = [i + 1 + shift for i in (line.at or range(len(line.points)))]
    rates = [p.rate for p in line.points]
    ax.plot(xs, rates, "-", color=line.color, linewidth=1.5, alpha=0.8, zorder=2,
            gid=f"{line.role}-line")
    bars = [(x, p.interval) for x, p in zip(xs, line.points, strict=True) if p.interval]
    if bars:
        bx = [x for x, _ in bars]
        lows, highs = [iv[0] for _, iv in bars], [iv[1] for _, iv in bars]
        ax.vlines(bx, lows, highs, color=line.color, linewidth=2.5, alpha=0.85,
                  gid=f"{line.role}-interval")
        ax.hlines(lows + highs, [x - 0.06 for x in bx] * 2, [x + 0.06 for x in bx] * 2,
                  color=line.color, linewidth=1.2, gid=f"{line.role}-ends")
    ax.plot(xs, rates, line.marker, color=line.color, markersize=7, linestyle="none",
            zorder=3, gid=f"{line.role}-point")


def _handles(plot: SeriesPlot) -> list[Any]:
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color=ln.color, marker=ln.marker, linewidth=1.5, label=ln.legend)
               for ln in plot.lines]
    if plot.level is not None:
        handles.append(Line2D([], [], color=BASELINE_COLOR, linestyle="-.", linewidth=1.2,
                              label=plot.level_legend))
    if plot.threshold is not None and math.isfinite(plot.threshold):
        handles.append(Line2D([], [], color="black", linewidth=1, linestyle="--",
                              label=f"threshold {plot.threshold:g}"))
    return handles


def _limits(plot: SeriesPlot) -> tuple[float, float]:
    values = [x for ln in plot.lines for p in ln.points
              for x in (p.rate, *(p.interval or ())) if math.isfinite(x)]
    values += [x for x in (plot.threshold, plot.level) if x is not None and math.isfinite(x)]
    if not values or (min(values) >= 0.0 and max(values) <= 1.0):
        return -0.02, 1.02
    pad = 0.05 * ((max(values) - min(values)) or 1.0)
    return min(values) - pad, max(values) + pad


def series_figure(plot: SeriesPlot) -> Figure:
    """The series as a matplotlib figure (not drawn yet): see the module docstring."""
    with plain_text():
        from matplotlib.figure import Figure

        rounds = len(plot.ticks)
        width = max(8, TICK_CHARACTERS // max(1, rounds))
        ticks = [wrap(t, width) for t in plot.ticks]
        handles = _handles(plot)
        height = (3.2 + LINE_INCHES * max((t.count("\n") for t in ticks), default=0)
                  + LINE_INCHES * (len(handles) + 1))
        fig = Figure(figsize=(8.0, height), layout="constrained")
        ax = fig.add_subplot()
        both = len(plot.lines) > 1
        for i, line in enumerate(plot.lines):
            _draw(ax, line, (OFFSET if i else -OFFSET) if both else 0.0)
        if plot.level is not None:
            ax.axhline(plot.level, color=BASELINE_COLOR, linewidth=1.2, linestyle="-.",
                       gid="baseline-level")
        t = plot.threshold
        if t is not None and math.isfinite(t):
            ax.axhline(t, color="black", linewidth=1, linestyle="--", gid="threshold")
        ax.set_xticks(range(1, rounds + 1), ticks, fontsize=8)
        ax.set_xlim(0.5, rounds + 0.5)
        ax.set_ylim(*_limits(plot))
        ax.set_xlabel("checkpoint, in training order")
        ax.set_ylabel("rate")
        ax.grid(axis="y", color="#d0d7de", linewidth=0.6)
        ax.set_axisbelow(True)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        ax.set_title(wrap(plot.title, 90), fontsize=9, loc="left")
        fig.legend(handles=handles, loc="outside upper center", ncols=1, frameon=False,
                   fontsize=8)
        return fig


def series_png(plot: SeriesPlot) -> bytes:
    """:func:`series_figure` as PNG bytes (100 dpi, for the page)."""
    return to_png(series_figure(plot), dpi=100)
