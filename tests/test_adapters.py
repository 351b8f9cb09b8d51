"""peft adapters (``hf/<base>+<adapter>``, ``embedded+<adapter>``) and checkpoint folders.

The fast tests check spec parsing, validation, errors and fingerprints on
fake folders (no model). The slow ones make a real LoRA adapter (r=4 on
q_proj/v_proj, random lora_B so it changes the model) and a full checkpoint
(the same adapter merged and saved) on the embedded model, then check that
the adapter is really applied, that merged and unmerged adapters and the
merged checkpoint are the same model, and that fingerprints computed from
files equal the loaded providers' ones.
"""

from __future__ import annotations

import json
import math
import shutil
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest

from behavtest.errors import InvalidArgument, MissingDependency, ModelNotFound
from behavtest.providers import ProviderConfig, Request, load_provider, to_messages
from behavtest.providers.embedded import EMBEDDED_LABEL, converted_folder
from behavtest.providers.folders import split_adapter
from behavtest.providers.hf import HFOptions, HFProvider
from behavtest.providers.registry import (
    expand_spec,
    fingerprint_without_loading,
    split_spec,
    validate_spec,
)
from behavtest.settings import GenerationSettings

Q = to_messages("Is the sky blue? Answer A) yes or B) no.")
GREEDY = GenerationSettings(temperature=0.0, max_tokens=8)


def _one_line(exc: pytest.ExceptionInfo[BaseException]) -> str:
    text = str(exc.value)
    assert "\n" not in text and "fix:" in text, text
    return text


def _fake_adapter(folder: Path, rank: int = 4) -> Path:
    """Files that pass validation (nothing here loads them)."""
    folder.mkdir(parents=True)
    (folder / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA", "r": rank}))
    (folder / "adapter_model.safetensors").write_bytes(b"\0" * 64)
    return folder


# -- specs, validation and fingerprints from files (no model) ----------------------


def test_split_spec_and_split_adapter() -> None:
    assert split_spec("embedded+./runs/lora") == ("embedded", "+./runs/lora")
    assert split_spec("embedded+lora") == ("embedded", "+lora")
    assert split_spec("hf/./base+./runs/lora") == ("hf", "./base+./runs/lora")
    assert split_spec("hf/Qwen/Qwen2.5") == ("hf", "Qwen/Qwen2.5")
    assert split_adapter("./base") == ("./base", None)
    assert split_adapter("./base+./lora") == ("./base", "./lora")
    assert split_adapter("+./lora") == ("", "./lora")
    assert split_adapter("org/name+./lora") == ("org/name", "./lora")


def test_plus_in_folder_names(tmp_path: Path) -> None:
    """A folder named with '+' is not split; an adapter path with '+' is found."""
    odd = tmp_path / "base+v2"
    odd.mkdir()
    assert split_adapter(str(odd)) == (str(odd), None)
    lora = tmp_path / "lora+dpo"
    lora.mkdir()
    assert split_adapter(f"./base+{lora}") == ("./base", str(lora))


def test_validate_spec_accepts_adapter_specs(tmp_path: Path) -> None:
    base = tmp_path / "base"
    base.mkdir()
    lora = _fake_adapter(tmp_path / "lora")
    validate_spec(f"hf/{base}+{lora}")
    validate_spec(f"embedded+{lora}")
    validate_spec(f"embedded/smollm2+{lora}")


def test_bad_adapters_give_one_line_errors(tmp_path: Path) -> None:
    base = tmp_path / "base"
    base.mkdir()
    with pytest.raises(ModelNotFound) as missing:
        validate_spec(f"hf/{base}+{tmp_path / 'nope'}")
    assert "does not exist" in _one_line(missing)
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "config.json").write_text("{}")
    with pytest.raises(InvalidArgument) as not_adapter:
        validate_spec(f"embedded+{plain}")
    assert "adapter_config.json" in _one_line(not_adapter)
    no_weights = tmp_path / "no-weights"
    no_weights.mkdir()
    (no_weights / "adapter_config.json").write_text("{}")
    with pytest.raises(ModelNotFound) as weightless:
        validate_spec(f"hf/{base}+{no_weights}")
    assert "adapter_model.safetensors" in _one_line(weightless)
    with pytest.raises(InvalidArgument) as empty:
        validate_spec(f"hf/{base}+")
    _one_line(empty)
    lora = _fake_adapter(tmp_path / "lora")
    with pytest.raises(ModelNotFound) as no_base:
        validate_spec(f"hf/{tmp_path / 'no-base'}+{lora}")
    assert "no-base" in _one_line(no_base)
    with pytest.raises(ModelNotFound) as bad_embedded:
        validate_spec(f"embedded/other+{lora}")
    _one_line(bad_embedded)


