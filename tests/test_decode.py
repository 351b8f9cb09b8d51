"""Continuous batching and cuts on the real embedded model (slow; CI runs them).

The decoder lets rows join and leave between steps and shares one prefill
between the rows of a prompt; these prove it changes no sample: a row gives
the same reply alone, in a batch smaller than the work (rows refilled as
others finish), beside rows of other settings, and sharing its prompt's
prefill. A cut reply (``stop_after_lines``) is the start of the same sample
uncut, and costs fewer tokens. No call of ours draws a deprecation warning
from transformers.
"""

from __future__ import annotations

import warnings
from typing import Any

import pytest

from behavtest.providers import ProviderConfig, Request, load_provider, to_messages
from behavtest.providers.hf import HFOptions, HFProvider
from behavtest.settings import GenerationSettings, lines_complete

pytestmark = pytest.mark.slow

SAMPLED = GenerationSettings(temperature=1.0, max_tokens=20)
GREEDY = GenerationSettings(temperature=0.0, max_tokens=12)
LIST = to_messages("List four animals, one per line.")


@pytest.fixture(scope="module")
def provider() -> Any:
    # fp32: the claim is exact batch independence, which bf16's rounding does not
    # keep (bench/batch_independence.py measures how often it changes a reply)
    return load_provider("embedded", ProviderConfig(batch_size=16, dtype="float32"))


def requests() -> list[Request]:
    questions = ["Name a colour.", "Describe the sea in two sentences.", "What is 3 + 4?"]
    out = []
    for i in range(12):  # the same prompt several times: a shared prefill
        settings = GREEDY if i % 4 == 3 else SAMPLED
        out.append(Request(to_messages(questions[i % 3]), settings, seed=500 + i))
    return out


def test_a_row_is_the_same_alone_refilled_mixed_and_shared(provider: Any) -> None:
    reqs = requests()
    together = provider.generate(reqs)
    small = HFProvider(str(provider.model.name_or_path), HFOptions(batch_size=3, dtype="float32"))
    refilled = small.generate(reqs)  # 3 rows at a time: rows join as others leave
    alone = [provider.generate([r])[0] for r in reqs[:6]]
    assert [c.text for c in refilled] == [c.text for c in together]
    assert [c.text for c in alone] == [c.text for c in together[:6]]
    assert len({c.text for c, r in zip(together, reqs, strict=True) if r.settings is SAMPLED}) > 3


def test_rows_of_one_prompt_share_one_prefill(provider: Any) -> None:
    decoder = provider.decoder(16)
    decoder.add([(i, Request(LIST, SAMPLED, seed=i)) for i in range(8)])
    assert decoder.prefills == 1 and decoder.active == 8
    while decoder.active:
        decoder.step()


def test_a_cut_reply_is_the_start_of_the_uncut_one(provider: Any) -> None:
    cut_settings = GenerationSettings(temperature=1.0, max_tokens=60, stop_after_lines=2)
    uncut_settings = cut_settings.uncut()
    seeds = range(6)
    cut = provider.generate([Request(LIST, cut_settings, seed=s) for s in seeds])
    uncut = provider.generate([Request(LIST, uncut_settings, seed=s) for s in seeds])
    assert any(c.finish == "lines" for c in cut)
    for c, u in zip(cut, uncut, strict=True):
        assert u.text.startswith(c.text)
        if c.finish == "lines":
            assert lines_complete(c.text, 2) and c.tokens < u.tokens
        else:  # never reached two lines: the whole reply
            assert c.text == u.text


def test_no_deprecation_warning_from_our_calls(provider: Any) -> None:
    """transformers 5.24 deprecates ``past_key_values`` (removed in 5.40): sampling
    and option probabilities pass the cache the way it documents now."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        warnings.simplefilter("error", FutureWarning)
        provider.generate([Request(LIST, SAMPLED, seed=1)])
        provider.continuation_logprobs(LIST, ["Cat", "A dog"])
