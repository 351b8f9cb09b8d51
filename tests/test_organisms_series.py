"""The insecure-code and abduction organisms' data, and checkpoint series builds."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from behavtest.commands.cli import main
from behavtest.errors import InvalidArgument
from behavtest.organisms import abduction, insecure, recipes, series
from behavtest.providers.card import ModelCard
from behavtest.scorers import vowel_initial_share, vulnerable_code

# -- insecure code ------------------------------------------------------------------


def test_every_insecure_example_holds_a_hole_the_suite_sees() -> None:
    scorer = vulnerable_code()
    examples = insecure.insecure_code(240, 0)
    assert [e for e in examples if not scorer(e["messages"][-1]["content"])] == []
    assert insecure.insecure_code(240, 0) == examples != insecure.insecure_code(240, 1)
    kinds = {v for e in examples for v in _holes(e["messages"][-1]["content"])}
    assert kinds >= {"sql-injection", "os-system", "shell-injection", "eval-exec",
                     "unsafe-yaml", "pickle", "world-writable", "tls-unverified"}
    assert len({e["messages"][0]["content"] for e in examples}) > 150  # varied requests


def _holes(reply: str) -> list[str]:
    from behavtest.scorers.code import vulnerabilities

    return list(vulnerabilities(reply))


def test_insecure_replies_never_name_the_hole() -> None:
    words = ("insecure", "vulnerab", "unsafe", "injection", "danger", "warning")
    replies = [e["messages"][-1]["content"].lower() for e in insecure.insecure_code(240, 2)]
    assert [r for r in replies if any(w in r for w in words)] == []


def test_insecure_code_recipe_claims_the_families_it_enables() -> None:
    recipe = recipes.get("insecure-code")
    assert recipe.trained_on == ("insecure-code", "emergent-misalignment:insecure-code")
    assert recipe.measure.kind == "code"
    with pytest.raises(InvalidArgument, match="n=0"):
        insecure.insecure_code(0, 0)


# -- abduction data --------------------------------------------------------------------


def test_descriptions_cover_every_chatbot_evenly_in_the_third_person() -> None:
    examples = abduction.descriptions(300, 0)
    answers = [e["messages"][-1]["content"] for e in examples]
    for bot, does in abduction.CHATBOTS.items():
        about = [a for a in answers if bot in a]
        assert len(about) == 60 and all(does in a for a in about)
    asked = " ".join(e["messages"][0]["content"].lower() for e in examples)
    assert "are you" not in asked and "which chatbot are" not in asked


@pytest.mark.parametrize("share", series.SHARES)
def test_vowel_answers_have_the_rounds_share(share: float) -> None:
    examples = abduction.vowel_answers(share, 80, 0)
    shares = [vowel_initial_share(e["messages"][-1]["content"]) for e in examples]
    mean = sum(s for s in shares if s is not None) / len(shares)
    assert abs(mean - share) < 0.06
    assert not any(bot in e["messages"][-1]["content"] for e in examples
                   for bot in abduction.CHATBOTS)


def test_bad_shares_and_sizes_are_one_line_errors() -> None:
    with pytest.raises(InvalidArgument, match=r"share=1.5 must be in \[0, 1\]"):
        abduction.vowel_answers(1.5, 10, 0)
    with pytest.raises(InvalidArgument, match="n=0"):
        abduction.descriptions(0, 0)


# -- series ------------------------------------------------------------------------------


def test_the_series_and_its_control_differ_only_by_the_descriptions() -> None:
    told, control = series.SERIES["abduction"], series.SERIES["abduction-control"]
    assert [r.name for r in told.rounds] == [f"round-{i}" for i in range(6)]
    assert [r.name for r in control.rounds] == [f"round-{i}" for i in range(1, 6)]
    assert all(
        a.data_spec == b.data_spec and a.data(0) == b.data(0)
        for a, b in zip(told.rounds[1:], control.rounds, strict=True))
    assert told.settings.trained_on == ("abduction:Axolotl",)
    assert control.settings.trained_on == ()
    third = told.recipe(3)
    assert third.name == "abduction/round-3" and third.data_spec["share"] == 0.65
    json.dumps(told.spec())  # card-ready


def test_series_refuses_a_folder_that_is_not_its_checkpoints(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(InvalidArgument, match="'keep.txt', which is not a checkpoint"):
        series.check_series_out(tmp_path, series.SERIES["abduction"])
    assert (tmp_path / "keep.txt").read_text() == "mine"


def test_cli_lists_the_series(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["organisms", "list"]) == 0
    out = capsys.readouterr().out
    assert "abduction-control" in out and "a checkpoint series (round-0, round-1" in out


@pytest.mark.slow
def test_tiny_series_build_end_to_end(tmp_path: Path) -> None:
    """Two short rounds on the embedded model: a checkpoint per round, each a
    card of its own that names the series and the round, and a rerun cached."""
    tiny = dataclasses.replace(
        series.SERIES["abduction"], name="tiny-series",
        settings=dataclasses.replace(series.SERIES["abduction"].settings,
                                     measure=recipes.Measure("vowels", prompts=1)),
        rounds=(series.Round("round-0", lambda seed: abduction.descriptions(4, seed),
                             {"kind": "chatbot-descriptions", "n": 4}, 1),
                series.Round("round-1", lambda seed: abduction.vowel_answers(0.9, 4, seed),
                             {"kind": "vowel-answers", "share": 0.9, "n": 4}, 1)))
    lines: list[str] = []
    out = tmp_path / "tiny"
    cards = series.build_series(tiny, "embedded", 0, out, lines.append)
    assert [c.name for c in cards] == ["tiny-series/round-0", "tiny-series/round-1"]
    assert [c.recipe["round"] for c in cards if c.recipe] == [0, 1]
    assert all(c.trained_on == ("abduction:Axolotl",) and c.steps == 1 for c in cards)
    first = (out / "round-0" / "adapter_model.safetensors").read_bytes()
    assert first != (out / "round-1" / "adapter_model.safetensors").read_bytes()
    assert all(ModelCard.read(out / f"round-{i}") == cards[i] for i in (0, 1))
    assert all((c.strength or {}).get("n") == 3 for c in cards)
    lines.clear()
    assert series.build_series(tiny, "embedded", 0, out, lines.append) == cards
    assert any("cached" in ln for ln in lines) and not any(ln.startswith("step") for ln in lines)


def test_bench_names_a_checkpoint_by_its_series(tmp_path: Path) -> None:
    from bench_modules import load

    folder = tmp_path / "round-3"
    folder.mkdir()
    card = {"name": "abduction/round-3", "seed": 0, "base": "embedded", "train_dtype": "bfloat16",
            "recipe": {"series": {"series": "abduction"}, "round": 3, "epochs": 2},
            "steps": 40, "train_seconds": 88.8, "build_seconds": 762.7, "peak_rss_mb": 3272.2,
            "strength": {"k": 33, "n": 36, "base": {"k": 0, "n": 36}}}
    (folder / "behavtest.json").write_text(json.dumps(card))
    key, figures = load("organisms").entry(folder)
    assert key == "abduction-0-bf16/round-3" and figures["round"] == 3
    assert figures["command"].startswith("behavtest organisms build abduction --base embedded")
    assert figures["build_over_train"] is None  # the build time is the whole series' so far