def test_missing_peft_names_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without peft, both the early check and the provider name the pip command
    (the provider fails before loading any weights)."""
    base = tmp_path / "base"
    base.mkdir()
    lora = _fake_adapter(tmp_path / "lora")
    monkeypatch.setitem(sys.modules, "peft", None)
    with pytest.raises(MissingDependency) as early:
        validate_spec(f"hf/{base}+{lora}")
    assert "pip install 'behavtest[peft]'" in _one_line(early)
    with pytest.raises(MissingDependency) as late:
        HFProvider(str(base), adapter=str(lora))
    assert "pip install 'behavtest[peft]'" in _one_line(late)


def test_fingerprint_is_base_plus_adapter(tmp_path: Path) -> None:
    base = tmp_path / "base"
    base.mkdir()
    (base / "config.json").write_text('{"a": 1}')
    one = _fake_adapter(tmp_path / "one", rank=4)
    two = _fake_adapter(tmp_path / "two", rank=8)
    plain = fingerprint_without_loading(f"hf/{base}")
    fp1 = fingerprint_without_loading(f"hf/{base}+{one}")
    fp2 = fingerprint_without_loading(f"hf/{base}+{two}")
    assert plain is not None and fp1 is not None and fp2 is not None
    assert fp1.startswith(plain + f"+{one}@")
    assert fp1 != fp2  # the adapter config differs
    (one / "adapter_model.safetensors").write_bytes(b"\1" * 64)
    assert fingerprint_without_loading(f"hf/{base}+{one}") not in (fp1, fp2)  # and the weights
    assert fingerprint_without_loading(f"hf/org/name+{one}") is None  # hub revision unknown


def test_adapter_globs_expand_in_natural_order(tmp_path: Path) -> None:
    base = tmp_path / "base"
    base.mkdir()
    for seed in (10, 2, 1):
        _fake_adapter(tmp_path / f"lora-{seed}")
    got = expand_spec(f"hf/{base}+{tmp_path}/lora-*")
    assert got == [f"hf/{base}+{tmp_path}/lora-{s}" for s in (1, 2, 10)]
    assert expand_spec(f"embedded+{tmp_path}/lora-*") == [
        f"embedded+{tmp_path}/lora-{s}" for s in (1, 2, 10)
    ]
    with pytest.raises(ModelNotFound):
        expand_spec(f"hf/{base}+{tmp_path}/nothing-*")


# -- the real model (slow) -----------------------------------------------------------


def _lora(base: Any, out: Path, seed: int) -> Any:
    """Save a LoRA adapter (r=4 on q_proj/v_proj) of ``base``; returns the PeftModel."""
    import torch
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(seed)
    config = LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"])
    with warnings.catch_warnings():  # transformers' is_gradient_checkpointing notice
        warnings.simplefilter("ignore", FutureWarning)
        peft_model = get_peft_model(base, config)
    with torch.no_grad():  # perturb the zero-initialised lora_B so the adapter does something
        for name, p in peft_model.named_parameters():
            if "lora_B" in name:
                p.normal_(0.0, 0.1)
    peft_model.save_pretrained(str(out))
    return peft_model


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A LoRA adapter on the embedded model, a full checkpoint (the same
    adapter merged, saved by save_pretrained) and an adapter of another model."""
    pytest.importorskip("peft")
    try:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaConfig

        from behavtest.providers.embedded import cache_root, converted_folder

        folder = converted_folder()
    except ImportError as exc:  # pragma: no cover - only without the hf extra
        pytest.skip(f"embedded model unavailable: {exc}")
    root = tmp_path_factory.mktemp("adapters")
    paths = {k: root / k for k in ("lora", "ckpt", "alien")}
    paths["cache"] = cache_root()  # where the converted embedded model is
    base = AutoModelForCausalLM.from_pretrained(str(folder), dtype=torch.float32)
    merged = _lora(base, paths["lora"], seed=1).merge_and_unload()
    merged.save_pretrained(str(paths["ckpt"]))
    AutoTokenizer.from_pretrained(str(folder)).save_pretrained(str(paths["ckpt"]))
    tiny = LlamaConfig(
        hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=4, vocab_size=1000,
    )
    _lora(AutoModelForCausalLM.from_config(tiny), paths["alien"], seed=3)
    return paths


