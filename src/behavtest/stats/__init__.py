"""Pure statistics over counts and scores: no model, no pytest.

Every test returns an ``Inference`` (an estimate, its 1 - 2*alpha interval and
one-sided p-values both ways), and ``decide`` turns the two p-values of a claim
into PASS, FAIL or INCONCLUSIVE. The names below are what the harness uses and
what a check written by hand needs; everything else is internal to its module.

Each function delegates to scipy/statsmodels where they already compute the
thing (the tests check agreement to 1e-9), and says so in its docstring.
scipy and statsmodels are imported inside the functions: the pytest plugin
imports this package, and every pytest run in the environment would
otherwise pay ~2 s for them.

Modules: ``result`` (the answer and the verdict rule), ``power`` (the
significance rule, exact binomial and Fisher planning), ``binomial`` and
``two_sample`` (exact one- and two-sample rates, score tests), ``spread``
(zero-spread conventions of the t tests), ``unpaired`` and ``paired``
(model vs baseline), ``t_planning`` (t-test power), ``clustered`` and
``rao_scott`` (replies clustered in prompts), ``arms`` (the model as the unit),
``series`` (checkpoints), ``equivalence`` (TOST), ``multiplicity`` (suites),
``sequential`` (group-sequential designs, a package).
"""

from behavtest.stats.arms import arm_power, arm_vs_arm, arm_vs_single, arm_vs_value
from behavtest.stats.binomial import binomial_pvalue, one_sided_bounds
from behavtest.stats.clustered import clustered_mean, clustered_rate
from behavtest.stats.equivalence import binomial_tost_power, samples_for_equivalence, tost
from behavtest.stats.multiplicity import adjust_families
from behavtest.stats.paired import mcnemar_test, paired_t_test
from behavtest.stats.power import (
    detectable_gap,
    min_detectable_rate,
    samples_for_rate,
    samples_per_arm,
    significant,
)
from behavtest.stats.rao_scott import clustered_rate_difference
from behavtest.stats.result import Inference, Outcome, check_alpha, decide
from behavtest.stats.sequential.build import sequential_design
from behavtest.stats.sequential.design import SequentialDesign, sequential_decide
from behavtest.stats.sequential.inference import sequential_inference
from behavtest.stats.sequential.planning import (
    sequential_budget_for_power,
    sequential_detectable,
    sequential_oc,
)
from behavtest.stats.series import mean_rate_test, peak_test, trend_test
from behavtest.stats.t_planning import t_detectable
from behavtest.stats.unpaired import fisher_test, welch_test

__all__ = [
    "Inference",
    "Outcome",
    "SequentialDesign",
    "adjust_families",
    "arm_power",
    "arm_vs_arm",
    "arm_vs_single",
    "arm_vs_value",
    "binomial_pvalue",
    "binomial_tost_power",
    "check_alpha",
    "clustered_mean",
    "clustered_rate",
    "clustered_rate_difference",
    "decide",
    "detectable_gap",
    "fisher_test",
    "mcnemar_test",
    "mean_rate_test",
    "min_detectable_rate",
    "one_sided_bounds",
    "paired_t_test",
    "peak_test",
    "samples_for_equivalence",
    "samples_for_rate",
    "samples_per_arm",
    "sequential_budget_for_power",
    "sequential_detectable",
    "sequential_decide",
    "sequential_design",
    "sequential_inference",
    "sequential_oc",
    "significant",
    "t_detectable",
    "tost",
    "trend_test",
    "welch_test",
]
