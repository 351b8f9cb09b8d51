"""Pure statistics over counts and scores: no model, no pytest.

Each function delegates to scipy/statsmodels where they already compute the
thing (the tests check agreement to 1e-9), and says so in its docstring.
scipy and statsmodels are imported inside the functions: the pytest plugin
imports this package, and every pytest run in the environment would
otherwise pay ~2 s for them.
"""

from behavtest.stats.binomial import (
    Alternative,
    binomial_pvalue,
    clopper_pearson,
    one_sided_bounds,
    wilson,
)
from behavtest.stats.power import (
    binomial_power,
    detectable_gap,
    fisher_power,
    min_detectable_rate,
    samples_for_rate,
    samples_per_arm,
    significant,
)
from behavtest.stats.scores import mean_interval, mean_pvalue
from behavtest.stats.two_sample import fisher_pvalue, rate_difference_interval

__all__ = [
    "Alternative",
    "binomial_power",
    "binomial_pvalue",
    "clopper_pearson",
    "detectable_gap",
    "fisher_power",
    "fisher_pvalue",
    "mean_interval",
    "mean_pvalue",
    "min_detectable_rate",
    "one_sided_bounds",
    "rate_difference_interval",
    "samples_for_rate",
    "samples_per_arm",
    "significant",
    "wilson",
]
