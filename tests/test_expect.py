"""expect(): which test the shape of the data calls for, and the verdict it gives.

Samples are built directly (exact counts, no sampling) so each case states
its data; the statistics themselves are proven in the test_stats_* files.
The sequential, judge and recognition cases run end to end on the scripted
test double.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from scipy import stats as sps

from behavtest import Scorer, stats
from behavtest.checks import expect
from behavtest.checks.context import unrecorded
from behavtest.checks.expect import Expectation
from behavtest.checks.group import GroupSamples, ModelGroup
from behavtest.checks.judge import Judge, parse_vote
from behavtest.errors import InvalidArgument
from behavtest.providers.base import to_messages
from behavtest.providers.double import ScriptedProvider
from behavtest.sampling.cache import SampleCache
from behavtest.sampling.handle import ModelHandle, Reply, Samples
from behavtest.scorers.choices import recognition_question
from behavtest.settings import GenerationSettings, RunSettings
from behavtest.verdict import BehaviourFailed, Inconclusive, Outcome, Verdict

YES = Scorer("says yes", lambda t: t == "yes")
NUMBER = Scorer("number", lambda t: float(t) if t.replace(".", "").isdigit() else None)
ALPHA = 0.05


def samples(yes_per_prompt: Sequence[int], n: int, model: str = "m", prompt: str = "q") -> Samples:
    """Samples with the given number of 'yes' replies out of n for each prompt."""
    prompts = tuple(to_messages(f"{prompt} {i}") for i in range(len(yes_per_prompt)))
    replies = tuple(
        Reply("yes" if i < k else "no", p, i, 1, "stop", False)
        for p, k in enumerate(yes_per_prompt)
        for i in range(n)
    )
    return Samples(model, prompts, GenerationSettings(), replies)


def numbers(
    values_per_prompt: Sequence[Sequence[float]], model: str = "m", prompt: str = "q"
) -> Samples:
    prompts = tuple(to_messages(f"{prompt} {i}") for i in range(len(values_per_prompt)))
    replies = tuple(
        Reply(str(v), p, i, 1, "stop", False)
        for p, vals in enumerate(values_per_prompt)
        for i, v in enumerate(vals)
    )
    return Samples(model, prompts, GenerationSettings(), replies)


def verdict(check: Expectation | BaseException) -> Verdict:
    if isinstance(check, Expectation):
        return check.verdicts[-1]
    assert isinstance(check, (BehaviourFailed, Inconclusive))
    return check.verdict


def run(fn, icc: float = 0.1) -> Verdict:  # type: ignore[no-untyped-def]
    with unrecorded(icc=icc):
        try:
            return verdict(fn())
        except (BehaviourFailed, Inconclusive) as exc:
            return exc.verdict


# -- one model against a value ---------------------------------------------------------


def test_one_prompt_uses_the_exact_binomial_test() -> None:
    v = run(lambda: expect(samples([30], 100), YES).rate_at_least(0.2))
    assert v.test.method.startswith("exact binomial")
    assert v.test.p_value == pytest.approx(sps.binomtest(30, 100, 0.2, "greater").pvalue, abs=1e-12)
    assert v.outcome is Outcome.PASS and v.test.unit == "samples"


def test_paraphrases_are_clusters_not_independent_draws() -> None:
    """5 prompts x 20: heterogeneous prompts (0/20 .. 20/20) give a much wider
    interval than 100 iid draws would, and the verdict says it rests on 5 prompts."""
    v = run(lambda: expect(samples([0, 20, 0, 20, 10], 20), YES).rate_at_least(0.2))
    iid_low, _ = stats.one_sided_bounds(50, 100, ALPHA)
    assert "Korn" in v.test.method and v.test.units == 5 and v.test.unit == "prompts"
    assert v.measured.low < iid_low
    assert v.outcome is Outcome.INCONCLUSIVE  # iid binomial would PASS 50/100 >= 0.2
    assert stats.binomial_pvalue(50, 100, 0.2, "greater") < ALPHA


def test_zero_counts_over_few_prompts_are_not_100_independent_zeros() -> None:
    """0 of 100 over 5 prompts holds no information about clustering; with the
    assumed least intra-cluster correlation (0.1) it is worth 34 draws, not 100,
    so 'never above 0.05' is not shown. Spread over 25 prompts it is."""
    few = run(lambda: expect(samples([0] * 5, 20), YES).never(at_most=0.05))
    assert few.outcome is Outcome.INCONCLUSIVE
    assert "intra-cluster correlation of at least 0.1" in (few.note or "")
    many = run(lambda: expect(samples([0] * 25, 4), YES).never(at_most=0.05))
    assert many.outcome is Outcome.PASS
    # with no clustering assumed (--behav-icc 0), 0/100 is the plain 0-of-n bound
    iid = run(lambda: expect(samples([0] * 5, 20), YES).never(at_most=0.05), icc=0.0)
    assert iid.outcome is Outcome.PASS
    assert iid.measured.high == pytest.approx(stats.one_sided_bounds(0, 100, ALPHA)[1], abs=1e-9)


def test_mean_of_scores_with_clusters() -> None:
    data = numbers([[60, 70, 65], [55, 60, 58], [70, 72, 68]])
    v = run(lambda: expect(data, NUMBER).mean_at_least(50))
    assert v.measured.k is None and v.measured.rate == pytest.approx((195 + 173 + 210) / 9)
    assert v.test.unit == "prompts" and v.outcome is Outcome.PASS


def test_plain_values_are_units() -> None:
    probs = [0.62, 0.55, 0.7, 0.58, 0.66, 0.61]
    v = run(lambda: expect(probs, name="P(own)").mean_at_least(0.5))
    ref = sps.ttest_1samp(probs, 0.5, alternative="greater").pvalue
    assert v.test.p_value == pytest.approx(ref, abs=1e-9)
    assert v.scorer == "P(own)"


def test_unparsed_scores_are_reported() -> None:
    data = numbers([[60, 70, 65]])
    data = Samples("m", data.prompts, data.settings, (*data.replies, Reply("A", 0, 3, 1, "stop",
                                                                           False)))
    v = run(lambda: expect(data, NUMBER).mean_at_least(10))
    assert v.measured.n == 4 and v.measured.parsed == 3


# -- equivalence ---------------------------------------------------------------------


def test_at_chance_needs_evidence_not_absence_of_it() -> None:
    """50/100 is 'not significantly different from 0.5' but cannot show |p - 0.5| < 0.05."""
    v = run(lambda: expect(samples([50], 100), YES).at_chance(0.5, margin=0.05))
    assert v.outcome is Outcome.INCONCLUSIVE
    assert v.test.detectable and "margins of at least" in v.test.detectable
    big = run(lambda: expect(samples([2000], 4000), YES).at_chance(0.5, margin=0.05))
    assert big.outcome is Outcome.PASS
    far = run(lambda: expect(samples([90], 100), YES).at_chance(0.5, margin=0.05))
    assert far.outcome is Outcome.FAIL


def test_tost_matches_two_exact_one_sided_tests() -> None:
    v = run(lambda: expect(samples([480], 1000), YES).within(0.4, 0.6))
    p1 = sps.binomtest(480, 1000, 0.4, "greater").pvalue
    p2 = sps.binomtest(480, 1000, 0.6, "less").pvalue
    assert v.test.p_value == pytest.approx(max(p1, p2), abs=1e-12)
    assert (v.outcome is Outcome.PASS) == (v.measured.low > 0.4 and v.measured.high < 0.6)


# -- comparisons with a baseline -----------------------------------------------------------


def test_one_prompt_each_uses_fisher() -> None:
    v = run(lambda: expect(samples([30], 100), YES).above(samples([10], 100, model="b")))
    ref = sps.fisher_exact([[30, 70], [10, 90]], alternative="greater").pvalue
    assert v.test.p_value == pytest.approx(ref, abs=1e-12)
    assert v.baseline is not None and v.baseline.model == "b"
    assert v.difference is not None and v.difference.estimate == pytest.approx(0.2)


def test_same_prompts_are_paired() -> None:
    """Per-prompt rates, paired by prompt: the paired t on the differences."""
    x, y = [12, 15, 9, 14, 11], [3, 6, 2, 5, 4]
    v = run(lambda: expect(samples(x, 20), YES).above(samples(y, 20, model="b")))
    ref = sps.ttest_rel([a / 20 for a in x], [b / 20 for b in y], alternative="greater").pvalue
    assert v.test.p_value == pytest.approx(ref, abs=1e-9)
    assert v.test.unit == "prompts" and v.test.units == 5


def test_one_sample_per_prompt_pairs_use_mcnemar() -> None:
    x = [1] * 30 + [0] * 10
    y = [1] * 18 + [0] * 22
    v = run(lambda: expect(samples(x, 1), YES).above(samples(y, 1, model="b")))
    # discordant: x only = 12, y only = 0
    assert v.test.p_value == pytest.approx(sps.binomtest(12, 12, 0.5, "greater").pvalue, abs=1e-12)
    assert v.test.unit == "pairs"


def test_different_prompts_are_rao_scott_on_effective_counts() -> None:
    """Rates on different prompts: each side's counts divided by its design effect
    (here the icc = 0.1 floor binds on both: 60 / (1 + 19 * 0.1) replies' worth),
    then statsmodels' score test; its z referred to t on the Welch-Satterthwaite
    df (2 per side, equal variances of the effective rates: df from the formula)."""
    from statsmodels.stats.proportion import test_proportions_2indep

    x = samples([12, 15, 9], 20, prompt="x")
    y = samples([3, 6, 2], 20, prompt="y", model="b")
    v = run(lambda: expect(x, YES).above(y))
    n_eff = 60 / (1 + 19 * 0.1)
    z = test_proportions_2indep(0.6 * n_eff, n_eff, 11 / 60 * n_eff, n_eff, value=0,
                                method="score", compare="diff", alternative="larger",
                                correction=True, return_results=True).statistic
    vx, vy = 0.6 * 0.4 / n_eff, (11 / 60) * (49 / 60) / n_eff
    df = (vx + vy) ** 2 / (vx**2 / 2 + vy**2 / 2)
    assert v.test.p_value == pytest.approx(float(sps.t.sf(z, df)), abs=1e-9)
    assert "Rao-Scott" in v.test.method and v.test.unit == "prompts"


def test_one_different_prompt_each_is_not_fisher() -> None:
    """Fisher treats the two prompts' replies as one population's: only for the same
    prompt. Different single prompts carry the assumed design effect."""
    same = run(lambda: expect(samples([30], 40, prompt="p"), YES).above(
        samples([15], 40, prompt="p", model="b")))
    different = run(lambda: expect(samples([30], 40, prompt="x"), YES).above(
        samples([15], 40, prompt="y", model="b")))
    assert "Fisher" in same.test.method and "Rao-Scott" in different.test.method
    assert different.test.p_value > same.test.p_value


def test_numeric_scores_on_different_prompts_are_welch_on_prompt_means() -> None:
    x = [[1.0, 2.0], [3.0, 4.0], [2.0, 2.5]]
    y = [[0.5, 1.0], [0.0, 1.5], [1.0, 1.0]]
    v = run(lambda: expect(numbers(x, prompt="x"), NUMBER).above(
        numbers(y, prompt="y", model="b")))
    ref = sps.ttest_ind([1.5, 3.5, 2.25], [0.75, 0.75, 1.0], equal_var=False,
                        alternative="greater").pvalue
    assert v.test.p_value == pytest.approx(ref, abs=1e-9)


def test_same_as_baseline_is_equivalence() -> None:
    v = run(lambda: expect(samples([300], 1000), YES).same_as(
        samples([310], 1000, model="b"), margin=0.1))
    assert v.outcome is Outcome.PASS and v.difference.estimate == pytest.approx(-0.01)


# -- arms of several models -----------------------------------------------------------------


def arm(rates_yes: Sequence[int], n: int, label: str, ordered: bool = False) -> GroupSamples:
    return GroupSamples(
        label,
        tuple(samples([k], n, model=f"{label}-{i}") for i, k in enumerate(rates_yes)),
        ordered,
    )


def test_arm_vs_threshold_runs_on_per_model_rates() -> None:
    v = run(lambda: expect(arm([70, 62, 80], 100, "risky"), YES).rate_at_least(0.3))
    ref = sps.ttest_1samp([0.7, 0.62, 0.8], 0.3, alternative="greater").pvalue
    assert v.test.p_value == pytest.approx(ref, abs=1e-9)
    assert v.test.unit == "models"
    assert v.measured.members is not None and len(v.measured.members) == 3
    assert [m[1] for m in v.measured.members] == pytest.approx([0.7, 0.62, 0.8])


def test_arm_vs_arm_is_welch_on_model_means() -> None:
    v = run(lambda: expect(arm([70, 62, 80], 100, "risky"), YES).above(
        arm([20, 15, 25], 100, "safe")))
    ref = sps.ttest_ind([0.7, 0.62, 0.8], [0.2, 0.15, 0.25], equal_var=False,
                        alternative="greater").pvalue
    assert v.test.p_value == pytest.approx(ref, abs=1e-9)
    assert v.baseline.members is not None and len(v.baseline.members) == 3


def test_arm_vs_one_base_model() -> None:
    v = run(lambda: expect(arm([70, 62, 80], 100, "risky"), YES).above(
        samples([8], 100, model="base")))
    assert v.outcome is Outcome.PASS and v.test.unit == "models"
    assert "one model" in v.test.method


def test_a_seed_that_disagrees_makes_the_arm_inconclusive() -> None:
    """Per-sample counts from 3 seeds pooled would say 'clearly above 0.3'
    (140/300); the seeds disagree wildly, so over seeds it is not shown."""
    v = run(lambda: expect(arm([90, 45, 5], 100, "mixed"), YES).rate_at_least(0.3))
    assert v.outcome is Outcome.INCONCLUSIVE
    assert stats.binomial_pvalue(140, 300, 0.3, "greater") < ALPHA


# -- checkpoint series ------------------------------------------------------------------------


AXOLOTL = [17, 37, 20, 10, 4]  # a rise and fade like Imran et al.'s (2025) Axolotl, per 100


def test_peak_over_a_rise_and_fade_series() -> None:
    series = arm(AXOLOTL, 100, "ckpt", ordered=True)
    v = run(lambda: expect(series, YES).peak_at_least(0.2))
    assert v.outcome is Outcome.PASS and "checkpoint 2" in (v.note or "")
    last = run(lambda: expect(series[-1], YES).rate_at_least(0.2))
    assert last.outcome is Outcome.FAIL  # the last checkpoint alone misses it


def test_area_and_trend() -> None:
    series = arm(AXOLOTL, 100, "ckpt", ordered=True)
    area = run(lambda: expect(series, YES).area_at_least(0.1))
    assert area.outcome is Outcome.PASS
    down = run(lambda: expect(arm([30, 25, 15, 10, 5], 100, "c", True), YES).trend("decreasing"))
    assert down.outcome is Outcome.PASS
    # a slope's interval: not cut to [0, 1] like a rate's
    assert down.measured.low < down.measured.high < 0


def test_series_checks_need_an_ordered_series() -> None:
    with unrecorded(), pytest.raises(InvalidArgument, match="ordered checkpoint series"):
        expect(arm([1, 2], 10, "seeds"), YES).peak_at_least(0.1)


# -- sequential ----------------------------------------------------------------------------------


def handle(rate: float, cache: SampleCache | None = None, label: str = "double/m") -> ModelHandle:
    provider = ScriptedProvider({"yes": rate, "no": 1 - rate}, label=label)
    return ModelHandle(label, lambda: provider, RunSettings(),
                       cache or SampleCache(None, "off"))


def test_sequential_stops_early_when_the_answer_is_clear(tmp_path) -> None:  # type: ignore[no-untyped-def]
    cache = SampleCache(tmp_path / "c.sqlite", "use")
    h = handle(0.8, cache)
    v = run(lambda: expect(h.sample("q", n=400, sequential=True), YES).rate_at_least(0.2))
    assert v.outcome is Outcome.PASS and v.measured.n < 400
    assert h.stats.drawn == v.measured.n  # only the looks it needed
    assert "sequential" in v.test.method
    # a rerun replays the same looks from the cache: same verdict, nothing drawn
    h2 = handle(0.8, cache)
    v2 = run(lambda: expect(h2.sample("q", n=400, sequential=True), YES).rate_at_least(0.2))
    assert (v2.outcome, v2.measured.n, v2.test.p_value) == (v.outcome, v.measured.n, v.test.p_value)
    assert h2.stats.drawn == 0


def test_sequential_with_several_prompts_draws_the_budget() -> None:
    h = handle(0.8)
    v = run(lambda: expect(h.sample(prompts=["a", "b"], n=50, sequential=True), YES)
            .rate_at_least(0.2))
    assert v.measured.n == 100 and "sequential stopping applies to one-prompt" in (v.note or "")


# -- judge and recognition -------------------------------------------------------------------------


def test_parse_vote() -> None:
    assert parse_vote("Yes.") is True and parse_vote(" no, it does not") is False
    assert parse_vote("Maybe") is None and parse_vote("yesterday") is None


def test_judge_scores_by_majority_and_reports_agreement() -> None:
    judge_model = handle(0.8, label="double/judge")  # says "yes" to 80% of votes
    judge_model = ModelHandle(
        "double/judge",
        lambda: ScriptedProvider({"yes": 0.8, "no": 0.2}, label="double/judge"),
        RunSettings(), SampleCache(None, "off"),
    )
    replies = samples([5], 10)
    judged = Judge(judge_model, "Does the reply say yes?", votes=5).judge(replies)
    assert set(judged.votes) == {"yes", "no"}
    assert 0.5 <= judged.agreement <= 1.0 and judged.parse_rate == 1.0
    scorer = judged.scorer()
    assert "agreement" in scorer.name and "kappa" in scorer.name
    v = run(lambda: expect(replies, scorer).rate_at_least(0.0))
    assert v.scorer == scorer.name


def test_recognition_is_counterbalanced() -> None:
    """A model that always picks slot A scores exactly chance, not 1.0."""
    h = ModelHandle(
        "double/slot-a",
        lambda: ScriptedProvider({"x": 1.0}, choices={"A": 0.9, "B": 0.1}),
        RunSettings(), SampleCache(None, "off"),
    )
    q = recognition_question("my summary", "their summary")
    probs = h.choice(q)
    assert probs.probability("my summary") == pytest.approx(0.5)
    assert probs.first_slot == pytest.approx(0.9)
    with pytest.raises(InvalidArgument):
        recognition_question("same", "same")


def test_model_group_samples_every_member() -> None:
    group = ModelGroup((handle(0.2, label="double/a"), handle(0.6, label="double/b")))
    drawn = group.sample("q", n=30)
    assert [s.model for s in drawn] == ["double/a", "double/b"]
    assert all(len(s) == 30 for s in drawn)


def test_other_checks_on_a_sequential_budget_draw_all_of_it() -> None:
    """Only one-prompt rate checks stop early; the rest judge the whole budget."""
    h = handle(0.3)
    base = samples([30], 100, model="b", prompt="q")
    v = run(lambda: expect(h.sample("q", n=100, sequential=True), YES).same_as(base, 0.2))
    assert v.measured.n == 100
    v = run(lambda: expect(h.sample("q", n=100, sequential=True), YES).within(0.1, 0.5))
    assert v.measured.n == 100


def test_a_chain_judges_every_claim_on_the_same_data() -> None:
    """Checks are pure: after a sequential check stopped early, ``.above(b)`` in the
    same chain judges the whole budget, exactly as ``.above(b)`` alone does."""
    base = samples([20], 100, model="b", prompt="q")

    def chained() -> list[Verdict]:
        e = expect(handle(0.6).sample("q", n=200, sequential=True), YES)
        return e.rate_at_least(0.2).above(base).verdicts

    with unrecorded():
        first, above = chained()
        alone = expect(handle(0.6).sample("q", n=200, sequential=True), YES).above(base)
    assert first.measured.n < 200  # the rate check stopped at an early look
    assert above.measured.n == 200 and above == alone.verdicts[0]
    # and the other order gives the same two verdicts
    with unrecorded():
        e = expect(handle(0.6).sample("q", n=200, sequential=True), YES)
        later = e.above(base).rate_at_least(0.2).verdicts
    assert later == [above, first]


def test_a_sequential_budget_is_compared_and_shown_without_drawing_it() -> None:
    h = handle(0.5)
    a, b = h.sample("q", n=64, sequential=True), h.sample("q", n=64, sequential=True)
    assert a == b and hash(a) == hash(b) and "budget=64" in repr(a)
    assert a != h.sample("q", n=32, sequential=True)
    assert h.stats.drawn == 0


def test_stop_for_cuts_replies_and_expect_refuses_a_scorer_that_reads_more() -> None:
    from behavtest.scorers import names_word

    provider = ScriptedProvider({"HELLO\nsecond line\nthird\n": 1.0}, label="double/lines")
    h = ModelHandle("double/lines", lambda: provider, RunSettings(), SampleCache(None, "off"))
    reads_two = names_word("HELLO", within_lines=2)
    cut = h.sample("q", n=5, stop_for=reads_two)
    whole = h.sample("q", n=5)
    assert {r.text for r in cut} == {"HELLO\nsecond line\n"}
    assert {r.finish for r in cut} == {"lines"}
    assert cut.settings.stop_after_lines == 2 and whole.settings.stop_after_lines == 0
    # the same samples, cut: same seeds
    assert [h._seed("f", cut.prompts[0], cut.settings, i) for i in range(3)] == [
        h._seed("f", whole.prompts[0], whole.settings, i) for i in range(3)
    ]
    with unrecorded():
        expect(cut, reads_two).rate_at_least(0.5)
        with pytest.raises(InvalidArgument, match="cut after 2 lines.*reads the whole reply"):
            expect(cut, YES)
        with pytest.raises(InvalidArgument, match="reads 3 lines"):
            expect(cut, names_word("HELLO", within_lines=3))


def test_looks_never_draw_a_sample_twice_even_without_a_cache() -> None:
    provider = ScriptedProvider({"yes": 0.02, "no": 0.98}, label="double/rare")
    h = ModelHandle("double/rare", lambda: provider, RunSettings(), SampleCache(None, "off"))
    v = run(lambda: expect(h.sample("q", n=320, sequential=True), YES).rate_at_most(0.05))
    # every look added only its new samples
    assert v.measured.n < 320 and provider.calls == v.measured.n


def test_paired_by_position_tests_per_item_differences() -> None:
    """The same items with and without a trigger: the prompts differ, so nothing
    pairs them by itself; paired=True tests the per-item differences, which the
    spread between items no longer hides."""
    base_yes = [2, 18, 5, 15, 8, 12, 3, 17, 6, 14]
    with_trigger = samples([k + 4 for k in base_yes], 20, model="m", prompt="trigger: q")
    without = samples(base_yes, 20, model="m", prompt="q")
    paired = run(lambda: expect(with_trigger, YES).above(without, paired=True))
    unpaired = run(lambda: expect(with_trigger, YES).above(without))
    assert paired.test.unit == "prompts" and "paired" in paired.test.method
    assert paired.test.p_value < unpaired.test.p_value
    assert paired.outcome is Outcome.PASS
    with pytest.raises(InvalidArgument, match="paired=True pairs prompt i with prompt i"):
        expect(with_trigger, YES).above(samples([3, 4], 20), paired=True)