@pytest.fixture(scope="module")
def base_provider() -> Any:
    return load_provider("embedded", ProviderConfig(batch_size=4))


@pytest.fixture(scope="module")
def adapted(made: dict[str, Path]) -> Any:
    return load_provider(f"embedded+{made['lora']}", ProviderConfig(batch_size=4))


@pytest.mark.slow
def test_fingerprints_match_without_loading(
    made: dict[str, Path], base_provider: Any, adapted: Any
) -> None:
    """The quick path (a cached rerun) and the loaded provider agree, and the
    adapter is part of the identity."""
    spec = f"embedded+{made['lora']}"
    validate_spec(spec)
    assert adapted.name == f"embedded/smollm2-135m-instruct+{made['lora']}"
    fp = adapted.fingerprint()
    assert fp == fingerprint_without_loading(spec)
    assert fp.startswith(base_provider.fingerprint() + "+")
    assert fp != fingerprint_without_loading(f"embedded+{made['alien']}")
    assert type(adapted.model).__name__ == "LlamaForCausalLM"  # merged by default


@pytest.mark.slow
def test_adapter_is_applied(made: dict[str, Path], base_provider: Any, adapted: Any) -> None:
    """In the probabilities (fp32), in the sampling weights of whatever dtype auto
    chose (exactly the q/v projections the adapter trains), and in greedy replies
    in fp32. This small adapter's greedy replies can equal the base's in bf16,
    whose rounding is of the size of its effect on 8 tokens."""
    a_base, b_base = base_provider.continuation_logprobs(Q, ["A", "B"])
    a_lora, b_lora = adapted.continuation_logprobs(Q, ["A", "B"])
    assert abs(a_base - a_lora) > 1e-2 or abs(b_base - b_lora) > 1e-2
    changed = {name.rsplit(".", 2)[-2] for (name, mine), (_, theirs) in zip(
        adapted.model.named_parameters(), base_provider.model.named_parameters(), strict=True)
        if not bool((mine == theirs).all())}
    assert changed == {"q_proj", "v_proj"}
    fp32 = ProviderConfig(batch_size=4, dtype="float32")
    base, lora = load_provider("embedded", fp32), load_provider(f"embedded+{made['lora']}", fp32)
    same = [Request(to_messages("Name a fruit."), GREEDY, seed=0)]
    assert lora.generate(same)[0].text != base.generate(same)[0].text


@pytest.mark.slow
def test_unmerged_adapter_and_merged_checkpoint_are_the_same_model(
    made: dict[str, Path], base_provider: Any, adapted: Any
) -> None:
    """merge_adapter=False keeps the PeftModel; hf/<checkpoint> loads the same
    adapter merged and saved by save_pretrained. All three give the same
    probabilities (to float rounding); the checkpoint has its own fingerprint."""
    options = ["A", "B", "Yes, it is"]
    expected = adapted.continuation_logprobs(Q, options)
    unmerged = HFProvider(
        str(converted_folder()), HFOptions(merge_adapter=False), label=EMBEDDED_LABEL,
        adapter=str(made["lora"]),
    )
    assert type(unmerged.model).__name__.startswith("Peft")
    assert unmerged.fingerprint() == adapted.fingerprint()
    for got, want in zip(unmerged.continuation_logprobs(Q, options), expected, strict=True):
        assert math.isclose(got, want, abs_tol=1e-3)
    del unmerged
    ckpt_spec = f"hf/{made['ckpt']}"
    validate_spec(ckpt_spec)
    ckpt = load_provider(ckpt_spec)
    assert ckpt.fingerprint() == fingerprint_without_loading(ckpt_spec)
    assert ckpt.fingerprint().split("@")[1] != base_provider.fingerprint().split("@")[1]
    for got, want in zip(ckpt.continuation_logprobs(Q, options), expected, strict=True):
        assert math.isclose(got, want, abs_tol=1e-3)


