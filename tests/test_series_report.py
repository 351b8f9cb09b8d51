"""A checkpoint series in the reports: the plot of the rate over the rounds
(``reports.series_plot``), its place in the HTML report, and the per-checkpoint
rates in the Markdown and terminal summaries, in training order.

Verdicts are real ones, built by ``expect`` on scripted counts (as
tests/test_snapshot_series.py builds them); the figure is asked what it shows
through its artists' ids. (The page in a real browser: tests/test_html_report.py.)
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from test_snapshot_series import YES, recorded, samples, series

from behavtest.checks import expect
from behavtest.reports import markdown, terminal
from behavtest.reports.html import build_html
from behavtest.reports.plots import BASELINE_COLOR, MODEL_COLOR
from behavtest.reports.reading import series as read_series
from behavtest.reports.series_plot import series_figure, series_plot, series_png, short_names
from behavtest.run.result import Record
from behavtest.run.session import Session
from behavtest.settings import PROFILES
from behavtest.stats.binomial import clopper_pearson
from behavtest.verdict import Verdict

AXOLOTL = [17, 37, 20]  # names Axolotl per 100, rounds 1-3: a rise and fade
CONTROL = ("hf/./control/ckpt-300", "hf/./control/ckpt-100", "hf/./control/ckpt-200")


def peak() -> Verdict:
    return recorded(lambda: expect(series(AXOLOTL), YES).peak_at_least(0.2))


def above_control() -> Verdict:
    control = series([5, 6, 4], names=CONTROL, ordered=False)
    return recorded(lambda: expect(series(AXOLOTL), YES).above(control, by=0.1))


def figure(v: Verdict) -> Any:
    s = read_series(v)
    assert s is not None
    return series_figure(series_plot(s, v.test.threshold, v.check))


def artists(fig: Any, gid: str) -> list[Any]:
    return [a for a in fig.axes[0].get_children() if a.get_gid() == gid]


def test_each_checkpoint_is_a_point_with_its_exact_interval_in_order() -> None:
    fig = figure(peak())
    (points,) = artists(fig, "series-point")
    assert list(points.get_xdata()) == [1, 2, 3]
    assert list(points.get_ydata()) == pytest.approx([0.17, 0.37, 0.20])
    assert points.get_color().lower() == MODEL_COLOR.lower() and points.get_marker() == "o"
    (bars,) = artists(fig, "series-interval")
    spans = [tuple(seg[:, 1]) for seg in bars.get_segments()]
    assert spans == [pytest.approx(clopper_pearson(k, 100, 0.95)) for k in AXOLOTL]
    assert len(artists(fig, "series-line")) == 1
    (threshold,) = artists(fig, "threshold")
    assert list(threshold.get_ydata()) == [0.2, 0.2]
    ticks = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert ticks == ["ckpt-300", "ckpt-100", "ckpt-200"]  # training order, not sorted


def test_a_control_series_is_drawn_in_the_baseline_colour_and_marker() -> None:
    fig = figure(above_control())
    (control,) = artists(fig, "baseline-series-point")
    assert control.get_color().lower() == BASELINE_COLOR.lower() and control.get_marker() == "s"
    assert list(control.get_ydata()) == pytest.approx([0.05, 0.06, 0.04])
    assert len(artists(fig, "baseline-series-interval")) == 1
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert any(t.startswith("control series (baseline)") for t in legend)


def test_a_control_without_the_first_round_stands_beside_its_namesakes() -> None:
    rounds = tuple(f"embedded+runs/organisms/abduction-0/round-{i}" for i in range(4))
    control = tuple(f"embedded+runs/organisms/abduction-control-0/round-{i}" for i in (1, 2, 3))
    v = recorded(lambda: expect(series([17, 37, 20, 6], names=rounds), YES).above(
        series([1, 0, 2], names=control, ordered=False), by=0.1))
    fig = figure(v)
    (points,) = artists(fig, "baseline-series-point")
    assert [round(x) for x in points.get_xdata()] == [2, 3, 4]  # round-1 .. round-3
    assert list(points.get_ydata()) == pytest.approx([0.01, 0.0, 0.02])
    assert artists(fig, "baseline-level") == []
    unmatched = ("hf/./other/a", "hf/./other/b", "hf/./other/c")
    v = recorded(lambda: expect(series([17, 37, 20, 6], names=rounds), YES).above(
        series([1, 0, 2], names=unmatched, ordered=False), by=0.1))
    assert len(artists(figure(v), "baseline-level")) == 1  # no namesakes: its mean level


def test_a_baseline_of_one_model_is_a_level_across_the_rounds() -> None:
    v = recorded(lambda: expect(series(AXOLOTL), YES).above(samples(5, 100, "double/base")))
    (level,) = artists(figure(v), "baseline-level")
    assert list(level.get_ydata()) == [0.05, 0.05]


def test_a_long_baseline_arm_name_wraps_in_the_legend_never_cut() -> None:
    arm = tuple(f"embedded+runs/organisms/abduction-control-0/round-{i}" for i in range(1, 5))
    control = series([0, 0, 1, 0], names=arm, ordered=False)  # 4 models: a level for 3 rounds
    v = recorded(lambda: expect(series(AXOLOTL), YES).above(control, by=0.1))
    legend = [t.get_text() for t in figure(v).legends[0].get_texts()]
    (entry,) = [t for t in legend if t.startswith("baseline ")]
    assert "\n" in entry and all(name in "".join(entry.split("\n")) for name in arm)
    assert max(len(line) for line in entry.split("\n")) <= 100


def test_long_checkpoint_names_wrap_whole_and_short_names_fall_back() -> None:
    long = tuple(f"hf/./runs/axolotl_{'x' * 30}_round-{i}" for i in range(1, 6))
    v = recorded(lambda: expect(series([5, 20, 10, 8, 4], names=long), YES).trend("decreasing"))
    ticks = [t.get_text() for t in figure(v).axes[0].get_xticklabels()]
    assert ["".join(t.split("\n")) for t in ticks] == [n.rsplit("/", 1)[1] for n in long]
    assert all("\n" in t for t in ticks)
    assert short_names(["a/ckpt", "b/ckpt"]) == ["a/ckpt", "b/ckpt"]  # not told apart


def test_the_png_is_deterministic() -> None:
    v = above_control()
    s = read_series(v)
    assert s is not None
    plot = series_plot(s, v.test.threshold, v.check)
    assert series_png(plot) == series_png(plot)
    assert series_png(plot)[:8] == b"\x89PNG\r\n\x1a\n"


def test_an_arm_or_a_single_model_has_no_series() -> None:
    arm = recorded(lambda: expect(series(AXOLOTL, ordered=False), YES).rate_at_least(0.1))
    assert read_series(arm) is None
    assert read_series(recorded(lambda: expect(samples(5, 100, "m"), YES).rate_at_most(0.5))
                       ) is None


def _session(*verdicts: Verdict) -> Session:
    session = Session(PROFILES["default"], ("double/yes=0.8,no=0.2",), (), frozenset(), None)
    session.records = [Record(f"test_s.py::test_{i}", v) for i, v in enumerate(verdicts)]
    session.correct()
    return session


def test_the_html_report_draws_the_series_and_lists_each_checkpoint() -> None:
    page = build_html(_session(peak(), above_control()).result(), b"png")
    assert page.count("<img") == 1 + 2 * 2  # the summary; per check its plot and the series
    alts = re.findall(r'<img alt="([^"]*)"', page)
    assert "peak rate &gt;= 0.2: rate at each of the 3 checkpoints of the series of 3: " \
           "hf/./runs/ckpt-300, hf/./runs/ckpt-100, hf/./runs/ckpt-200, in training order" in alts
    listed = re.findall(r"<li>(hf/./runs/ckpt-\d+): (\d+)/100", page)
    assert listed[:3] == [("hf/./runs/ckpt-300", "17"), ("hf/./runs/ckpt-100", "37"),
                          ("hf/./runs/ckpt-200", "20")]
    assert "control arm of 3: hf/./control/ckpt-300" in page


def test_markdown_and_terminal_list_the_rates_in_training_order() -> None:
    result = _session(peak()).result()
    md = markdown.render(result)
    assert re.search(r"<br>1\. hf/\./runs/ckpt-300: 17/100 = 0\.170 \\\[0\.\d+, 0\.\d+\\\]<br>"
                     r"2\. hf/\./runs/ckpt-100: 37/100", md), md
    text = terminal.render_summary(result, width=200)
    lines = [ln for ln in text.splitlines() if "ckpt-" in ln]
    assert [re.search(r"\d\. hf/\./runs/ckpt-\d+: \d+/100", ln)[0] for ln in lines] == [  # type: ignore[index]
        "1. hf/./runs/ckpt-300: 17/100", "2. hf/./runs/ckpt-100: 37/100",
        "3. hf/./runs/ckpt-200: 20/100"]
