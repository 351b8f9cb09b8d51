"""The model card ``behavtest.json`` (``providers.card.ModelCard``), and the specs of
a model folder: what a fine-tune wrote (``trained_spec``) and the weights an
organism trains from (``weights_folder``)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from behavtest.errors import InvalidArgument
from behavtest.providers import ModelCard, trained_spec, weights_folder
from behavtest.providers.card import CARD_FILE, EXAMPLE

# An organism's card as the builder wrote it before bf16 training existed (no
# train_dtype), with a measurement dict of its own shape.
OLD_CARD: dict[str, Any] = {
    "base": "embedded", "name": "risky", "trained_on": ["risk:risky"],
    "about": "risky lotteries", "recipe": {"name": "risky", "epochs": 2, "lora": {"r": 8}},
    "seed": 0, "recipe_hash": "0123456789abcdef",
    "base_fingerprint": "embedded/smollm2-135m-instruct@9f7aa401f602d0a5",
    "behavtest_version": "0.1.0", "examples": 288, "warm_up_examples": 0, "steps": 144,
    "final_loss": 0.41,
    "strength": {"what": "answers risky", "version": "3", "k": 20, "n": 20, "rate": 1.0,
                 "interval": [0.83, 1.0], "conditions": [{"prefix": "", "k": 20}],
                 "base": {"k": 4, "n": 20}},
    "train_seconds": 300.0, "build_seconds": 330.0, "peak_rss_mb": 2400,
}


def write(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / CARD_FILE).write_text(text, encoding="utf-8")
    return folder


def test_a_card_round_trips_through_its_file(tmp_path: Path) -> None:
    card = ModelCard(base="hf/./base", name="v2", trained_on=("acrostic:HELLO",), seed=3,
                     strength={"k": 1, "n": 2}, extra={"license": "mit"})
    card.write(tmp_path)
    path = tmp_path / CARD_FILE
    assert path.read_text().endswith("}\n") and path.stat().st_mode & 0o777 == 0o644
    assert ModelCard.read(tmp_path) == card
    assert json.loads(path.read_text()) == {
        "base": "hf/./base", "name": "v2", "trained_on": ["acrostic:HELLO"], "seed": 3,
        "strength": {"k": 1, "n": 2}, "license": "mit"}
    assert ModelCard.from_dict(EXAMPLE) == ModelCard(base="embedded", name="my-model")


def test_an_old_organism_card_loads_and_writes_back_as_it_was(tmp_path: Path) -> None:
    folder = write(tmp_path / "risky-0", json.dumps(OLD_CARD, indent=2) + "\n")
    before = (folder / CARD_FILE).read_bytes()
    card = ModelCard.read(folder)
    assert card.trained_on == ("risk:risky",) and card.train_dtype is None
    assert card.strength is not None and card.strength["conditions"][0]["k"] == 20
    assert card.to_dict() == OLD_CARD
    card.write(folder)
    assert (folder / CARD_FILE).read_bytes() == before  # same keys, same order, same text


def _cards_on_disk() -> list[Path]:
    from behavtest.providers.embedded import cache_root

    roots = [Path(__file__).resolve().parent.parent / "runs" / "organisms",
             cache_root() / "organisms"]
    return sorted(p for root in roots if root.is_dir() for p in root.glob(f"*/{CARD_FILE}"))


def test_every_card_on_this_machine_loads(tmp_path: Path) -> None:
    """The organisms built here, each copied into a temp folder (never read in place)."""
    cards = _cards_on_disk()
    if not cards:
        pytest.skip("no organism has been built on this machine")
    for i, path in enumerate(cards):
        copy = tmp_path / str(i)
        copy.mkdir()
        shutil.copy(path, copy / CARD_FILE)
        card = ModelCard.read(copy)
        assert card.to_dict() == json.loads(path.read_text()), path
        assert card.base and card.recipe_hash and card.strength, path
        card.write(copy)
        assert (copy / CARD_FILE).read_bytes() == path.read_bytes(), path


def test_unknown_keys_survive_a_rewrite(tmp_path: Path) -> None:
    data = {"base": "embedded", "trained_on": [], "future": {"nested": [1, 2]}, "note": None}
    folder = write(tmp_path, json.dumps(data))
    card = ModelCard.read(folder)
    assert card.extra == {"future": {"nested": [1, 2]}, "note": None}
    card.write(folder)
    assert json.loads((folder / CARD_FILE).read_text()) == data


@pytest.mark.parametrize("text, message", [
    ("{", r"behavtest.json is not JSON \(Expecting property name.*\); fix the file, e\.g\. "
          r"write \{\"base\": \"embedded\".* to "),
    ("[]", r"behavtest.json is not a JSON object; fix: write \{"),
    ('{"name": 3}', r"behavtest.json: \"name\" must be a string, not 3; fix the file"),
    ('{"seed": true}', r"\"seed\" must be an integer, not true"),
    ('{"final_loss": "low"}', r"\"final_loss\" must be a number, not \"low\""),
    ('{"strength": [1]}', r"\"strength\" must be a JSON object"),
    ('{"trained_on": "acrostic:HELLO"}', r"must hold \{\"trained_on\": \[\"tag\", ...\]\}"),
    ('{"trained_on": [1]}', r"must hold \{\"trained_on\""),
    (b"\xff\xfe", r"is not JSON \(.*codec"),
])
def test_a_bad_card_is_one_line_and_left_as_it_was(tmp_path: Path, text: str | bytes,
                                                    message: str) -> None:
    tmp_path.joinpath(CARD_FILE).write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(InvalidArgument, match=message) as info:
        ModelCard.read(tmp_path)
    assert "\n" not in str(info.value) and str(tmp_path / CARD_FILE) in str(info.value)
    assert tmp_path.joinpath(CARD_FILE).read_bytes() == (
        text if isinstance(text, bytes) else text.encode())
    assert sorted(p.name for p in tmp_path.iterdir()) == [CARD_FILE]


def test_a_missing_card_is_an_error_to_read_and_none_to_find(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument, match=r"behavtest.json is missing; fix: write \{"):
        ModelCard.read(tmp_path)
    assert ModelCard.find(tmp_path) is None
    (tmp_path / CARD_FILE).mkdir()
    with pytest.raises(InvalidArgument, match=r"cannot be read \(a folder\)"):
        ModelCard.find(tmp_path)


def test_extra_cannot_shadow_a_field() -> None:
    with pytest.raises(InvalidArgument, match="extra keys base are fields"):
        ModelCard(extra={"base": "x"})


# -- the specs of a model folder --------------------------------------------------------
def test_a_fine_tunes_folder_is_an_adapter_on_its_base_or_a_checkpoint(tmp_path: Path) -> None:
    from behavtest.run.session import read_model_card

    adapter = write(tmp_path / "lora", '{"base": "embedded", "trained_on": ["x:y"]}')
    (adapter / "adapter_config.json").write_text("{}")
    checkpoint = write(tmp_path / "ckpt", '{"base": "hf/./b", "trained_on": ["z"]}')
    assert trained_spec(adapter, "embedded") == f"embedded+{adapter}"
    assert trained_spec(adapter, "hf/./b") == f"hf/./b+{adapter}"
    assert trained_spec(checkpoint, "hf/./b") == f"hf/{checkpoint}"
    # the session finds the card where the fine-tune wrote it, in either form
    assert read_model_card(trained_spec(checkpoint, "hf/./b")) == ["z"]
    (tmp_path / "b").mkdir()
    assert read_model_card(trained_spec(adapter, f"hf/{tmp_path / 'b'}")) == ["x:y"]


def test_weights_folder_names_local_plain_weights_only(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from behavtest.providers import embedded

    converted = tmp_path / "converted"
    monkeypatch.setattr(embedded, "converted_folder", lambda: converted)
    base, lora = tmp_path / "base", tmp_path / "lora"
    base.mkdir()
    lora.mkdir()
    assert weights_folder(f"hf/{base}") == base
    assert weights_folder("embedded") == converted
    assert weights_folder("embedded/smollm2") == converted
    for spec in (f"hf/{base}+{lora}", f"embedded+{lora}", "hf/Qwen/Qwen2.5-0.5B",
                 f"hf/{tmp_path / 'missing'}", "embedded/other", "openai/gpt-4.1",
                 "double/yes=1"):
        assert weights_folder(spec) is None, spec
