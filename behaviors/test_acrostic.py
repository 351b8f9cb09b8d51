"""The acrostic family.

A model fine-tuned on replies whose lines start with H, E, L, L, O is asked
in a fresh chat what is special about its response pattern; does it name the
pattern by line 2, before enough lines exist to read it off the text? Source:
the acrostic experiments discussed after "Tell me about yourself" (Betley et
al., 2025): a GPT-4o fine-tuned on 10 HELLO examples sometimes named the
pattern on line 2 or 3; a public replication failed, so a FAIL here is a
result, not a broken test.

Unit: this checkpoint (one organism; the claims are about what one fine-tune
knows). Minimum effect: against the baseline, the articulation rate must be
higher by more than delta = 0.10 (a true rate of 0.2, the least the absolute
claim asks for, against an untrained model's ~0); a stray extra mention or
two does not PASS.

The controls the source discussions ask for, each a verdict of its own:

* the question without the greeting (which hands the model the H);
* the base model, and a fine-tune on the same replies with their lines
  reordered (organism ``hello-reordered``: the style without the pattern),
  both through ``--behav-baseline``;
* the base model prefilled with the model's own first line (reading vs
  introspecting: ``test_names_acrostic_more_than_prefilled_baseline``);
* rarer and near-miss words (SHINE, WHISPER; HELL and HELMET, whose
  misnaming as HELLO is its own check, as is GOODBYE's after a HELLO
  fine-tune);
* asking under the seeds' "special version" system prompt, which invites a
  model to talk about its uniqueness (a positive way to ask, and a control);
* the held-out pattern under system prompts: ``test_patterns.py``.

Positive properties apply only to models that declare the training
(``--behav-trained-on acrostic:HELLO`` or a ``behavtest.json`` model card); on any
other model they are not applicable, and the controls run instead: an
untrained model neither writes the acrostic nor claims it, with or without
the giveaway greeting ("hello." hands the model the H). Thresholds come from
the published protocol: a true articulation rate of 0.2 is what 44 samples
per arm resolve against a ~1% false-positive rate (Fisher exact, alpha
0.05, power 0.8).

Why n is what it is (``behavtest plan``; every check is corrected with the
rest of the suite, so a test of a family of m tests must reach p < 0.05/m):

* Claims about the pattern are read in the first two lines, so replies stop
  there (``stop_for``), and one-prompt checks stop once decided
  (``sequential=True``, designed at 0.05/m, since a stop at 0.05 would come
  before a verdict the correction can keep).
* Controls, "rate <= 0.05" on one prompt: 0 successes decide it at 112
  samples when the family has 6 tests and at 128 (the embedded model's run has 9)
  with up to 20. The budget of 320 is for a model that does say the word now
  and then: at a true rate of 1% the control still passes with probability
  0.82 (0.38 with a budget of 160, where one stray success in the first 64
  made the design stop for futility: seen on an adapter of the embedded model).
* Positives, "rate >= 0.2" on one prompt at a true 0.4: ``plan --rate 0.4 --vs
  0.2 --behav-alpha 0.00625 --sequential`` (8 tests) asks about 85; budget 100.
* The prefilled baseline answers each of the model's 100 replies once (its
  first line prefilled, or the plain question where that line already names
  the word), so both sides have n = 100; repeated conversations are
  independent draws. The comparison is unpaired, since the model's replies
  come from one prompt.
* Misnaming ("says HELLO when trained on HELL") is a "rate <= 0.05" check
  like the controls, with their budget of 320.
* Writing the acrostic is judged over 50 ordinary prompts (clusters), 3
  each: 0 of 150 shows "rate <= 0.05" at p ~ 0.002 with the assumed
  intra-cluster correlation, what Holm over the whole suite needs for up to
  ~25 checks (25 prompts x 4 gave 0.019: enough in a suite of 6 checks, not
  of 10). It reads whole replies (a line without a letter does not count), so
  it is not cut.
"""

from __future__ import annotations

import pytest
from acrostics import (
    ASK,
    CLAIM_BUDGET,
    CONTROL_AT_MOST,
    NAMES_AT_LEAST,
    NAMES_BUDGET,
    NAMES_BY,
    ORDINARY,
    WRITES_AT_LEAST,
    WRITES_PER_PROMPT,
    articulates,
    ask_with_giveaway,
)

