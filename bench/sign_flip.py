"""The paired sign-flip (permutation) test of a mean difference, and its planner.

Exact whatever the distribution of the differences (when it is symmetric under
the null), which is why it was considered for the 5-20 prompts behaviour tests
usually have. The harness uses the paired t test instead
(``behavtest.stats.paired``), which power planning can be done for;
bench/calibration.py keeps this test's study to show the difference: rate
differences are discrete and tie, so the permutation test's size sits well
below alpha.

Imported as a sibling module by the bench scripts (``python bench/<x>.py``
puts bench/ on the path).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from behavtest.stats.paired import one_sample_t, paired_differences
from behavtest.stats.power import significance_cut
from behavtest.stats.result import Inference, check_alpha
from behavtest.stats.spread import sample_sd


def _nan_to_one(p: Any) -> float:
    value = float(p)
    return 1.0 if math.isnan(value) else min(1.0, max(0.0, value))


def _mean_stat(a: Any, axis: int = -1) -> Any:
    import numpy as np

    return np.mean(a, axis=axis)


def sign_flip_test(
    x: Sequence[float],
    y: Sequence[float],
    alpha: float,
    null: float = 0.0,
    resamples: int = 20_000,
    seed: int = 0,
) -> Inference:
    """Paired permutation (sign-flip) test of the mean difference (scipy ``permutation_test``).

    Under H0 each difference ``x[i] - y[i] - null`` is as likely positive as
    negative, so its sign is flipped at random: scipy
    ``permutation_test((d - null,), mean, permutation_type='samples')``.
    Exact (all 2**m sign patterns) when 2**m <= ``resamples``, otherwise
    Monte Carlo with ``np.random.default_rng(seed)``, so results repeat.
    Valid for any distribution of differences symmetric under H0; with m
    pairs the smallest p is 1/2**m (0.031 for 5 prompts), stated in
    ``note``. Interval: the paired t interval (as ``paired_t_test``), since
    the permutation test has no interval of its own.
    """
    import numpy as np
    from scipy import stats as _st

    check_alpha(alpha)
    if resamples < 1:
        raise ValueError(f"resamples={resamples} must be >= 1")
    d = paired_differences(x, y)
    m = len(d)
    shifted = np.asarray(d) - null
    pvals: list[float] = []
    if m == 1:  # scipy needs 2 observations; the two sign patterns are +-d
        s = float(shifted[0])
        pvals = [0.5 if s > 0 else 1.0, 0.5 if s < 0 else 1.0]
    for alternative in ("greater", "less") if m > 1 else ():
        res = _st.permutation_test(
            (shifted,), _mean_stat, permutation_type="samples", vectorized=True,
            n_resamples=resamples, alternative=alternative, rng=np.random.default_rng(seed),
        )
        pvals.append(_nan_to_one(res.pvalue))
    exact = 2**m <= resamples
    zeros = int(np.sum(shifted == 0.0))
    if exact:
        smallest = 2.0**zeros / 2.0**m
        how = f"exact over all 2**{m} sign patterns; smallest possible one-sided p = {smallest:.3g}"
        if zeros:
            how += f" ({zeros} differences equal null)"
    else:
        how = (
            f"Monte Carlo, {resamples} sign patterns (seed {seed}); "
            f"smallest possible one-sided p = {1.0 / (resamples + 1):.3g}"
        )
    _, _, low, high = one_sample_t(d, null, alpha)
    return Inference(
        estimate=sum(d) / m,
        low=low,
        high=high,
        p_greater=pvals[0],
        p_less=pvals[1],
        method=(
            "paired sign-flip permutation test of the mean difference (Fisher 1935; "
            "scipy permutation_test); paired t interval"
        ),
        null=null,
        effect="difference",
        se=sample_sd(d) / math.sqrt(m) if m >= 2 else None,
        df=float(m - 1) if m >= 2 else None,
        units=m,
        note=how,
    )


def sign_flip_power(
    baseline_rates: Sequence[float], shift: float, per_prompt: int, alpha: float,
    shift_sd: float = 0.0, reps: int = 4000, resamples: int = 20_000,
) -> float:
    """Planned power of ``sign_flip_test`` on per-prompt rates ('greater': the
    model above the baseline) with one prompt per entry of ``baseline_rates``
    (the baseline's true rate on it), the model's true rate on each prompt
    the baseline's plus N(``shift``, ``shift_sd``) (clipped to [0, 1]), and
    ``per_prompt`` replies per prompt and model.

    By simulation (``reps`` data sets, fixed seed), running the test's own
    rule: exact over all 2**m sign patterns when 2**m <= ``resamples``,
    otherwise ``resamples`` random patterns with scipy's (count + 1) /
    (resamples + 1). Why not ``t_power``: rate differences are discrete and
    tie, so the permutation test's size sits well below alpha (0.034 at 10
    prompts x 10 replies) and the paired t test's planner overstated its
    power by 0.07 (bench/calibration.py).
    """
    import numpy as np

    check_alpha(alpha)
    base = np.asarray([float(r) for r in baseline_rates])
    m = len(base)
    if m < 1 or per_prompt < 1 or reps < 1:
        raise ValueError("need at least one prompt, one reply per prompt and one repetition")
    if np.any((base < 0) | (base > 1)):
        raise ValueError("baseline_rates must lie in [0, 1]")
    rng = np.random.default_rng(20_240_611)
    if 2**m <= resamples:
        patterns = (np.arange(2**m)[:, None] >> np.arange(m)[None, :]) & 1
        exact = True
    else:
        patterns = rng.integers(0, 2, size=(resamples, m))
        exact = False
    signs = 1.0 - 2.0 * patterns
    hits = 0
    chunk = max(1, 2_000_000 // len(signs))
    for start in range(0, reps, chunk):
        r = min(chunk, reps - start)
        rates = np.clip(base + shift + shift_sd * rng.standard_normal((r, m)), 0.0, 1.0)
        d = (rng.binomial(per_prompt, rates)
             - rng.binomial(per_prompt, np.broadcast_to(base, rates.shape))).astype(float)
        # integer count differences: sign-flipped sums are exact, so ties are exact ties
        flipped = d @ signs.T
        at_least = (flipped >= d.sum(axis=1)[:, None]).sum(axis=1)
        p = at_least / len(signs) if exact else (at_least + 1) / (resamples + 1)
        hits += int(np.sum(p < significance_cut(alpha)))
    return hits / reps

