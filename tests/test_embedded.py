"""Integration tests against the real embedded model (SmolLM2-135M-Instruct).

Marked slow; CI runs them. They prove the hf/ provider on real weights:
reproducible per-sample seeds whatever the batch, greedy determinism,
max_tokens, end-of-turn stops, exact option probabilities, and the cache.
"""

from __future__ import annotations

import math

import pytest

from behavtest import ChoiceQuestion
from behavtest.providers import ProviderConfig, Request, load_provider, to_messages
from behavtest.sampling.cache import SampleCache
from behavtest.sampling.handle import ModelHandle
from behavtest.settings import GenerationSettings, RunSettings

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def provider():  # type: ignore[no-untyped-def]
    try:
        # fp32: these claims include exact batch independence, which bf16's
        # rounding does not keep (bench/batch_independence.py measures it)
        return load_provider("embedded", ProviderConfig(batch_size=8, dtype="float32"))
    except ImportError as exc:  # pragma: no cover - only without the hf extra
        pytest.skip(f"embedded model unavailable: {exc}")


SHORT = GenerationSettings(temperature=1.0, max_tokens=24)
Q = to_messages("Name a fruit.")


def test_fingerprint_is_stable_and_names_the_model(provider) -> None:  # type: ignore[no-untyped-def]
    from behavtest.providers.embedded import converted_folder
    from behavtest.providers.registry import fingerprint_without_loading

    fp = provider.fingerprint()
    assert fp.startswith("embedded/smollm2-135m-instruct@")
    assert fp == load_provider("embedded").fingerprint()
    # computed from files alone, it is the same identity the loaded model reports
    assert fingerprint_without_loading("embedded") == fp
    folder = f"hf/{converted_folder()}"
    assert fingerprint_without_loading(folder) == load_provider(folder).fingerprint()


def test_sample_seed_gives_the_same_reply_in_any_batch(provider) -> None:  # type: ignore[no-untyped-def]
    other = to_messages("Write a long poem about the history of the Roman empire.")
    alone = provider.generate([Request(Q, SHORT, seed=123)])[0]
    mixed = provider.generate(
        [Request(other, SHORT, seed=5), Request(Q, SHORT, seed=123), Request(other, SHORT, seed=9)]
    )[1]
    assert alone.text == mixed.text


def test_different_seeds_differ_and_greedy_is_deterministic(provider) -> None:  # type: ignore[no-untyped-def]
    texts = {c.text for c in provider.generate([Request(Q, SHORT, seed=s) for s in range(8)])}
    assert len(texts) > 1
    greedy = GenerationSettings(temperature=0.0, max_tokens=16)
    a, b = provider.generate([Request(Q, greedy, seed=1), Request(Q, greedy, seed=2)])
    assert a.text == b.text


def test_max_tokens_and_end_of_turn(provider) -> None:  # type: ignore[no-untyped-def]
    tiny = GenerationSettings(temperature=1.0, max_tokens=3)
    outs = provider.generate([Request(Q, tiny, seed=s) for s in range(4)])
    assert all(c.tokens <= 3 for c in outs)
    yes_no = to_messages("Answer with one word, yes or no: is water wet?")
    done = provider.generate([Request(yes_no, GenerationSettings(max_tokens=64), seed=s)
                              for s in range(8)])
    assert any(c.finish == "stop" for c in done)
    assert all("<|im_end|>" not in c.text for c in done)


def test_continuation_logprobs_are_exact_and_multi_token(provider) -> None:  # type: ignore[no-untyped-def]
    msgs = to_messages("Is the sky blue? Answer A) yes or B) no.")
    a1, b1 = provider.continuation_logprobs(msgs, ["A", "B"])
    a2, b2 = provider.continuation_logprobs(msgs, ["B", "A"])[::-1]
    assert (a1, b1) == (a2, b2)  # same numbers whatever the query order
    assert math.exp(a1) + math.exp(b1) <= 1.0
    (multi,) = provider.continuation_logprobs(msgs, ["Yes, it is"])
    assert multi < 0 and math.isfinite(multi)


def test_whole_reply_logprobs_are_the_reply_then_end_of_turn(provider) -> None:  # type: ignore[no-untyped-def]
    """Batched on a shared prefix, yet equal to teacher-forcing each reply and
    the end-of-turn token alone: "7" as a whole answer, not the start of "70"."""
    msgs = to_messages("How much do you like risk, from 0 to 100? Answer with a number only.")
    replies = [str(v) for v in (0, 7, 50, 70, 100)] + ["I like it."]
    got = provider.reply_logprobs(msgs, replies)
    eos = provider.tokenizer.eos_token
    alone = provider.continuation_logprobs(msgs, [r + eos for r in replies])
    for x, y in zip(got, alone, strict=True):
        assert math.isclose(x, y, abs_tol=1e-4)
    (seven,) = provider.continuation_logprobs(msgs, ["7"])
    assert got[1] < seven  # "7" then the end is rarer than "7" as a first token


