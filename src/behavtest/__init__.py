"""behavtest: pytest for model behaviours, judged statistically.

    from behavtest import Model

    from behavtest.checks import expect
    from behavtest.scorers import names_word

    def test_names_acrostic_by_line_2(model: Model) -> None:
        r = model.sample(ASK, n=100)
        expect(r, names_word("HELLO", within_lines=2)).rate_at_least(0.2)

The top level holds what a behaviour test uses: the ``model``/``baseline``
types and their samples, ``expect`` and ``precondition``, scorer building
blocks, the LLM judge, verdicts, and the exception tree. Scorers for
particular behaviours live in :mod:`behavtest.scorers`, statistics in
:mod:`behavtest.stats`, providers in :mod:`behavtest.providers`. A suite opts
in to the pytest plugin with ``pytest_plugins = ["behavtest.plugin"]`` in its
top-level ``conftest.py``.
"""

from behavtest.checks.expect import Expectation, expect, precondition
from behavtest.checks.group import GroupSamples, Model, ModelGroup
from behavtest.checks.judge import Judge
from behavtest.errors import (
    BehavtestError,
    InvalidArgument,
    MissingDependency,
    ModelNotFound,
    PrefillUnsupported,
    ProviderError,
)
from behavtest.sampling.handle import ModelHandle, Reply, Samples
from behavtest.scorers import ChoiceQuestion, OptionProbabilities, Scorer, all_of, any_of, scorer
from behavtest.settings import GenerationSettings, RunSettings
from behavtest.verdict import (
    BehaviourFailed,
    Inconclusive,
    Outcome,
    PreconditionNotMet,
    Verdict,
)

__version__ = "0.1.0"

__all__ = [
    "BehaviourFailed",
    "BehavtestError",
    "ChoiceQuestion",
    "Expectation",
    "GenerationSettings",
    "GroupSamples",
    "Inconclusive",
    "InvalidArgument",
    "Judge",
    "MissingDependency",
    "Model",
    "ModelGroup",
    "ModelHandle",
    "ModelNotFound",
    "OptionProbabilities",
    "Outcome",
    "PrefillUnsupported",
    "PreconditionNotMet",
    "ProviderError",
    "Reply",
    "RunSettings",
    "Samples",
    "Scorer",
    "Verdict",
    "__version__",
    "all_of",
    "any_of",
    "expect",
    "precondition",
    "scorer",
]
