"""Assertions over scored samples: ``expect(samples, scorer).rate_at_least(0.2)``.

Each check turns the data into a :class:`Verdict` with one-sided tests at
level alpha in both directions, decided by the one rule of
``stats.result.decide``: PASS when the data reject "the claim is false", FAIL
when they reject "the claim is true", INCONCLUSIVE otherwise. "Not
significant" is never PASS: claims of no effect ("at chance", "same as the
baseline") are equivalence tests (TOST) with a stated margin. Which test runs
follows the shape of the data (one prompt or several, paired with the
baseline or not, one model or an arm, a checkpoint series): ``selection``
chooses it, and the verdict names it.

Checks never change their data: a chain such as
``expect(r, s).rate_at_least(t).above(b)`` judges each claim on the same
samples as it would alone. FAIL raises :class:`BehaviourFailed` (an
``AssertionError``); INCONCLUSIVE raises :class:`Inconclusive`, which the
plugin turns into a failure or an xfail according to ``--behav-inconclusive``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from behavtest import stats
from behavtest.checks import selection
from behavtest.checks import series as series_checks
from behavtest.checks.context import ExpectContext, current_context, precondition, raise_unless_pass
from behavtest.checks.entry import enter
from behavtest.checks.group import GroupSamples
from behavtest.checks.scored import Scored, evidence, score_samples
from behavtest.checks.selection import POWER, Chosen
from behavtest.errors import InvalidArgument
from behavtest.sampling.handle import Samples
from behavtest.scorers.base import Scorer
from behavtest.scorers.readings import MIN_REACH, reach_note
from behavtest.settings import check_rate
from behavtest.stats.result import decide
from behavtest.verdict import Difference, Measured, Outcome, Test, Verdict, format_p

__all__ = ["ExpectContext", "Expectation", "current_context", "expect", "precondition"]

_CHECK = {"greater": ">=", "less": "<="}


class Expectation:
    """Checks on one model's (or one group's) scored data. Methods chain."""

    def __init__(
        self,
        data: Samples | GroupSamples | Sequence[float],
        scorer: Scorer[Any] | Callable[[str], Any] | None,
        alpha: float | None = None,
        name: str | None = None,
        min_mass: float | None = None,
    ):
        ctx = current_context.get()
        self.min_mass = ctx.min_mass if min_mass is None else min_mass
        if not 0 <= self.min_mass <= 1:
            raise InvalidArgument(f"min_mass={self.min_mass} is outside [0, 1]")
        self.alpha = ctx.alpha if alpha is None else alpha
        self.icc = ctx.icc
        self.design_alpha = self.alpha / max(1, ctx.family)
        stats.check_alpha(self.alpha)
        self.scorer = scorer
        given = getattr(scorer, "name", None) or name
        self.verdicts: list[Verdict] = []
        # The data's shape, decided once (checks.entry). Checks never change the
        # data: a sequential budget is kept as it is (one-prompt rate checks read
        # prefixes of it), every other check reads the whole budget through ``unit``.
        self.data = enter(data, scorer, given or "values")
        self.scorer_name = given or self.data.what or "values"
        self.group, self.ordered = self.data.group, self.data.ordered
        self.mass, self.bounds, self.arm = self.data.mass, self.data.bounds, self.data.arm
        self.unjudged = self.data.unjudged(self.min_mass)
        self._scored = self.data.scored

    @property
    def unit(self) -> Scored:
        """The scored data (for a sequential budget: all of it, drawn on first use)."""
        if self._scored is None:
            self._scored = self.data.full(self.scorer)
        return self._scored

    # -- the shared verdict machinery ---------------------------------------------
    @property
    def k(self) -> int:
        return self.unit.k

    @property
    def n(self) -> int:
        return self.unit.n

    @property
    def rate(self) -> float:
        return self.unit.mean

    def _record(
        self,
        check: str,
        direction: str,
        inf: stats.Inference,
        detectable: Callable[[], str | None],
        source: Scored | None = None,
        *,
        unit: str | None = None,
        threshold: float | None = None,
        note: str | None = None,
        rate: float | None = None,
        own: tuple[float, float] | None = None,
        baseline: Expectation | None = None,
        unjudged: str | None = None,
        band: tuple[float, float] | None = None,
    ) -> Expectation:
        """Turn an Inference into a verdict for the claim in ``direction``,
        record it, and raise unless it passes. ``own`` is the model's own
        interval when the inference is about something else (a difference);
        ``baseline`` the other side of a comparison; ``unjudged`` a reason,
        beside either side's own, why the data cannot judge the claim."""
        u = source or self.unit
        p_claim, p_against = inf.p_for(direction), inf.p_for(_flip(direction))
        theirs = None if baseline is None else baseline.unjudged
        # dict.fromkeys: a judge's shortfall, said by both sides of a comparison, once
        unjudged = "; ".join(dict.fromkeys(x for x in (self.unjudged, theirs, unjudged) if x)
                             ) or None
        if unjudged:
            # Not a verdict on the claim: p-values of 1 keep it INCONCLUSIVE
            # through the suite correction; the note keeps what they were.
            unjudged += (f" (not judged; unjudged p(claim) = {format_p(p_claim)}, "
                         f"p(opposite) = {format_p(p_against)})")
            p_claim = p_against = 1.0
        outcome = decide(p_claim, p_against, self.alpha)
        # The model's interval cut to where its mean can lie ([0, 1], the readings'
        # bounds): a t or Wald interval can overshoot. Only a rate's or mean's.
        own_scale = own is not None or inf.effect in ("rate", "mean")
        bounds = None if not own_scale else (0.0, 1.0) if u.binary else self.bounds
        low, high = (inf.low, inf.high) if own is None else own
        verdict = Verdict(
            check=check,
            outcome=outcome,
            scorer=self.scorer_name,
            measured=Measured(
                model=u.model, k=u.k if u.binary else None, n=u.n,
                rate=u.mean if rate is None else rate,
                low=_cut(low, bounds), high=_cut(high, bounds), parsed=u.parsed,
                members=self._members(self.group) or self.arm, mass=self.mass,
                ordered=self.ordered and self.group is not None,
            ),
            test=Test(
                method=inf.method, alpha=self.alpha, p_value=p_claim, p_against=p_against,
                threshold=threshold, units=inf.units, unit=unit,
                detectable=None if outcome is Outcome.PASS else detectable(), band=band,
            ),
            baseline=None if baseline is None else baseline._measured(),
            difference=None if baseline is None else Difference(inf.estimate, inf.low,
                                                                inf.high),
            evidence=evidence(u, self.group if source is None else None, self.scorer),
            note="; ".join(x for x in (unjudged, inf.note, note) if x) or None,
            judge=self.data.judge,
        )
        self.verdicts.append(raise_unless_pass(verdict))
        return self

    def _measured(self) -> Measured:
        """This side's numbers as the other side of a comparison (no interval of
        its own: the comparison's is the difference's)."""
        y = self.unit
        return Measured(model=y.model, k=y.k if y.binary else None, n=y.n, rate=y.mean,
                        members=self._members(self.group), mass=self.mass,
                        ordered=self.ordered and self.group is not None)

    def _own_interval(self) -> tuple[float, float]:
        """The model's own interval, for a comparison's verdict (whose inference
        is about the difference, not the model's rate)."""
        try:
            own = self._against_value(0.5 if self.unit.binary else self.unit.mean).inference
        except InvalidArgument:  # one value: no interval of its own (the difference has one)
            return math.nan, math.nan
        return own.low, own.high

    @staticmethod
    def _members(group: tuple[Scored, ...] | None) -> tuple[tuple[str, float, int], ...] | None:
        if group is None:
            return None
        return tuple((u.model, u.mean, u.n) for u in group)

    # -- one model (or group) against a value -----------------------------------
    def _against_value(self, threshold: float) -> Chosen:
        return selection.against_value(self.unit, self.group, threshold, self.alpha, self.icc)

    def _value_check(
        self, threshold: float, direction: str, note: str | None = None
    ) -> Expectation:
        if self.data.sequential is not None:
            # Whatever ran before: one data, one rule (prefixes replay from the cache).
            return self._sequential_check(check_rate(threshold), direction)
        t = check_rate(threshold) if self.unit.binary else float(threshold)
        what = "rate" if self.unit.binary else "mean"
        c = self._against_value(t)
        return self._record(
            f"{what} {_CHECK[direction]} {t:g}", direction, c.inference,
            lambda: c.power(direction), threshold=t, unit=c.unit, note=note,
        )

    def rate_at_least(self, threshold: float) -> Expectation:
        """Claim: the true rate (or mean score) is above ``threshold``."""
        return self._value_check(threshold, "greater")

    def rate_at_most(self, threshold: float) -> Expectation:
        """Claim: the true rate (or mean) is below ``threshold``. With 0 of n
        successes this is the "never happens" bound: 0/n bounds the rate at
        about 3/n (alpha 0.05)."""
        return self._value_check(threshold, "less")

    mean_at_least = rate_at_least
    mean_at_most = rate_at_most

    def never(self, at_most: float) -> Expectation:
        """Claim: the behaviour practically never happens (rate below ``at_most``),
        judged by the exact k-of-n upper bound; an alias of ``rate_at_most``."""
        return self.rate_at_most(at_most)

    # -- sequential ---------------------------------------------------------------
    def _sequential_check(self, t: float, direction: str) -> Expectation:
        """Group-sequential rate check: draw look by look until decided."""
        seq = self.data.sequential
        assert seq is not None
        if len(seq.prompts) != 1:
            # Pooled counts over clustered prompts are not iid: no exact boundaries.
            c = self._against_value(t)
            return self._record(
                f"rate {_CHECK[direction]} {t:g}", direction, c.inference,
                lambda: c.power(direction), threshold=t, unit=c.unit,
                note="sequential stopping applies to one-prompt checks; several prompts are "
                "clusters, so the whole budget was drawn",
            )
        design = stats.sequential_design(t, seq.budget, self.design_alpha, direction)
        look = 0
        for look, n_j in enumerate(design.looks):
            unit = score_samples(seq.prefix(n_j), self._scorer())
            if stats.sequential_decide(design, look, unit.k) is not None:
                break
        inf = stats.sequential_inference(design, look, unit.k)

        def power() -> str:
            r = stats.sequential_detectable(design, POWER)
            spent = f"stopped at look {look + 1} of {len(design.looks)}, n={unit.n}"
            if r is None:
                return f"budget {seq.budget} can never pass this check ({spent})"
            word = "at least" if direction == "greater" else "at most"
            return (
                f"budget {seq.budget} in {len(design.looks)} looks detects a true rate of "
                f"{word} {r:.3f} with {POWER:.0%} power ({spent})"
            )

        return self._record(
            f"rate {_CHECK[direction]} {t:g}", direction, inf, power, source=unit,
            threshold=t, unit="samples",
        )

    def _scorer(self) -> Callable[[str], Any]:
        assert self.scorer is not None
        return self.scorer

    # -- equivalence --------------------------------------------------------------
    def within(self, low: float, high: float) -> Expectation:
        """Claim: the true rate (or mean) lies inside [low, high] (TOST: both
        "above low" and "below high" must be shown at alpha). On option
        probabilities whose position decides too much to leave the band, it is
        INCONCLUSIVE with that reason (see ``reach_note``)."""
        if not low < high:
            raise InvalidArgument(f"within({low}, {high}): low must be below high")
        lo, hi = self._against_value(low), self._against_value(high)
        eq = selection.tost(lo.inference, hi.inference, low, high)
        exact = self.unit.binary and lo.unit == "samples"

        def power() -> str:
            if exact:
                return selection.binomial_tost_power(self.unit.n, (low + high) / 2, self.alpha)
            return selection.tost_power(eq, self.alpha)

        return self._record(
            f"{'rate' if self.unit.binary else 'mean'} within [{low:g}, {high:g}]", "greater",
            eq, power, unit=lo.unit, unjudged=self._cannot_move(None, (high - low) / 2),
            band=(low, high),
        )

    def at_chance(self, chance: float = 0.5, margin: float = 0.05) -> Expectation:
        """Claim: the rate is at chance, within +-margin (e.g. self-recognition
        after emergent misalignment: 0.5 +- 0.05)."""
        if margin <= 0:
            raise InvalidArgument(f"margin={margin} must be > 0; 'exactly chance' is untestable")
        return self.within(chance - margin, chance + margin)

    # -- comparisons with a baseline ----------------------------------------------
    def _baseline(self, baseline: Any) -> Expectation:
        if isinstance(baseline, Expectation):
            return baseline
        return Expectation(baseline, self.scorer, self.alpha, name="baseline",
                           min_mass=self.min_mass)

    def _against_baseline(self, other: Expectation, null: float, paired: bool) -> Chosen:
        return selection.against_baseline(
            self.unit, self.group, other.unit, other.group, null, self.alpha, self.icc, paired
        )

    def _compare(self, baseline: Any, direction: str, paired: bool, by: float) -> Expectation:
        if not (by >= 0 and math.isfinite(by)):
            raise InvalidArgument(f"by={by}: the least difference that matters must be a "
                                  "finite number >= 0")
        other = self._baseline(baseline)
        null = by if direction == "greater" else -by
        c = self._against_baseline(other, null, paired)
        side = "above" if direction == "greater" else "below"
        least = f" by >= {by:g}" if by else ""
        return self._record(
            f"{'rate' if self.unit.binary else 'mean'} {side} baseline{least}",
            direction, c.inference, lambda: c.power(direction), unit=c.unit,
            own=self._own_interval(), baseline=other,
        )

    def above(self, baseline: Any, *, by: float = 0.0, paired: bool = False) -> Expectation:
        """Claim: this model's rate (mean) is higher than the baseline's by more
        than ``by``, the least difference that matters (the minimum effect of
        interest). With ``by`` > 0 a trivial shift does not PASS, and a clear
        null (the difference shown below ``by``) FAILs; with ``by=0`` any shift
        PASSes once significant and a null can only be INCONCLUSIVE.

        Prompts asked on both sides pair by themselves; ``paired=True`` pairs
        prompt i with prompt i when they differ on purpose (the same item with
        a trigger and without), so the test is on per-item differences."""
        return self._compare(baseline, "greater", paired, by)

    def below(self, baseline: Any, *, by: float = 0.0, paired: bool = False) -> Expectation:
        """Claim: this model's rate (mean) is lower than the baseline's by more
        than ``by`` (``by`` and ``paired``: as in :meth:`above`)."""
        return self._compare(baseline, "less", paired, by)

    def same_as(self, baseline: Any, margin: float, *, note: str | None = None,
                paired: bool = False) -> Expectation:
        """Claim: this model's rate (mean) is within +-margin of the baseline's
        (TOST on the difference: "no conflation", "no change"). ``note`` is
        added to the verdict's note (e.g. what was compared); ``paired`` as
        in :meth:`above`."""
        if margin <= 0:
            raise InvalidArgument(f"margin={margin} must be > 0; 'no difference at all' is "
                                  "untestable")
        other = self._baseline(baseline)
        lo = self._against_baseline(other, -margin, paired)
        hi = self._against_baseline(other, margin, paired)
        eq = selection.tost(lo.inference, hi.inference, -margin, margin)
        return self._record(
            f"{'rate' if self.unit.binary else 'mean'} within +-{margin:g} of baseline",
            "greater", eq, lambda: selection.tost_power(eq, self.alpha), unit=lo.unit,
            note=note, own=self._own_interval(), baseline=other,
            unjudged=self._cannot_move(other, margin), band=(-margin, margin),
        )

    def _cannot_move(self, other: Expectation | None, margin: float) -> str | None:
        """Why an equivalence on these readings (and the baseline's) proves
        nothing: an instrument that cannot move by the margin on this model
        shows "the same" whatever the model prefers (``reach_note``)."""
        if margin <= MIN_REACH:  # every check on readings asks MIN_REACH already
            return None
        # A side under MIN_REACH has said so already (its ``unjudged``).
        notes = [reach_note(r, margin) for r in (e.data.readings for e in (self, other)
                                                 if e is not None)
                 if r is not None and reach_note(r) is None]
        return "; ".join(n for n in notes if n) or None

    # -- checkpoint series (the statistics: series_checks) -----------------------
    def _series(self, claim: Callable[..., series_checks.SeriesClaim], arg: Any) -> Expectation:
        ks, ns = series_checks.series_counts(self.group, self.ordered, self.unit.binary)
        assert self.group is not None
        c = claim(self.group, ks, ns, arg, self.alpha)
        return self._record(c.check, c.direction, c.inference, c.power, unit="samples",
                            **c.extra)

    def peak_at_least(self, threshold: float) -> Expectation:
        """Claim: at some checkpoint the rate exceeds ``threshold`` (the
        property may rise and fade over training; the last checkpoint alone
        would miss it). Bonferroni over checkpoints for PASS."""
        return self._series(series_checks.peak, threshold)

    def area_at_least(self, threshold: float) -> Expectation:
        """Claim: the mean rate over the series (area under the curve, equal
        weights) exceeds ``threshold``."""
        return self._series(series_checks.area, threshold)

    def trend(self, direction: str) -> Expectation:
        """Claim: the rate rises ('increasing') or falls ('decreasing') along the
        series: Cochran-Armitage test for a linear trend in proportions."""
        return self._series(series_checks.trend, direction)


def _cut(value: float, bounds: tuple[float, float] | None) -> float:  # nan stays nan
    return value if bounds is None or math.isnan(value) else min(max(value, bounds[0]), bounds[1])


def _flip(direction: str) -> str:
    return "less" if direction == "greater" else "greater"


def expect(
    data: Samples | GroupSamples | Sequence[float],
    scorer: Scorer[Any] | Callable[[str], Any] | None = None,
    *,
    alpha: float | None = None,
    name: str | None = None,
    min_mass: float | None = None,
) -> Expectation:
    """Start checks on sampled replies scored by ``scorer`` (bool: a rate;
    number: a mean), on a model group's samples, or on plain numbers such as
    option probabilities (one per question; ``name`` labels them).

    Probability-based :class:`~behavtest.scorers.readings.Readings`
    (``model.scale``, ``option_readings``) carry the mass they rest on: a
    check on readings (or against a baseline's) below ``min_mass`` (default
    the run's, 0.5) is INCONCLUSIVE with that reason."""
    return Expectation(data, scorer, alpha, name, min_mass)