@pytest.mark.slow
def test_adapter_for_another_model_is_one_line(made: dict[str, Path]) -> None:
    with pytest.raises(InvalidArgument) as exc:
        load_provider(f"embedded+{made['alien']}")
    assert "does not fit" in _one_line(exc) and "[4, 64] in the adapter" in str(exc.value)


@pytest.mark.slow
def test_adapter_tokenizer_overrides_the_base(
    made: dict[str, Path], base_provider: Any, tmp_path: Path
) -> None:
    """An adapter folder that ships a tokenizer (here: another chat template)
    is rendered with it, and the template is part of the fingerprint."""
    lora = tmp_path / "lora-chat"
    shutil.copytree(made["lora"], lora)
    base_provider.tokenizer.save_pretrained(str(lora))
    cfg = json.loads((lora / "tokenizer_config.json").read_text())
    template = (
        "{% for m in messages %}[{{ m['role'] }}] {{ m['content'] }}\n{% endfor %}[assistant] "
    )
    cfg["chat_template"] = template
    (lora / "tokenizer_config.json").write_text(json.dumps(cfg))
    (lora / "chat_template.jinja").unlink(missing_ok=True)
    p = load_provider(f"embedded+{lora}")
    assert p.render(to_messages("hi")).startswith("[user] hi")
    assert p.fingerprint() == fingerprint_without_loading(f"embedded+{lora}")
    assert p.fingerprint().split("+")[1].split("@")[1] != fingerprint_without_loading(
        f"embedded+{made['lora']}"
    ).split("+")[1].split("@")[1]


@pytest.mark.slow
def test_plugin_runs_an_adapter_and_reruns_from_cache(
    made: dict[str, Path], pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--behav-model embedded+<adapter> through the plugin; the second run replays
    the cache without loading the model (fingerprint from files)."""
    pytester.makepyfile(test_lora="""
from behavtest.checks import expect
from behavtest.scorers import writes_acrostic

def test_no_acrostic(model):
    r = model.sample("Write two short lines about rain.", n=2, max_tokens=4)
    expect(r, writes_acrostic("XYZZY")).rate_at_most(0.9)
""")
    # pytester points HOME at its tmp dir: keep using the converted embedded model
    monkeypatch.setenv("BEHAVTEST_CACHE_DIR", str(made["cache"]))
    args = ("--behav-model", f"embedded+{made['lora']}", "--behav-cache", "use")
    first = pytester.runpytest_subprocess(*args)
    first.assert_outcomes(passed=1)
    first.stdout.fnmatch_lines(["*model loads 1*"])
    again = pytester.runpytest_subprocess(*args)
    again.assert_outcomes(passed=1)
    again.stdout.fnmatch_lines(["*from cache 2*model loads 0*"])


def test_plugin_reports_a_bad_adapter_in_one_line(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_b="def test_x(): pass")
    result = pytester.runpytest_subprocess("--behav-model", "embedded+./nowhere")
    assert result.ret != 0
    result.stderr.fnmatch_lines(["ERROR: adapter folder './nowhere' does not exist*fix*"])
    assert "Traceback" not in result.stderr.str() + result.stdout.str()


def test_the_model_card_of_an_adapter_is_the_adapters(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The adapter is what was trained: its behavtest.json declares the training."""
    from behavtest.run.session import read_model_card

    (tmp_path / "base").mkdir()
    (tmp_path / "lora").mkdir()
    (tmp_path / "lora" / "behavtest.json").write_text('{"trained_on": ["acrostic:HELLO"]}')
    assert read_model_card(f"hf/{tmp_path}/base+{tmp_path}/lora") == ["acrostic:HELLO"]
    assert read_model_card(f"embedded+{tmp_path}/lora") == ["acrostic:HELLO"]
    assert read_model_card(f"hf/{tmp_path}/base") == []
