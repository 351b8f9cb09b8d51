"""Pure statistics over counts and scores: no model, no pytest.

Each function delegates to scipy/statsmodels where they already compute the
thing (the tests check agreement to 1e-9), and says so in its docstring.
scipy and statsmodels are imported inside the functions: the pytest plugin
imports this package, and every pytest run in the environment would
otherwise pay ~2 s for them.
"""

from behavtest.stats.arms import (
    arm_power,
    arm_single_power,
    arm_value_power,
    arm_vs_arm,
    arm_vs_single,
    arm_vs_value,
)
from behavtest.stats.binomial import (
    Alternative,
    binomial_pvalue,
    clopper_pearson,
    one_sided_bounds,
    wilson,
)
from behavtest.stats.clustered import (
    clustered_difference_power,
    clustered_mean,
    clustered_mean_power,
    clustered_rate,
    clustered_rate_difference,
    clustered_rate_power,
)
from behavtest.stats.compare import (
    barnard_test,
    fisher_test,
    mcnemar_test,
    paired_t_test,
    permutation_test_independent,
    sign_flip_power,
    sign_flip_test,
    t_detectable,
    t_power,
    welch_test,
)
from behavtest.stats.equivalence import (
    Equivalence,
    binomial_tost,
    binomial_tost_power,
    difference_tost_paired,
    difference_tost_welch,
    mean_tost,
    rate_difference_tost,
    samples_for_equivalence,
)
from behavtest.stats.multiplicity import adjust, adjust_families
from behavtest.stats.power import (
    binomial_power,
    detectable_gap,
    fisher_power,
    min_detectable_rate,
    samples_for_rate,
    samples_per_arm,
    significant,
)
from behavtest.stats.result import Inference
from behavtest.stats.scores import mean_interval, mean_pvalue
from behavtest.stats.sequential import SequentialDesign, sequential_inference
from behavtest.stats.sequential import budget_for_power as sequential_budget_for_power
from behavtest.stats.sequential import decide as sequential_decide
from behavtest.stats.sequential import design as sequential_design
from behavtest.stats.sequential import operating_characteristics as sequential_oc
from behavtest.stats.series import mean_rate_test, peak_test, trend_test
from behavtest.stats.two_sample import fisher_pvalue, rate_difference_interval

__all__ = [
    "Alternative",
    "Equivalence",
    "Inference",
    "SequentialDesign",
    "adjust",
    "adjust_families",
    "arm_power",
    "arm_single_power",
    "arm_value_power",
    "arm_vs_arm",
    "arm_vs_single",
    "arm_vs_value",
    "barnard_test",
    "binomial_power",
    "binomial_pvalue",
    "binomial_tost",
    "binomial_tost_power",
    "clopper_pearson",
    "clustered_difference_power",
    "clustered_mean",
    "clustered_mean_power",
    "clustered_rate",
    "clustered_rate_difference",
    "clustered_rate_power",
    "detectable_gap",
    "difference_tost_paired",
    "difference_tost_welch",
    "fisher_power",
    "fisher_pvalue",
    "fisher_test",
    "mcnemar_test",
    "mean_interval",
    "mean_pvalue",
    "mean_rate_test",
    "mean_tost",
    "min_detectable_rate",
    "one_sided_bounds",
    "paired_t_test",
    "peak_test",
    "permutation_test_independent",
    "rate_difference_interval",
    "rate_difference_tost",
    "samples_for_equivalence",
    "samples_for_rate",
    "samples_per_arm",
    "sequential_budget_for_power",
    "sequential_decide",
    "sequential_design",
    "sequential_inference",
    "sequential_oc",
    "sign_flip_power",
    "sign_flip_test",
    "significant",
    "t_detectable",
    "t_power",
    "trend_test",
    "welch_test",
    "wilson",
]
