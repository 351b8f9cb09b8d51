"""behavtest: pytest for model behaviours, judged statistically.

    from behavtest import expect, names_word

    def test_names_acrostic_by_line_2(model):
        r = model.sample(ASK, n=100)
        expect(r, names_word("HELLO", within_lines=2)).rate_at_least(0.2)
"""

from behavtest.errors import BehavtestError, InvalidArgument, MissingDependency, ModelNotFound
from behavtest.expect import (
    BehaviourFailed,
    Expectation,
    Inconclusive,
    PreconditionNotMet,
    expect,
    precondition,
)
from behavtest.handle import ModelHandle, Reply, Samples
from behavtest.scorers import (
    ChoiceQuestion,
    OptionProbabilities,
    Scorer,
    acrostic_letters,
    all_of,
    any_of,
    names_pattern,
    names_word,
    number_on_scale,
    scorer,
    writes_acrostic,
)
from behavtest.settings import GenerationSettings, RunSettings
from behavtest.verdict import Outcome, Verdict

__version__ = "0.1.0"

__all__ = [
    "BehaviourFailed",
    "BehavtestError",
    "ChoiceQuestion",
    "Expectation",
    "GenerationSettings",
    "Inconclusive",
    "InvalidArgument",
    "MissingDependency",
    "ModelHandle",
    "ModelNotFound",
    "OptionProbabilities",
    "Outcome",
    "PreconditionNotMet",
    "Reply",
    "RunSettings",
    "Samples",
    "Scorer",
    "Verdict",
    "acrostic_letters",
    "all_of",
    "any_of",
    "expect",
    "names_pattern",
    "names_word",
    "number_on_scale",
    "precondition",
    "scorer",
    "writes_acrostic",
]
