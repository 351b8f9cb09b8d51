"""Checks: from a model's scored replies to a verdict.

``expect(samples, scorer)`` scores the data once (:mod:`.scored`), the data's
shape picks the test (:mod:`.selection`), and the check returns a verdict or
ends the test with it. Groups of models (arms of seeds, :mod:`.group`), claims
over checkpoint series (:mod:`.series`) and LLM judges (:mod:`.judge`) live
beside it; :mod:`.context` holds the run-wide defaults the plugin sets per test.
"""

from behavtest.checks.expect import Expectation, expect, precondition
from behavtest.checks.group import GroupSamples, Model, ModelGroup
from behavtest.checks.judge import Judge

__all__ = ["Expectation", "GroupSamples", "Judge", "Model", "ModelGroup", "expect",
           "precondition"]
