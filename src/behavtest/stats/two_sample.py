"""Two independent samples of binary outcomes (model vs baseline)."""

from __future__ import annotations

from behavtest.stats.binomial import Alternative


def fisher_pvalue(k1: int, n1: int, k2: int, n2: int, alternative: Alternative) -> float:
    """Fisher's exact test of rate1 vs rate2 (scipy ``fisher_exact``).

    ``alternative='greater'`` tests rate1 > rate2. Fisher conditions on the
    margins, so it is conservative; it never exceeds its nominal level.
    """
    from scipy import stats as _st
    table = [[k1, n1 - k1], [k2, n2 - k2]]
    return float(_st.fisher_exact(table, alternative=alternative).pvalue)


def rate_difference_interval(
    k1: int, n1: int, k2: int, n2: int, confidence: float = 0.95
) -> tuple[float, float]:
    """Newcombe hybrid-score interval for rate1 - rate2 (statsmodels, method 'newcomb').

    Newcombe's interval keeps near-nominal coverage at rates near 0 and 1,
    where the Wald interval collapses, which is where behaviour rates live.
    """
    from statsmodels.stats.proportion import confint_proportions_2indep
    low, high = confint_proportions_2indep(
        k1, n1, k2, n2, method="newcomb", compare="diff", alpha=1.0 - confidence
    )
    return float(low), float(high)
