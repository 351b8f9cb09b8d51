"""The HTML report's figures: what a check's plot draws, asked of the figure.

``check_figure`` names its artists (``gid``), so these tests read the drawn
data back: the baseline's point and interval beside the model's, the band of
an equivalence check, the threshold line; and labels wrapped, never cut.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from verdicts import passing_verdict

from behavtest import Scorer
from behavtest.checks import expect
from behavtest.checks.context import unrecorded
from behavtest.checks.expect import Expectation
from behavtest.providers.base import to_messages
from behavtest.reports.html import check_plot
from behavtest.reports.plots import BASELINE_COLOR, MODEL_COLOR, check_figure, check_png, wrap
from behavtest.reports.reading import Equivalence, baseline, equivalence, model
from behavtest.sampling.handle import Reply, Samples
from behavtest.settings import GenerationSettings
from behavtest.stats import one_sided_bounds
from behavtest.verdict import BehaviourFailed, Inconclusive, Verdict


def _verdict(**changes: object) -> Verdict:
    return passing_verdict(**changes)


ABOVE = dict(check="rate above baseline", threshold=None, method="Newcombe hybrid score",
             baseline="double/yes=0.2", baseline_k=22, baseline_n=100, baseline_rate=0.22,
             effect=0.58, effect_low=0.47, effect_high=0.68)
SAME_AS = dict(check="rate within +-0.1 of baseline", threshold=None, k=400, n=500, rate=0.8,
               low=0.769, high=0.828, method="TOST (two one-sided tests): Newcombe hybrid score",
               baseline="double/yes=0.78", baseline_k=390, baseline_n=500, baseline_rate=0.78,
               effect=0.02, effect_low=-0.022, effect_high=0.062, band=(-0.1, 0.1))
AT_CHANCE = dict(check="rate within [0.45, 0.55]", threshold=None, k=500, n=1000, rate=0.5,
                 low=0.474, high=0.526, method="TOST (two one-sided tests): exact binomial",
                 band=(0.45, 0.55))


def _drawn(fig: Any, gid: str) -> list[Any]:
    return [a for a in fig.findobj() if a.get_gid() == gid]


def _one(fig: Any, gid: str) -> Any:
    found = _drawn(fig, gid)
    assert len(found) == 1, (gid, found)
    return found[0]


def _segment(fig: Any, gid: str) -> tuple[float, float]:
    """The x range of an interval bar."""
    (seg,) = _one(fig, gid).get_segments()
    return float(seg[0][0]), float(seg[1][0])


def _span(fig: Any, gid: str) -> tuple[float, float]:
    """The x range of a shaded band."""
    box = _one(fig, gid).get_bbox()
    return float(box.x0), float(box.x1)


def _legend(fig: Any) -> list[str]:
    return [t.get_text() for legend in fig.legends for t in legend.get_texts()]


def test_a_comparison_draws_the_baseline_beside_the_model() -> None:
    fig = check_figure(check_plot(_verdict(**ABOVE)))
    assert list(_one(fig, "model-point").get_xdata()) == [0.8]
    assert list(_one(fig, "baseline-point").get_xdata()) == [0.22]
    # The verdict carries no baseline interval: k/n's exact one at the verdict's level.
    assert _segment(fig, "baseline-interval") == pytest.approx(one_sided_bounds(22, 100, 0.05))
    assert _segment(fig, "model-interval") == pytest.approx((0.72, 0.87))  # the verdict's own
    assert _one(fig, "baseline-point").get_color() != _one(fig, "model-point").get_color()
    assert _one(fig, "baseline-point").get_marker() != _one(fig, "model-point").get_marker()
    left, right = fig.axes
    assert [t.get_text() for t in left.get_yticklabels()] == ["model", "baseline"]
    assert _segment(fig, "difference-interval") == pytest.approx((0.47, 0.68))
    assert list(_one(fig, "difference-point").get_xdata()) == [0.58]
    assert _one(fig, "difference-point").axes is right
    legend = _legend(fig)
    assert legend[0] == "model: rate and its 90% interval"
    assert legend[1] == "baseline: rate and its 90% exact interval of k/n"
    assert not _drawn(fig, "equivalence-band") and not _drawn(fig, "threshold")


def test_a_mean_baseline_is_a_point_and_the_legend_says_so() -> None:
    v = _verdict(**{**ABOVE, "check": "mean above baseline", "k": None, "rate": 3.4,
                    "low": 3.1, "high": 3.7, "baseline_k": None, "baseline_rate": 2.9})
    fig = check_figure(check_plot(v))
    assert list(_one(fig, "baseline-point").get_xdata()) == [2.9]
    assert not _drawn(fig, "baseline-interval")
    assert "baseline: mean, point only (the verdict carries no interval for it)" in _legend(fig)


@pytest.mark.parametrize("changes", [
    {"unit": "prompts", "units": 20},  # clustered: k/n's interval would be too narrow
    {"baseline_members": (("hf/b1", 0.2, 50), ("hf/b2", 0.24, 50))},  # an arm
])
def test_a_baseline_of_dependent_samples_gets_no_made_up_interval(changes: dict[str, Any]) -> None:
    v = _verdict(**{**ABOVE, **changes})
    assert baseline(v) is not None and baseline(v).interval is None  # type: ignore[union-attr]
    fig = check_figure(check_plot(v))
    assert _drawn(fig, "baseline-point") and not _drawn(fig, "baseline-interval")
    assert any(t.startswith("baseline: rate, point only") for t in _legend(fig))


def test_an_arm_baseline_draws_each_model() -> None:
    v = _verdict(**ABOVE, baseline_members=(("hf/b1", 0.2, 50), ("hf/b2", 0.24, 50)))
    members = _one(check_figure(check_plot(v)), "baseline-members")
    assert list(members.get_xdata()) == [0.2, 0.24]


def test_an_equivalence_with_a_baseline_shades_its_margin_on_both_panels() -> None:
    fig = check_figure(check_plot(_verdict(**SAME_AS)))
    left, right = fig.axes
    band = _one(fig, "equivalence-band")
    assert band.axes is left and _span(fig, "equivalence-band") == pytest.approx((0.68, 0.88))
    assert _one(fig, "margin-band").axes is right
    assert _span(fig, "margin-band") == pytest.approx((-0.1, 0.1))
    assert list(_one(fig, "baseline-point").get_xdata()) == [0.78]
    assert "equivalence margin \u00b10.1 (around the baseline; around 0 right)" in _legend(fig)


def test_an_equivalence_with_a_value_shades_its_band() -> None:
    fig = check_figure(check_plot(_verdict(**AT_CHANCE)))
    assert len(fig.axes) == 1  # nothing compared: no difference panel
    assert _span(fig, "equivalence-band") == pytest.approx((0.45, 0.55))
    assert not _drawn(fig, "baseline-point") and not _drawn(fig, "threshold")
    assert "equivalence band [0.45, 0.55]" in _legend(fig)


def test_a_threshold_check_keeps_its_threshold_line() -> None:
    fig = check_figure(check_plot(_verdict()))
    assert list(_one(fig, "threshold").get_xdata()) == [0.5, 0.5]
    assert not _drawn(fig, "equivalence-band") and len(fig.axes) == 1
    assert "threshold 0.5" in _legend(fig)


def test_a_snapshot_is_a_third_labelled_row() -> None:
    fig = check_figure(check_plot(_verdict(**ABOVE), (0.6, 0.5, 0.7, "v1")))
    assert _segment(fig, "snapshot-interval") == pytest.approx((0.5, 0.7))
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels == ["model", "baseline", "snapshot v1"]


def _samples(yes: int, n: int, model: str) -> Samples:
    """n independent replies to one prompt, ``yes`` of them 'yes'."""
    replies = tuple(Reply("yes" if i < yes else "no", 0, i, 1, "stop", False) for i in range(n))
    return Samples(model, (to_messages("q"),), GenerationSettings(), replies)


def _judged(check: Callable[[], Expectation]) -> Verdict:
    """The verdict checks.expect writes, whatever it is."""
    with unrecorded():
        try:
            return check().verdicts[-1]
        except (BehaviourFailed, Inconclusive) as exc:
            assert isinstance(exc.verdict, Verdict)
            return exc.verdict


YES = Scorer("says yes", lambda t: t == "yes")


def test_the_verdicts_checks_expect_writes_draw_what_they_compare() -> None:
    """The check texts and fields read here are the ones checks.expect writes."""
    same = _judged(lambda: expect(_samples(400, 500, "m"), YES).same_as(
        _samples(390, 500, "b"), margin=0.1))
    assert equivalence(same) == Equivalence(-0.1, 0.1, of_difference=True)
    fig = check_figure(check_plot(same))
    assert _span(fig, "equivalence-band") == pytest.approx((0.68, 0.88))
    assert _segment(fig, "baseline-interval") == pytest.approx(one_sided_bounds(390, 500, 0.05))
    assert _segment(fig, "model-interval") == pytest.approx(one_sided_bounds(400, 500, 0.05))
    chance = _judged(lambda: expect(_samples(500, 1000, "m"), YES).at_chance(0.5, 0.05))
    assert equivalence(chance) == Equivalence(0.45, 0.55, of_difference=False)
    above = _judged(lambda: expect(_samples(80, 100, "m"), YES).above(_samples(22, 100, "b")))
    assert equivalence(above) is None
    assert list(_one(check_figure(check_plot(above)), "baseline-point").get_xdata()) == [0.22]


def test_model_and_baseline_colours_are_okabe_ito() -> None:
    assert (MODEL_COLOR, BASELINE_COLOR) == ("#0072B2", "#D55E00")


@pytest.mark.parametrize("changes, expected", [
    (SAME_AS, Equivalence(-0.1, 0.1, of_difference=True)),
    (AT_CHANCE, Equivalence(0.45, 0.55, of_difference=False)),
    ({"check": "precondition: mean within [-2, 1e-05]", "band": (-2.0, 1e-05)},
     Equivalence(-2.0, 1e-05, of_difference=False)),
    # The margin is the verdict's, never read from its words.
    ({"check": "rate within [0.45, 0.55]", "method": "TOST (two one-sided tests): t"}, None),
    (ABOVE, None),
])
def test_the_equivalence_margin_is_the_verdicts_own(
    changes: dict[str, object], expected: Equivalence | None
) -> None:
    assert equivalence(_verdict(**changes)) == expected


def test_the_margin_survives_the_verdicts_json_form() -> None:
    v = _verdict(**SAME_AS)
    back = Verdict.from_dict(json.loads(json.dumps(v.to_dict())))
    assert back.test == v.test and back.test.band == (-0.1, 0.1)
    assert json.dumps(back.to_dict()) == json.dumps(v.to_dict())  # NaN intervals too


def test_a_comparison_on_one_value_gets_k_over_n_for_the_model() -> None:
    m = model(_verdict(**{**ABOVE, "low": float("nan"), "high": float("nan")}))
    assert m.interval == pytest.approx(one_sided_bounds(80, 100, 0.05)) and m.exact_here


def test_the_figure_renders() -> None:
    png = check_png(check_plot(_verdict(**SAME_AS)))
    assert png.startswith(b"\x89PNG") and len(png) > 5000


@pytest.mark.parametrize("text, width", [
    ("tests/test_x.py::test_a_very_long_name_of_a_behaviour[param-one-two-three]", 20),
    ("x" * 130, 36),
    ("short", 36),
    ("a::b[c-d]", 3),
])
def test_wrap_never_cuts(text: str, width: int) -> None:
    lines = wrap(text, width).split("\n")
    assert "".join(lines) == text and all(len(line) <= width for line in lines)


def test_wrap_breaks_where_a_test_id_reads_well() -> None:
    lines = wrap("tests/test_self.py::test_recognises_own_writing[seed-3]", 30).split("\n")
    assert lines == ["tests/test_self.py::test_", "recognises_own_writing[seed-3]"]