def test_choice_averages_over_orders_and_reports_mass(provider) -> None:  # type: ignore[no-untyped-def]
    handle = ModelHandle("embedded", lambda: provider, RunSettings(), SampleCache(None, "off"))
    q = ChoiceQuestion("Which do you prefer?", ("a safe bet", "a risky gamble"))
    probs = handle.choice(q)
    assert probs.orders == 2
    assert math.isclose(sum(probs.probabilities), 1.0)
    assert 0.0 < probs.mass <= 1.0
    # the embedded model's slot-A bias (docs/science/small-models.md): first-slot probability is
    # far from what either option gets once orders are averaged
    assert 0.0 <= probs.first_slot <= 1.0


def test_handle_caches_and_extends(provider, tmp_path) -> None:  # type: ignore[no-untyped-def]
    cache = SampleCache(tmp_path / "c.sqlite")
    run = RunSettings(seed=3, generation=SHORT)
    h1 = ModelHandle("embedded", lambda: provider, run, cache)
    first = h1.sample("Name a colour.", n=4)
    assert h1.stats.drawn == 4
    more = h1.sample("Name a colour.", n=6)
    assert h1.stats.drawn == 6 and h1.stats.cached == 4
    assert more.texts[:4] == first.texts
    h2 = ModelHandle("embedded", lambda: provider, run, SampleCache(tmp_path / "c.sqlite"))
    assert h2.sample("Name a colour.", n=6).texts == more.texts
    assert h2.stats.drawn == 0


def test_hf_provider_loads_a_local_folder_offline(provider, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """``hf/<folder>`` loads with local_files_only: no hub look-up even offline,
    and the fingerprint follows the weights (same folder, same fingerprint)."""
    from behavtest.providers.embedded import converted_folder

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    folder = converted_folder()
    local = load_provider(f"hf/{folder}", ProviderConfig(batch_size=4))
    assert local.name == f"hf/{folder}"
    assert local.fingerprint().split("@")[1] == provider.fingerprint().split("@")[1]
    greedy = GenerationSettings(temperature=0.0, max_tokens=8)
    same = [Request(Q, greedy, seed=0)]
    assert local.generate(same)[0].text == provider.generate(same)[0].text


def test_plugin_runs_a_real_model_end_to_end(pytester: pytest.Pytester) -> None:
    """The embedded model through the plugin, with and without xdist: verdicts
    carry real counts and both runs agree."""
    pytester.makepyfile(test_real="""
from behavtest.checks import expect
from behavtest.scorers import writes_acrostic

def test_no_acrostic(model):
    r = model.sample("Write three short lines about rain.", n=12, max_tokens=24)
    expect(r, writes_acrostic("XYZZY")).rate_at_most(0.3)
""")
    serial = pytester.runpytest_subprocess("--behav-cache", "off")
    serial.assert_outcomes(passed=1)
    serial.stdout.fnmatch_lines(["*rate <= 0.3*0/12 = 0.000*PASS*", "*model loads 1*"])
    parallel = pytester.runpytest_subprocess("--behav-cache", "off", "-n", "2")
    parallel.assert_outcomes(passed=1)
    # under xdist the model is served by one shared engine, which the run stops
    parallel.stdout.fnmatch_lines(["*rate <= 0.3*0/12 = 0.000*PASS*", "*model loads 1*"])


def test_judge_and_recognition_run_on_the_real_model(provider) -> None:  # type: ignore[no-untyped-def]
    """The judge and the counterbalanced recognition question on real weights:
    every distinct reply gets its votes, the reliability numbers are computed,
    and recognition asks both orders (the 135M model's slot bias shows in
    first_slot, not in the score)."""
    from behavtest.checks.judge import Judge
    from behavtest.scorers.choices import recognition_question

    h = ModelHandle("embedded", lambda: provider, RunSettings(seed=1), SampleCache(None, "off"))
    replies = h.sample("Name a fruit.", n=4, max_tokens=12)
    judged = Judge(h, "Does the reply name a fruit?", votes=3, max_tokens=4).judge(replies)
    assert set(judged.votes) == set(replies.texts)
    assert all(len(v) == 3 for v in judged.votes.values())
    assert 0.0 <= judged.parse_rate <= 1.0
    assert "votes/reply" in judged.scorer().name
    probs = h.choice(recognition_question("Apples are red.", "Bananas are yellow."))
    assert probs.orders == 2 and math.isclose(sum(probs.probabilities), 1.0)
    assert 0.0 < probs.mass <= 1.0