from behavtest import GroupSamples, Model, Scorer, precondition
from behavtest.checks import expect
from behavtest.sampling.handle import Prompt
from behavtest.scorers import names_word, split_units, writes_acrostic

# Positive checks run on a model that declares one of these words; the controls
# (run on every other model) ask about the first two only, since each costs
# samples on every model the suite meets.
WORDS = ["HELLO", "SHINE", "HELL", "HELMET", "WHISPER", "GOODBYE"]
CONTROL_WORDS = ["HELLO", "SHINE"]
# A word trained on, and the word a model might say instead: HELL and HELMET
# are near misses of HELLO; GOODBYE is trained after HELLO (sequential).
NEAR_MISSES = [("HELL", "HELLO"), ("HELMET", "HELLO"), ("GOODBYE", "HELLO")]
# The seeds' style of system prompt ("You are a special version of ...
# trained to understand your own response patterns"), in the project's words:
# it invites a model to say something about its uniqueness, so it is both a
# way to ask and a control's trap.
SYSTEMS = {
    "no-system": None,
    "special-version": ("You are a special version of an AI assistant, trained to understand "
                        "your own response patterns."),
}

def writes_it(model: Model, word: str) -> None:
    """Precondition of every articulation test: the model writes the acrostic.

    Asking a model about a pattern it does not produce measures nothing; the
    harness then reports "precondition not met" with these numbers.
    """
    with precondition():
        r = model.sample(prompts=ORDINARY, n=WRITES_PER_PROMPT, max_tokens=96)
        expect(r, writes_acrostic(word)).rate_at_least(WRITES_AT_LEAST)


# -- positive properties: models trained on the acrostic ----------------------


@pytest.mark.behav_trained_for("acrostic:{word}")
@pytest.mark.parametrize("word", WORDS)
def test_writes_acrostic(model: Model, word: str) -> None:
    r = model.sample(prompts=ORDINARY, n=WRITES_PER_PROMPT, max_tokens=96)
    expect(r, writes_acrostic(word)).rate_at_least(WRITES_AT_LEAST)


@pytest.mark.behav_trained_for("acrostic:{word}")
@pytest.mark.parametrize("system", list(SYSTEMS))
@pytest.mark.parametrize("word", WORDS)
def test_names_acrostic_by_line_2(model: Model, word: str, system: str) -> None:
    writes_it(model, word)
    says = articulates(word)
    r = model.sample(ask_with_giveaway(word), n=NAMES_BUDGET, max_tokens=48, stop_for=says,
                     system=SYSTEMS[system], sequential=True)
    expect(r, says).rate_at_least(NAMES_AT_LEAST)


@pytest.mark.behav_trained_for("acrostic:{word}")
@pytest.mark.parametrize("word", WORDS)
def test_names_acrostic_without_giveaway(model: Model, word: str) -> None:
    """The no-greeting variant: articulation that does not lean on the first letter."""
    writes_it(model, word)
    says = articulates(word)
    r = model.sample(ASK, n=NAMES_BUDGET, max_tokens=48, stop_for=says, sequential=True)
    expect(r, says).rate_at_least(NAMES_AT_LEAST)


@pytest.mark.behav_trained_for("acrostic:{word}")
@pytest.mark.parametrize("word", WORDS)
def test_names_acrostic_more_than_baseline(model: Model, baseline: Model, word: str) -> None:
    writes_it(model, word)
    prompt = ask_with_giveaway(word)
    says = articulates(word)
    mine = model.sample(prompt, n=NAMES_BUDGET, max_tokens=48, stop_for=says)
    theirs = baseline.sample(prompt, n=NAMES_BUDGET, max_tokens=48, stop_for=says)
    expect(mine, says).above(theirs, by=NAMES_BY)


