"""Which test the shape of the data calls for, and what it could detect.

The rules (the README's table says the same):

* against a value: one prompt -> exact binomial (rates) or t (means);
  several prompts -> clusters: Korn-Graubard effective-n (rates, with the
  assumed least intra-cluster correlation) or cluster-robust t (means);
  an arm of >= 2 models -> t on per-model values.
* against a baseline: an arm on either side -> Welch on per-model values
  (a lone base model enters with its binomial variance); the same >= 2
  prompts on both sides -> paired by prompt (McNemar with one binary sample
  per prompt, else paired t on per-prompt means); one prompt each, the same
  one (rates) -> Fisher; other rates -> Rao-Scott design-effect-adjusted score
  test (each side's prompts are its clusters, with the assumed least
  intra-cluster correlation); other means -> Welch on per-prompt means (or on
  the values).

Each choice comes with a function wording its power, because every FAIL and
INCONCLUSIVE verdict must say what the run could have detected.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from behavtest import stats
from behavtest.checks.scored import Scored
from behavtest.errors import InvalidArgument

POWER = 0.8

Group = tuple[Scored, ...] | None


@dataclass(frozen=True)
class Chosen:
    """A test's result, what its independent units are, and its power note
    (a function of the claim's direction, 'greater' or 'less')."""

    inference: stats.Inference
    unit: str
    power: Callable[[str], str]


def _arm(group: Group) -> tuple[Scored, ...] | None:
    return group if group is not None and len(group) >= 2 else None


def _single(x: Scored, group: Group) -> Scored:
    """The one model of a side that is not an arm (a lone model or a group of one)."""
    return group[0] if group else x


# -- against a fixed value ------------------------------------------------------------


def against_value(
    x: Scored, group: Group, threshold: float, alpha: float, icc: float
) -> Chosen:
    if (arm := _arm(group)) is not None:
        inf = stats.arm_vs_value(
            [m.mean for m in arm], threshold, alpha,
            sizes=[m.n for m in arm] if x.binary else None,
            successes=[m.k for m in arm] if x.binary else None,
        )
        return Chosen(inf, "models", t_power_note(inf, "models", alpha))
    u = _single(x, group)
    if u.binary and len(u.clusters) == 1:
        k, n = u.k, u.n
        low, high = stats.one_sided_bounds(k, n, alpha)
        conf = round(100 * (1 - alpha))
        inf = stats.Inference(
            estimate=k / n, low=low, high=high,
            p_greater=stats.binomial_pvalue(k, n, threshold, "greater"),
            p_less=stats.binomial_pvalue(k, n, threshold, "less"),
            method=f"exact binomial test; Clopper-Pearson bounds, each one-sided {conf}%",
            null=threshold, effect="rate", units=n,
        )
        return Chosen(inf, "samples", lambda d: rate_power(n, threshold, alpha, d))
    if u.binary:
        ks, ns = u.cluster_counts
        inf = stats.clustered_rate(ks, ns, threshold, alpha, icc=icc)
        n_eff = max(1, int(inf.effective_n or u.n))

        def clustered_power(direction: str) -> str:
            return rate_power(n_eff, threshold, alpha, direction) + (
                f" (effective n={n_eff} of {u.n}: {len(u.clusters)} prompts are clusters)"
            )

        return Chosen(inf, "prompts", clustered_power)
    if len(u.values) < 2:
        raise InvalidArgument("a mean needs at least 2 parsed values; fix: sample more")
    if len(u.clusters) == 1:
        inf = stats.clustered_mean([list(u.values)], threshold, alpha)
        return Chosen(inf, "samples", t_power_note(inf, "values", alpha))
    inf = stats.clustered_mean([list(c) for c in u.clusters if c], threshold, alpha)
    return Chosen(inf, u.unit, t_power_note(inf, u.unit, alpha))


# -- against a baseline -----------------------------------------------------------------


def against_baseline(
    x: Scored, xgroup: Group, y: Scored, ygroup: Group, null: float, alpha: float,
    icc: float, by_position: bool = False,
) -> Chosen:
    """Test model - baseline against ``null`` (0, or +-margin for equivalence);
    ``icc`` is the least intra-cluster correlation assumed for clustered rates.

    Prompts pair when both sides asked the same ones; ``by_position`` pairs
    prompt i with prompt i when they differ on purpose (one item with and
    without a trigger): the per-item differences are then what is tested."""
    if x.binary != y.binary:
        raise InvalidArgument("model and baseline were scored differently")
    xa, ya = _arm(xgroup), _arm(ygroup)
    if xa or ya:
        return _arms(x.binary, xa, _single(x, xgroup), ya, _single(y, ygroup), null, alpha)
    x, y = _single(x, xgroup), _single(y, ygroup)
    if by_position and not len(x.clusters) == len(y.clusters) >= 2:
        raise InvalidArgument(
            f"paired=True pairs prompt i with prompt i, but the two sides have "
            f"{len(x.clusters)} and {len(y.clusters)} prompts; fix: ask both the same number "
            "(at least 2), in the same order"
        )
    same = x.prompts is not None and x.prompts == y.prompts
    paired = (same or by_position) and len(x.clusters) >= 2
    if paired and x.binary and x.per_prompt == 1 and y.per_prompt == 1 and null == 0.0:
        inf = stats.mcnemar_test(
            [bool(c and c[0]) for c in x.clusters], [bool(c and c[0]) for c in y.clusters],
            alpha,
        )
        return Chosen(inf, "pairs", t_power_note(inf, "prompt pairs", alpha))
    if paired:
        xm, ym = _paired_means(x, y)
        inf = stats.paired_t_test(xm, ym, alpha, null=null)
        return Chosen(inf, "prompts", t_power_note(inf, "paired prompts", alpha))
    one_prompt_each = len(x.clusters) == 1 and len(y.clusters) == 1
    if x.binary and one_prompt_each and x.prompts == y.prompts:
        inf = stats.fisher_test(x.k, x.n, y.k, y.n, alpha, null=null)
        base = y.k / y.n
        return Chosen(inf, "samples", lambda d: fisher_power(x.n, base, alpha, d))
    if x.binary:
        kx, nx = x.cluster_counts
        ky, ny = y.cluster_counts
        inf = stats.clustered_rate_difference(kx, nx, ky, ny, alpha, null=null, icc=icc)
        return Chosen(inf, "prompts", t_power_note(inf, "prompts", alpha))
    if len(x.clusters) >= 2 and len(y.clusters) >= 2:
        inf = stats.welch_test(x.cluster_means, y.cluster_means, alpha, null=null)
        if "models" in (x.unit, y.unit):  # an arm's readings: Welch on per-model means
            return Chosen(inf, "models", t_power_note(inf, "models", alpha))
        warn = (
            "model and baseline answered different prompts, so nothing pairs them: Welch on "
            "per-prompt means is approximate with few, skewed prompts; ask both the same "
            "prompts"
        )
        inf = replace(inf, note="; ".join(x for x in (inf.note, warn) if x))
        return Chosen(inf, "prompts", t_power_note(inf, "prompts", alpha))
    inf = stats.welch_test(x.values, y.values, alpha, null=null)
    return Chosen(inf, "samples", t_power_note(inf, "values", alpha))


def _arms(
    binary: bool, xa: tuple[Scored, ...] | None, x1: Scored,
    ya: tuple[Scored, ...] | None, y1: Scored, null: float, alpha: float,
) -> Chosen:
    """At least one side is an arm of models: the model is the unit."""
    def sizes(arm: tuple[Scored, ...]) -> list[int] | None:
        return [u.n for u in arm] if binary else None

    def vs_single(arm: tuple[Scored, ...], one: Scored, null: float) -> stats.Inference:
        if binary:
            return stats.arm_vs_single([u.mean for u in arm], one.k, one.n, alpha, null=null,
                                       x_sizes=sizes(arm))
        return stats.welch_test([u.mean for u in arm], one.values, alpha, null=null)

    if xa and ya:
        inf = stats.arm_vs_arm([u.mean for u in xa], [u.mean for u in ya], alpha, null=null,
                               x_sizes=sizes(xa), y_sizes=sizes(ya))
    elif xa:
        inf = vs_single(xa, y1, null)
    else:
        assert ya is not None
        inf = negate(vs_single(ya, x1, -null))
    return Chosen(inf, "models", t_power_note(inf, "models", alpha))


def _paired_means(x: Scored, y: Scored) -> tuple[list[float], list[float]]:
    """Per-prompt means of model and baseline, for prompts both have data on."""
    xs, ys = [], []
    for cx, cy in zip(x.clusters, y.clusters, strict=True):
        if cx and cy:
            xs.append(sum(cx) / len(cx))
            ys.append(sum(cy) / len(cy))
    return xs, ys


def negate(inf: stats.Inference) -> stats.Inference:
    """The same test seen from the other side (y - x -> x - y)."""
    return replace(
        inf, estimate=-inf.estimate, low=-inf.high, high=-inf.low, p_greater=inf.p_less,
        p_less=inf.p_greater, null=-inf.null,
    )


def tost(lo: stats.Inference, hi: stats.Inference, low: float, high: float) -> stats.Inference:
    """Two one-sided tests as one Inference of the claim "inside [low, high]":
    ``stats.tost`` (the one TOST rule; see ``behavtest.stats.equivalence``)."""
    return stats.tost(lo, hi, low, high)


# -- power notes ---------------------------------------------------------------------------


def rate_power(n: int, threshold: float, alpha: float, direction: str) -> str:
    r = stats.min_detectable_rate(n, threshold, alpha, POWER, direction)
    if r is None:
        return f"n={n} is too small to ever pass this check at alpha={alpha:g}"
    word = "at least" if direction == "greater" else "at most"
    return f"n={n} detects a true rate of {word} {r:.3f} with {POWER:.0%} power"


def t_power_note(inf: stats.Inference, what: str, alpha: float) -> Callable[[str], str]:
    """The smallest true difference from the null this test's standard error and
    df detect with POWER (noncentral t; normal when there are no df)."""
    def note(direction: str) -> str:
        del direction  # symmetric
        units = f"{inf.units} {what}" if inf.units is not None else what
        if not inf.se:
            return f"{units} show no spread, so no effect size can be planned from them"
        df = inf.df if inf.df else float("inf")
        gap = stats.t_detectable(inf.se, df, alpha, POWER)
        return (
            f"{units} detect a true difference of {gap:.3f} from {inf.null:g} with "
            f"{POWER:.0%} power ({'noncentral t' if inf.df else 'normal approximation'})"
        )

    return note


def fisher_power(n: int, base_rate: float, alpha: float, direction: str) -> str:
    gap, exact = stats.detectable_gap(n, base_rate, alpha, POWER, direction)
    if gap is None:
        return f"n={n} per model cannot detect any gap from a baseline at {base_rate:.3f}"
    how = "" if exact else " (normal approximation)"
    return (
        f"n={n} per model detects a gap of {gap:.3f} from the baseline's "
        f"{base_rate:.3f} with {POWER:.0%} power{how}"
    )


def tost_power(eq: stats.Inference, alpha: float) -> str:
    """Smallest margin this run could confirm equivalence for, when the true
    value sits at the centre: margin = se * (z_{1-alpha} + z_{(1+POWER)/2})."""
    from scipy.stats import norm

    if not eq.se:
        half = (eq.high - eq.low) / 2.0
        return f"the interval's half-width is {half:.3f}: only margins wider than that can pass"
    margin = eq.se * (float(norm.ppf(1 - alpha)) + float(norm.ppf((1 + POWER) / 2)))
    return (
        f"this run confirms equivalence with {POWER:.0%} power only for margins of at least "
        f"{margin:.3f} (true value at the centre; normal approximation)"
    )


def binomial_tost_power(n: int, centre: float, alpha: float) -> str:
    """Smallest margin around ``centre`` that n samples confirm with POWER when the
    true rate is the centre (exact binomial TOST power, bisection)."""
    room = min(centre, 1.0 - centre)
    if room <= 0 or stats.binomial_tost_power(n, centre, centre - room, centre + room,
                                              alpha) < POWER:
        return f"n={n} cannot confirm equivalence around {centre:g} with {POWER:.0%} power"
    lo, hi = 0.0, room
    for _ in range(20):
        mid = (lo + hi) / 2
        if stats.binomial_tost_power(n, centre, centre - mid, centre + mid, alpha) >= POWER:
            hi = mid
        else:
            lo = mid
    return (
        f"n={n} confirms equivalence with {POWER:.0%} power only for margins of at least "
        f"+-{hi:.3f} (true rate at {centre:g}; exact binomial TOST)"
    )
