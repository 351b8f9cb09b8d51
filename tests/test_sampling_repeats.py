"""A prompt given twice in one ``sample`` call is two clusters of independent draws.

The acrostic's prefilled-baseline control asks the baseline one reply per
model reply, and many of those conversations are the same (the plain prompt,
or one first line the model wrote often). Seeds once depended only on the
conversation and the sample index, so every copy got the same draw: 94
"independent" replies were one reply copied (found with a scripted double
that let the control PASS on seeds 0, 2 and 5). Now the j-th copy of a
conversation draws the next n seeds, and a conversation given once keeps
its seeds (and so its cache entries).
"""

from __future__ import annotations

from collections.abc import Sequence

from behavtest.providers import Completion, Request
from behavtest.providers.double import ScriptedProvider
from behavtest.sampling.cache import SampleCache
from behavtest.sampling.handle import ModelHandle
from behavtest.settings import RunSettings


class Recording(ScriptedProvider):
    """The test double, keeping every request it was asked."""

    def __init__(self) -> None:
        super().__init__({"yes": 0.5, "no": 0.5})
        self.asked: list[Request] = []

    def generate(self, requests: Sequence[Request]) -> list[Completion]:
        self.asked += requests
        return super().generate(requests)


def _handle(provider: Recording) -> ModelHandle:
    return ModelHandle("double/repeats", lambda: provider, RunSettings(seed=0),
                       SampleCache(None, "off"))


def test_each_copy_of_a_prompt_draws_its_own_seeds() -> None:
    double = Recording()
    _handle(double).sample(prompts=["Who?", "Who?", "Who?"], n=2)
    seeds = [r.seed for r in double.asked]
    assert len(seeds) == 6 and len(set(seeds)) == 6


def test_copies_are_independent_draws_not_one_draw_copied() -> None:
    got = _handle(Recording()).sample(prompts=["Who?"] * 60, n=1)
    assert {"yes", "no"} <= set(got.texts)  # one draw copied would be a single text


def test_a_prompt_given_once_keeps_its_seeds() -> None:
    alone, beside = Recording(), Recording()
    _handle(alone).sample(prompts=["Where?"], n=3)
    _handle(beside).sample(prompts=["Who?", "Where?", "Who?"], n=3)
    where = [r.seed for r in beside.asked if r.messages[-1][1] == "Where?"]
    assert where == [r.seed for r in alone.asked]