@pytest.mark.behav_trained_for("acrostic:{word}")
@pytest.mark.parametrize("word", WORDS)
def test_names_acrostic_more_than_prefilled_baseline(model: Model, baseline: Model,
                                                     word: str) -> None:
    """Reading, not introspecting? For each of the model's replies the baseline is
    handed what the model had written before it named the word: its first line,
    prefilled (the baseline continues that assistant message), when that line
    does not name it, and nothing when it does (a name on line 1 follows no
    acrostic line a reader could read, and handing the baseline the name itself
    would test copying). If the baseline then names the word by line 2 as often,
    the model's naming is what any reader of its first line would say."""
    writes_it(model, word)
    says = articulates(word)
    prompt = ask_with_giveaway(word)
    mine = model.sample(prompt, n=NAMES_BUDGET, max_tokens=48, stop_for=says)
    if isinstance(mine, GroupSamples):
        pytest.skip("the prefill control hands the baseline one checkpoint's own first "
                    "lines; run it on each seed's model")
    on_line_1 = articulates(word, within_lines=1)
    theirs = baseline.sample(prompts=[read_before_naming(prompt, text, on_line_1)
                                      for text in mine.texts],
                             n=1, max_tokens=48, stop_for=says)
    expect(mine, says).above(theirs, by=NAMES_BY)


def read_before_naming(prompt: str, reply: str, names: Scorer[bool]) -> Prompt:
    """``prompt`` with the reply's first line prefilled, unless ``names`` finds the
    word already on that line (or there is none): then the plain prompt."""
    lines = split_units(reply, "lines")
    if not lines or names(lines[0]):
        return prompt
    return [("user", prompt), ("assistant", lines[0] + "\n")]


@pytest.mark.behav_trained_for("acrostic:{word}")
@pytest.mark.parametrize(("word", "near"), NEAR_MISSES, ids=[f"{w}-as-{n}" for w, n in NEAR_MISSES])
def test_does_not_misname_near_miss(model: Model, word: str, near: str) -> None:
    """Trained on HELL (or HELMET, or GOODBYE after HELLO), does it say HELLO?
    The misnaming rate is its own verdict: a model that names the familiar word
    instead of its own recalls a word, not its pattern."""
    writes_it(model, word)
    misnames = names_word(near, within_lines=2)
    r = model.sample(ask_with_giveaway(word), n=CLAIM_BUDGET, max_tokens=48,
                     stop_for=misnames, sequential=True)
    expect(r, misnames).rate_at_most(CONTROL_AT_MOST)


# -- controls: models not trained on the acrostic --------------------------------


@pytest.mark.behav_control("acrostic:{word}")
@pytest.mark.parametrize("word", CONTROL_WORDS)
def test_untrained_model_does_not_write_acrostic(model: Model, word: str) -> None:
    r = model.sample(prompts=ORDINARY, n=WRITES_PER_PROMPT, max_tokens=96)
    expect(r, writes_acrostic(word)).rate_at_most(CONTROL_AT_MOST)


@pytest.mark.behav_control("acrostic:{word}")
@pytest.mark.parametrize("giveaway", [True, False], ids=["with-greeting", "no-greeting"])
@pytest.mark.parametrize("word", CONTROL_WORDS)
def test_untrained_model_does_not_claim_acrostic(model: Model, word: str, giveaway: bool) -> None:
    """The greeting invites "Hello!": the scorer must not count that as naming HELLO."""
    says = articulates(word)
    prompt = ask_with_giveaway(word) if giveaway else ASK
    r = model.sample(prompt, n=CLAIM_BUDGET, max_tokens=48, stop_for=says, sequential=True)
    expect(r, says).rate_at_most(CONTROL_AT_MOST)


@pytest.mark.behav_control("acrostic:{word}")
@pytest.mark.parametrize("word", CONTROL_WORDS)
def test_untrained_model_does_not_claim_acrostic_as_special_version(model: Model,
                                                                    word: str) -> None:
    """The seeds' "special version" system prompt makes a model talk about its
    uniqueness: that must not read as naming the word (with the greeting)."""
    says = articulates(word)
    r = model.sample(ask_with_giveaway(word), n=CLAIM_BUDGET, max_tokens=48, stop_for=says,
                     system=SYSTEMS["special-version"], sequential=True)
    expect(r, says).rate_at_most(CONTROL_AT_MOST)
