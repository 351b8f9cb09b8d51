"""Power of one-sided t tests, and the smallest effect they detect.

Every FAIL and INCONCLUSIVE verdict of a t-based test says what the run could
have detected; this is the planner those sentences use (exact noncentral t,
not a normal approximation, because behaviour tests have few units).
"""

from __future__ import annotations

import math

from behavtest.stats.power import significance_cut
from behavtest.stats.result import check_alpha


def _check_t_args(se: float, df: float, alpha: float) -> None:
    check_alpha(alpha)
    if not se > 0.0:
        raise ValueError(f"se={se} must be > 0")
    if not df > 0.0:
        raise ValueError(f"df={df} must be > 0")


def t_power(effect: float, se: float, df: float, alpha: float) -> float:
    """Power of the one-sided t test at level ``alpha`` when the true effect is ``effect``.

    The test is taken in the direction of ``effect``: T = estimate/se is
    noncentral t with ``df`` degrees of freedom and noncentrality
    |effect|/se, and the test rejects when its p-value is significant
    (``power.significant``), i.e. T > t.isf(alpha*(1 - 1e-9), df). Power =
    scipy ``nct.sf``; for a one-sample test with se = sd/sqrt(n), df = n - 1
    this is statsmodels ``TTestPower().power(effect/sd, n, alpha,
    alternative='larger')``. ``df = inf`` gives the z test.
    """
    from scipy import stats as _st

    _check_t_args(se, df, alpha)
    level = significance_cut(alpha)
    nc = abs(effect) / se
    if math.isinf(df):
        return float(_st.norm.sf(_st.norm.isf(level) - nc))
    return float(_st.nct.sf(_st.t.isf(level, df), df, nc))


def t_detectable(se: float, df: float, alpha: float, power: float = 0.8) -> float:
    """Smallest true effect the one-sided t test (``se``, ``df``, ``alpha``) detects with ``power``.

    Inverts ``t_power`` (exact noncentral t, scipy ``nct``) by bracketing
    and scipy ``brentq`` to 1e-12 relative. For power at or below the level
    the answer is 0 (a zero effect is "detected" at rate alpha).
    """
    from scipy import optimize as _opt

    _check_t_args(se, df, alpha)
    if not 0.0 < power < 1.0:
        raise ValueError(f"power={power} must lie in (0, 1)")
    if power <= t_power(0.0, se, df, alpha):
        return 0.0
    hi = se
    while t_power(hi, se, df, alpha) < power:
        hi *= 2.0
    return float(
        _opt.brentq(lambda e: t_power(e, se, df, alpha) - power, 0.0, hi, xtol=1e-14 * hi,
                    rtol=1e-12)
    )
