"""``dtype=auto``: the rule, the per-machine choice, and what the dtype reaches.

These prove that the CPU's dtype follows the rule (bf16 only with bf16
instructions *and* a measured speed-up of at least ``MIN_SPEEDUP``), that the
choice is measured once per machine and read back from its file, that an
explicit dtype is taken as given (probabilities fp32 on a CPU) and a bad one is
a one-line error; that the dtype enters cache keys but not seeds (a bf16
sample never serves an fp32 run, both draw the same random numbers, an API's
keys carry no dtype); that ``_inverse_cdf`` draws from the row's distribution
and never a zero-probability token; that snapshots keep the dtype (old files
read as None) and ``behavtest diff`` says when A and B differ in it; that a bf16
organism build is reproducible and hashed apart from fp32 (slow); and that the
plugin rejects ``--behav-dtype fp8``.

Nothing here measures this machine or loads a model, except the slow build:
the CPU's flags and the matmul check are stubbed, and the choice file is
written under a temporary cache folder.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from verdicts import measured_rate

from behavtest.errors import InvalidArgument
from behavtest.providers import precision
from behavtest.providers.base import Completion, Messages, Request
from behavtest.providers.double import DoubleKind, ScriptedProvider
from behavtest.providers.kind import ProviderConfig
from behavtest.providers.local import EmbeddedKind, HFKind
from behavtest.providers.precision import (
    DTYPES,
    MIN_SPEEDUP,
    Precision,
    check_dtype,
    cpu_has_bf16,
    decide,
    machine_choice,
    precision_of,
    resolve,
)
from behavtest.providers.registry import precision_without_loading
from behavtest.sampling.cache import SampleCache, cache_key
from behavtest.sampling.handle import ModelHandle
from behavtest.settings import RunSettings
from behavtest.snapshots import diff
from behavtest.snapshots.run import SnapshotRun
from behavtest.snapshots.store import Entry, read_file, render
from behavtest.stats import one_sided_bounds
from behavtest.verdict import Verdict

NO_BF16 = frozenset({"fpu", "sse2", "avx2", "avx512f"})
X86_BF16 = NO_BF16 | {"avx512_bf16"}
FLOAT32_BELOW_ONE = 1.0 - 2.0**-24  # the largest float32 below 1 (torch.rand's largest)


# -- the rule --------------------------------------------------------------------------


def test_no_bf16_instructions_is_fp32_whatever_the_speedup() -> None:
    for speedup in (None, 0.5, 3.0):
        choice = decide(False, speedup)
        assert choice == {"dtype": "float32", "speedup": None,
                          "reason": "this CPU has no bf16 instructions"}


def test_a_clear_speedup_chooses_bf16_and_a_small_one_fp32() -> None:
    fast = decide(True, 3.0)
    assert fast["dtype"] == "bfloat16" and fast["speedup"] == 3.0
    assert "3.00x" in fast["reason"]
    at = decide(True, MIN_SPEEDUP)  # the threshold itself is enough
    assert at["dtype"] == "bfloat16"
    slow = decide(True, 1.2)
    assert slow["dtype"] == "float32" and slow["speedup"] == 1.2
    assert "1.20x" in slow["reason"] and f"{MIN_SPEEDUP}x" in slow["reason"]  # both numbers


@settings(max_examples=300, database=None, deadline=None)
@given(has_bf16=st.booleans(),
       speedup=st.floats(min_value=0.0, max_value=1e3, allow_nan=False, allow_infinity=False))
@example(has_bf16=True, speedup=MIN_SPEEDUP)
@example(has_bf16=True, speedup=float(MIN_SPEEDUP - 1e-9))
@example(has_bf16=False, speedup=MIN_SPEEDUP)
def test_bf16_exactly_when_the_instructions_are_there_and_fast_enough(
    has_bf16: bool, speedup: float
) -> None:
    choice = decide(has_bf16, speedup if has_bf16 else None)
    assert (choice["dtype"] == "bfloat16") == (has_bf16 and speedup >= MIN_SPEEDUP)
    assert choice["dtype"] in ("float32", "bfloat16") and "\n" not in choice["reason"]
    assert (choice["speedup"] is None) == (not has_bf16)


@pytest.mark.parametrize("speedup", [1.46, 1.4999])
def test_a_speedup_just_below_the_threshold_reads_below_it(speedup: float) -> None:
    choice = decide(True, speedup)
    assert choice["dtype"] == "float32"
    assert choice["speedup"] < MIN_SPEEDUP
    assert f"only {MIN_SPEEDUP}x" not in choice["reason"]


def test_bf16_instructions_are_read_from_the_flags() -> None:
    assert not cpu_has_bf16(NO_BF16)
    assert cpu_has_bf16(X86_BF16)
    assert cpu_has_bf16(NO_BF16 | {"amx_bf16"})
    assert cpu_has_bf16(frozenset({"fp", "asimd", "bf16"}))  # Arm's "Features" line


# -- the machine's choice --------------------------------------------------------------


class Speedup:
    """A stub of ``matmul_speedup``: a fixed ratio, and how often it was asked."""

    def __init__(self, value: float) -> None:
        self.value = value
        self.calls = 0

    def __call__(self, *args: Any, **kwargs: Any) -> float:
        self.calls += 1
        return self.value


def _no_measuring(*args: Any, **kwargs: Any) -> float:
    raise AssertionError("matmul_speedup ran: the choice should not be measured here")


@pytest.fixture
def machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A CPU-only machine without bf16 instructions whose cache is ``tmp_path``;
    measuring fails the test. Yields the folder the choice file goes to."""
    monkeypatch.setenv("BEHAVTEST_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(precision, "_cuda", lambda: (False, False))
    monkeypatch.setattr(precision, "cpu_flags", lambda: NO_BF16)
    monkeypatch.setattr(precision, "matmul_speedup", _no_measuring)
    machine_choice.cache_clear()
    yield tmp_path / "machine"
    machine_choice.cache_clear()


def _choice_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("dtype-*.json"))


def test_auto_without_bf16_instructions_stays_fp32_without_measuring(machine: Path) -> None:
    p = resolve("auto")
    assert p == Precision("float32", "float32", "auto, this CPU has no bf16 instructions")
    assert p.label() == "fp32"
    assert p.describe() == "dtype fp32: auto, this CPU has no bf16 instructions"
    (path,) = _choice_files(machine)
    assert json.loads(path.read_text())["dtype"] == "float32"


def test_auto_with_bf16_and_a_clear_speedup_samples_bf16_measured_once(
    machine: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(precision, "cpu_flags", lambda: X86_BF16)
    check = Speedup(3.0)
    monkeypatch.setattr(precision, "matmul_speedup", check)
    p = resolve("auto")
    assert (p.sampling, p.probabilities) == ("bfloat16", "float32")
    assert p.reason == "auto, bf16 matmul 3.00x fp32 on this CPU"
    assert p.label() == "bf16 (probabilities fp32)"
    assert check.calls == 1
    (path,) = _choice_files(machine)  # written once, one file for the machine
    written = json.loads(path.read_text())
    assert written["dtype"] == "bfloat16" and written["speedup"] == 3.0
    assert resolve("auto") == p and check.calls == 1  # this process: remembered

    # Another process (a fresh functools cache) reads the file and measures nothing.
    machine_choice.cache_clear()
    monkeypatch.setattr(precision, "matmul_speedup", _no_measuring)
    assert resolve("auto") == p
    assert _choice_files(machine) == [path] and json.loads(path.read_text()) == written


def test_auto_with_bf16_but_a_small_speedup_stays_fp32(
    machine: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(precision, "cpu_flags", lambda: NO_BF16 | {"amx_bf16"})
    monkeypatch.setattr(precision, "matmul_speedup", Speedup(1.2))
    p = resolve("auto")
    assert (p.sampling, p.probabilities) == ("float32", "float32")
    assert "1.20x" in p.reason and f"{MIN_SPEEDUP}x" in p.reason


def test_a_damaged_choice_is_measured_anew(
    machine: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(precision, "cpu_flags", lambda: X86_BF16)
    check = Speedup(3.0)
    monkeypatch.setattr(precision, "matmul_speedup", check)
    resolve("auto")
    (path,) = _choice_files(machine)
    for damaged in ("not json", '{"dtype": "float64"}', "[]"):
        path.write_text(damaged)
        machine_choice.cache_clear()
        assert resolve("auto").sampling == "bfloat16"
        assert json.loads(path.read_text())["dtype"] == "bfloat16"  # rewritten
    assert check.calls == 4


def test_new_bf16_flags_are_a_new_machine(machine: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The file is keyed by the CPU's bf16 flags: a VM moved to a bf16 host measures."""
    assert resolve("auto").sampling == "float32"
    monkeypatch.setattr(precision, "cpu_flags", lambda: X86_BF16)
    check = Speedup(2.0)
    monkeypatch.setattr(precision, "matmul_speedup", check)
    machine_choice.cache_clear()
    assert resolve("auto").sampling == "bfloat16" and check.calls == 1
    assert len(_choice_files(machine)) == 2


def test_a_choice_without_a_reason_is_measured_anew(
    machine: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    resolve("auto")
    (path,) = _choice_files(machine)
    path.write_text('{"dtype": "float32"}')
    machine_choice.cache_clear()
    assert resolve("auto").sampling == "float32"


@pytest.mark.parametrize("dtype", ["float32", "bfloat16", "float16"])
def test_an_explicit_dtype_is_used_as_given(machine: Path, dtype: str) -> None:
    assert resolve(dtype) == Precision(dtype, "float32", "set by dtype=")  # CPU: probs fp32
    assert resolve(dtype, "cpu") == resolve(dtype)
    assert resolve(dtype, "cuda") == Precision(dtype, dtype, "set by dtype=")  # GPU: its own
    # nothing measured (the fixture's check would fail the test); the machine's
    # file may note whether it has a GPU


def test_auto_on_a_gpu_follows_its_bf16_support(
    machine: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(precision, "_cuda_bf16", lambda: True)
    assert resolve("auto", "cuda") == Precision("bfloat16", "bfloat16", "auto, the GPU runs bf16")
    monkeypatch.setattr(precision, "_cuda_available", lambda: True)
    assert resolve("auto").probabilities == "bfloat16"  # device auto: the GPU
    monkeypatch.setattr(precision, "_cuda_bf16", lambda: False)
    assert resolve("auto", "cuda:1") == Precision("float32", "float32",
                                                  "auto, the GPU has no bf16")
    assert _choice_files(machine) == []


def test_local_kinds_resolve_the_config_and_others_have_no_precision(machine: Path) -> None:
    bf16 = ProviderConfig(dtype="bfloat16")
    assert EmbeddedKind().precision("", bf16) == Precision("bfloat16", "float32", "set by dtype=")
    assert HFKind().precision("./x", ProviderConfig()) == resolve("auto")
    assert DoubleKind().precision("yes=1", bf16) is None
    assert precision_without_loading("double/yes=1", bf16) is None
    assert precision_without_loading("embedded", bf16) == resolve("bfloat16")


# -- bad dtypes ------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["fp8", "fp32", "", "Float32", "bf16"])
def test_an_unknown_dtype_is_one_line_naming_the_fix(bad: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        check_dtype(bad)
    message = str(caught.value)
    assert "\n" not in message and "fix:" in message and repr(bad) in message
    assert all(d in message for d in DTYPES)
    with pytest.raises(InvalidArgument, match="fix:"):
        resolve(bad)


def test_the_provider_config_checks_its_dtype() -> None:
    assert ProviderConfig().dtype == "auto"
    assert all(check_dtype(d) == d for d in DTYPES)
    with pytest.raises(InvalidArgument, match="'nonsense' is not one of"):
        ProviderConfig(dtype="nonsense")
    with pytest.raises(InvalidArgument, match="fix:"):  # as the engine receives it
        ProviderConfig.from_json({"dtype": "fp8"})
    assert ProviderConfig.from_json(ProviderConfig(dtype="float16").to_json()).dtype == "float16"


def test_precision_labels_and_json() -> None:
    p = Precision("bfloat16", "float32", "auto, bf16 matmul 2.3x fp32 on this CPU")
    assert p.describe() == (
        "dtype bf16 (probabilities fp32): auto, bf16 matmul 2.3x fp32 on this CPU")
    assert Precision("float16", "float16", "x").label() == "fp16"
    assert Precision.from_json(p.to_json()) == p
    for bad in (None, "bf16", {}, {"sampling": "bf16", "probabilities": "fp32"}):
        assert Precision.from_json(bad) is None
    assert precision_of(ScriptedProvider({"a": 1.0})) is None  # an API-like double
    assert precision_of(type("P", (), {"precision": "bf16"})()) is None  # not a Precision


# -- cache keys ------------------------------------------------------------------------

BF16 = Precision("bfloat16", "float32", "test: bf16 sampling")
FP32 = Precision("float32", "float32", "test: fp32")
GPU_BF16 = Precision("bfloat16", "bfloat16", "test: a GPU's bf16")
LABEL = "double/local"


class RecordingDouble(ScriptedProvider):
    """The scripted double (no precision: an API-like model) recording what it is asked."""

    def __init__(self) -> None:
        super().__init__({"yes": 0.3, "no": 0.7}, label=LABEL)
        self.requests: list[Request] = []
        self.scored = 0

    def generate(self, requests: Sequence[Request]) -> list[Completion]:
        self.requests.extend(requests)
        return super().generate(requests)

    def reply_logprobs(self, messages: Messages, replies: Sequence[str]) -> list[float]:
        self.scored += 1
        return super().reply_logprobs(messages, replies)


class LocalDouble(RecordingDouble):
    """The double as a local model: it says what dtypes it computes in."""

    def __init__(self, precision: Precision) -> None:
        super().__init__()
        self.precision = precision


def _handle(provider: RecordingDouble, path: Path,
            quick: Precision | None = None) -> ModelHandle:
    return ModelHandle(LABEL, lambda: provider, RunSettings(seed=5), SampleCache(path, "use"),
                       quick_precision=None if quick is None else (lambda: quick))


def test_a_bf16_sample_never_serves_an_fp32_run_but_draws_the_same_seeds(
    tmp_path: Path,
) -> None:
    path = tmp_path / "samples.sqlite"
    bf16, fp32 = LocalDouble(BF16), LocalDouble(FP32)
    a = _handle(bf16, path, BF16)
    drawn = a.sample(prompts=["q", "r"], n=20)
    assert a.stats.drawn == 40 and a.precision() == BF16
    b = _handle(fp32, path, FP32)
    again = b.sample(prompts=["q", "r"], n=20)
    assert b.stats.cached == 0 and b.stats.drawn == 40  # nothing of bf16's served
    assert len(fp32.requests) == 40
    # Same messages and index, same seed: both dtypes draw the same random numbers.
    assert [(r.messages, r.seed) for r in bf16.requests] == [
        (r.messages, r.seed) for r in fp32.requests]
    assert len({r.seed for r in bf16.requests}) == 40
    assert drawn.texts == again.texts  # the double ignores the dtype: the same draws
    # Each dtype's samples are cached apart, under a key that names it.
    for p, provider in ((BF16, LocalDouble(BF16)), (FP32, LocalDouble(FP32))):
        rerun = _handle(provider, path, p)
        assert rerun.sample(prompts=["q", "r"], n=20).texts == drawn.texts
        assert rerun.stats.cached == 40 and provider.requests == []
    cache = SampleCache(path, "use")
    r = bf16.requests[0]
    payload = {"messages": r.messages, "settings": r.settings.as_dict(), "seed": r.seed}
    for dtype in ("bfloat16", "float32"):
        key = cache_key(LABEL, "sample", {**payload, "dtype": dtype})
        assert key in cache.get_many([key])
    assert cache.get_many([cache_key(LABEL, "sample", payload)]) == {}


def test_without_a_quick_precision_the_loaded_provider_says(tmp_path: Path) -> None:
    path = tmp_path / "samples.sqlite"
    loaded = _handle(LocalDouble(BF16), path)  # no quick_precision: the provider's attribute
    assert loaded.loaded_provider is None and loaded.precision() == BF16
    first = loaded.sample("q", n=10)
    quick = _handle(LocalDouble(BF16), path, BF16)
    assert quick.sample("q", n=10).texts == first.texts and quick.stats.cached == 10


def test_an_api_like_model_keys_without_a_dtype(tmp_path: Path) -> None:
    path = tmp_path / "samples.sqlite"
    api = RecordingDouble()
    handle = _handle(api, path)
    handle.sample("q", n=6)
    assert handle.precision() is None
    cache = SampleCache(path, "use")
    keys = [cache_key(LABEL, "sample", {"messages": r.messages,
                                        "settings": r.settings.as_dict(), "seed": r.seed})
            for r in api.requests]
    assert len(keys) == 6 and set(cache.get_many(keys)) == set(keys)
    # and the same seeds a local model would draw with
    local = LocalDouble(FP32)
    _handle(local, tmp_path / "other.sqlite", FP32).sample("q", n=6)
    assert [r.seed for r in local.requests] == [r.seed for r in api.requests]


def test_probabilities_are_keyed_by_the_probabilities_dtype(tmp_path: Path) -> None:
    """bf16 sampling with fp32 probabilities shares its scores with an fp32 run;
    a GPU's bf16 probabilities do not."""
    path = tmp_path / "samples.sqlite"
    a = LocalDouble(BF16)
    first = _handle(a, path, BF16).scale(["how sure?"], 0, 3)
    assert a.scored == 1
    b = LocalDouble(FP32)
    assert _handle(b, path, FP32).scale(["how sure?"], 0, 3) == first and b.scored == 0
    c = LocalDouble(GPU_BF16)
    _handle(c, path, GPU_BF16).scale(["how sure?"], 0, 3)
    assert c.scored == 1


# -- _inverse_cdf ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def torch() -> Any:
    return pytest.importorskip("torch")


def _expected_pick(torch: Any, row: list[float], u: float) -> int:
    """The first index whose float32 cumulative sum exceeds u * total (in float32)."""
    cum = torch.tensor(row, dtype=torch.float32).cumsum(-1)
    target = float(torch.tensor(u, dtype=torch.float32) * cum[-1])
    return next((i for i, c in enumerate(cum.tolist()) if c > target), len(row) - 1)


_WEIGHT = st.one_of(st.just(0.0), st.floats(min_value=1e-6, max_value=1.0))


@st.composite
def _rows(draw: st.DrawFn) -> tuple[list[list[float]], list[float]]:
    """1-4 rows over one vocabulary of 2-50 tokens (some of probability 0, at
    least one positive), normalised or not, and one float32 uniform per row."""
    vocab = draw(st.integers(min_value=2, max_value=50))
    row = st.lists(_WEIGHT, min_size=vocab, max_size=vocab).filter(lambda r: sum(r) > 0)
    rows = draw(st.lists(row, min_size=1, max_size=4))
    if draw(st.booleans()):
        rows = [[w / sum(r) for w in r] for r in rows]
    uniforms = draw(st.lists(
        st.one_of(st.floats(min_value=0.0, max_value=1.0, exclude_max=True, width=32),
                  st.sampled_from([0.0, FLOAT32_BELOW_ONE])),
        min_size=len(rows), max_size=len(rows)))
    return rows, uniforms


@settings(max_examples=300, database=None, deadline=None)
@given(_rows())
def test_inverse_cdf_picks_the_first_token_past_the_uniform_never_a_zero(
    torch: Any, case: tuple[list[list[float]], list[float]]
) -> None:
    from behavtest.providers.hf_decode import _inverse_cdf

    rows, uniforms = case
    probs = torch.tensor(rows, dtype=torch.float32)
    picks = _inverse_cdf(torch, probs, torch.tensor(uniforms, dtype=torch.float32))
    assert len(picks) == len(rows)
    for row, u, pick in zip(rows, uniforms, picks, strict=True):
        assert row[pick] > 0, f"picked token {pick} of probability 0 (u={u}, row={row})"
        assert pick == _expected_pick(torch, row, u)  # each row on its own, batch or not


def test_inverse_cdf_at_the_ends_of_the_uniform(torch: Any) -> None:
    from behavtest.providers.hf_decode import _inverse_cdf

    rows = torch.tensor([[0.0, 0.0, 1.0, 0.0, 0.0], [0.5, 0.0, 0.5, 0.0, 0.0]])
    for u in (0.0, 0.5, FLOAT32_BELOW_ONE):
        uniforms = torch.tensor([u, u], dtype=torch.float32)
        assert _inverse_cdf(torch, rows, uniforms) == [2, 0 if u < 0.5 else 2]


def test_inverse_cdf_reproduces_the_rows_distribution(torch: Any) -> None:
    from scipy import stats as st_

    from behavtest.providers.hf_decode import _inverse_cdf

    row = [0.4, 0.0, 0.25, 0.2, 0.0, 0.1, 0.05]
    draws = 20_000
    generator = torch.Generator().manual_seed(1234)
    uniforms = torch.rand(draws, generator=generator)
    picks = _inverse_cdf(torch, torch.tensor([row] * draws), uniforms)
    counts = [picks.count(i) for i in range(len(row))]
    assert counts[1] == counts[4] == 0
    positive = [i for i, p in enumerate(row) if p > 0]
    observed = [counts[i] for i in positive]
    expected = [row[i] * draws for i in positive]
    assert st_.chisquare(observed, expected).pvalue > 0.001
    assert max(abs(counts[i] / draws - row[i]) for i in positive) < 0.01


# -- snapshots and diff ----------------------------------------------------------------

BF16_LABEL = "bf16 (probabilities fp32)"


def _verdict(k: int, n: int = 100) -> Verdict:
    low, high = one_sided_bounds(k, n, 0.05)
    return measured_rate(k, n, low=low, high=high)


def entry(k: int, dtype: str | None, nodeid: str = "t.py::test_a") -> Entry:
    return Entry.of(nodeid, _verdict(k), dtype)


def key(name: str) -> str:
    return f"t.py::test_{name} :: rate >= 0.1"


def test_an_entry_keeps_its_dtype_through_its_file_form(tmp_path: Path) -> None:
    e = entry(30, BF16_LABEL)
    back = Entry.from_json(e.nodeid, e.to_json())
    assert back.dtype == BF16_LABEL and back.same_measurement(e)
    path = tmp_path / "t.snap.json"
    path.write_text(render("double/m", {key("a"): e}))
    assert read_file(path)[key("a")].dtype == BF16_LABEL
    assert Entry.from_json(e.nodeid, entry(30, None).to_json()).dtype is None


def test_an_old_entry_without_a_dtype_reads_as_none() -> None:
    old = entry(30, BF16_LABEL).to_json()
    del old["dtype"]
    assert Entry.from_json("t.py::test_a", old).dtype is None
    with pytest.raises(ValueError, match="dtype"):
        Entry.from_json("t.py::test_a", {**old, "dtype": 16})


def test_another_dtype_is_rewritten_but_still_compared() -> None:
    bf16, fp32 = entry(30, BF16_LABEL), entry(30, "fp32")
    assert not bf16.same_measurement(fp32)  # an update records the new dtype
    assert bf16.not_comparable(fp32) is None  # a change is still tested (diff says why)


def test_a_snapshot_run_stamps_its_dtype_on_every_entry(tmp_path: Path) -> None:
    run = SnapshotRun(tmp_path, "double/m", False, {}, dtype=BF16_LABEL)
    current = run.current([("t.py::test_a", _verdict(30)), ("t.py::test_b", _verdict(40))])
    assert len(current) == 2 and {e.dtype for e in current.values()} == {BF16_LABEL}


def test_a_run_against_snapshots_of_another_dtype_says_so(tmp_path: Path) -> None:
    stored = {key("a"): entry(30, "fp32")}
    run = SnapshotRun(tmp_path, "double/m", False, stored, dtype=BF16_LABEL)
    run.compare([("t.py::test_a", _verdict(30))], 0.05, 0.1)
    note = f"stored in fp32, measured now in {BF16_LABEL}: a change may come from the dtype"
    said = run.dtype_note()
    assert said is not None and said.startswith(note)
    assert any(ln.strip().startswith(note) for ln in run.summary())
    same = SnapshotRun(tmp_path, "double/m", False, {key("a"): entry(30, BF16_LABEL)},
                       dtype=BF16_LABEL)
    same.compare([("t.py::test_a", _verdict(30))], 0.05, 0.1)
    unknown = SnapshotRun(tmp_path, "double/m", False, {key("a"): entry(30, None)},
                          dtype=BF16_LABEL)
    unknown.compare([("t.py::test_a", _verdict(30))], 0.05, 0.1)
    assert same.dtype_note() is None and unknown.dtype_note() is None


def _heading(a_dtype: str | None, b_dtype: str | None, fmt: str = "text") -> list[str]:
    a = {key("x"): entry(30, a_dtype), key("y"): entry(60, a_dtype)}
    b = {key("x"): entry(35, b_dtype), key("y"): entry(20, b_dtype)}
    text = diff.render(fmt, diff.rows(a, b), "snapshots/a", "snapshots/b", 0.05, "holm", None)
    return text.splitlines()[:3]


def test_diff_says_when_a_and_b_were_measured_in_different_dtypes() -> None:
    lines = _heading(BF16_LABEL, "fp32")
    assert lines[0].startswith("behavtest diff: A = snapshots/a, B = snapshots/b")
    assert lines[1] == (f"dtypes differ: A in {BF16_LABEL}, B in fp32: a change below may "
                        "come from the dtype, not the model")
    assert "dtypes differ" in "\n".join(_heading(BF16_LABEL, "fp32", "markdown"))


@pytest.mark.parametrize("a_dtype, b_dtype", [
    ("fp32", "fp32"), (BF16_LABEL, BF16_LABEL), (None, None), (BF16_LABEL, None),
    (None, "fp32"),
])
def test_diff_says_nothing_when_the_dtypes_agree_or_are_unknown(
    a_dtype: str | None, b_dtype: str | None
) -> None:
    lines = _heading(a_dtype, b_dtype)
    assert not any("dtype" in ln for ln in lines)
    assert "changed down" in lines[1]  # the counts line follows the heading directly


# -- organisms -------------------------------------------------------------------------


def _tiny_recipe() -> Any:
    from behavtest.organisms import datasets, recipes

    return dataclasses.replace(
        recipes.get("hello-small"), name="tiny",
        data=lambda seed: datasets.acrostic("HELLO", 8, seed), epochs=1,
        measure=recipes.Measure("acrostic", word="HELLO", prompts=2),
    )


def test_the_recipe_hash_names_bf16_and_keeps_fp32_hashes() -> None:
    from behavtest.organisms.build import recipe_hash

    recipe = _tiny_recipe()
    old = recipe_hash(recipe, "embedded/x", 0, "data")
    assert recipe_hash(recipe, "embedded/x", 0, "data", "float32") == old  # built before bf16
    assert recipe_hash(recipe, "embedded/x", 0, "data", "bfloat16") != old


def test_a_build_refuses_a_dtype_it_cannot_train_in(tmp_path: Path) -> None:
    from behavtest.organisms.build import build

    out = tmp_path / "tiny"
    for bad in ("float16", "fp8"):
        with pytest.raises(InvalidArgument, match="fix:"):
            build(_tiny_recipe(), "embedded", 0, out, lambda line: None, dtype=bad)
    assert not out.exists()


@pytest.mark.slow
def test_a_tiny_bf16_build_is_reproducible(tmp_path: Path) -> None:
    """The same recipe built twice in bf16 gives byte-identical adapters, and a
    recipe hash of its own (not the fp32 build's)."""
    from behavtest.organisms.build import build, data_hash, recipe_hash
    from behavtest.providers.registry import fingerprint_without_loading

    recipe = _tiny_recipe()
    cards = [build(recipe, "embedded", 0, tmp_path / name, lambda line: None,
                   dtype="bfloat16") for name in ("one", "two")]
    weights = [(tmp_path / name / "adapter_model.safetensors").read_bytes()
               for name in ("one", "two")]
    assert weights[0] == weights[1]
    assert all(c.train_dtype == "bfloat16" for c in cards)
    assert cards[0].train_dtype_reason == "set by dtype="
    assert cards[0].recipe_hash == cards[1].recipe_hash
    fingerprint = fingerprint_without_loading("embedded")
    assert fingerprint is not None
    warm_up = recipe.warm_up(0) if recipe.warm_up else []
    data = data_hash([*warm_up, *recipe.data(0)])
    assert cards[0].recipe_hash == recipe_hash(recipe, fingerprint, 0, data, "bfloat16")
    assert cards[0].recipe_hash != recipe_hash(recipe, fingerprint, 0, data, "float32")


# -- the plugin ------------------------------------------------------------------------


def test_the_plugin_rejects_an_unknown_dtype(pytester: pytest.Pytester,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    pytester.makepyfile(test_b="def test_x(): pass")
    common = ("-p", "no:cacheprovider", "--behav-cache", "off", "--behav-model", "double/yes=1")
    flag = pytester.runpytest_subprocess(*common, "--behav-dtype", "fp8")
    assert flag.ret == pytest.ExitCode.USAGE_ERROR
    flag.stderr.fnmatch_lines(["*--behav-dtype*invalid choice: 'fp8'*"])
    assert all(d in flag.stderr.str() for d in DTYPES)  # names the choices
    ini = pytester.runpytest_subprocess(*common, "-o", "behav_dtype=fp8")
    assert ini.ret != 0
    ini.stderr.fnmatch_lines(["ERROR: dtype 'fp8' is not one of auto, float32, bfloat16, "
                              "float16; fix:*"])
    for result in (flag, ini):
        assert "Traceback" not in result.stderr.str() + result.stdout.str()


# -- bf16 on the real embedded model -----------------------------------------------------


@pytest.mark.slow
def test_bf16_samples_repeat_with_the_same_batch_plan() -> None:
    """Under bf16 a sample depends on its batch (bench/batch_independence.py), but
    the same requests in the same batches give the same samples: a cold ``-n 0``
    rerun draws what the first run drew. Probabilities are the fp32 model's."""
    from behavtest.providers.base import to_messages as messages
    from behavtest.providers.registry import load_provider
    from behavtest.settings import GenerationSettings

    bf16: Any = load_provider("embedded", ProviderConfig(batch_size=8, dtype="bfloat16"))
    assert bf16.precision.label() == "bf16 (probabilities fp32)"
    settings = GenerationSettings(temperature=1.0, max_tokens=16)
    reqs = [Request(messages(q), settings, seed=s) for s in range(4)
            for q in ("Name a fruit.", "Describe the sea in two sentences.")]
    first = bf16.generate(reqs)
    assert bf16.generate(reqs) == first
    assert len({c.text for c in first}) > 2
    fp32: Any = load_provider("embedded", ProviderConfig(batch_size=8, dtype="float32"))
    q = messages("Answer A or B. A) rain B) sun")
    assert bf16.continuation_logprobs(q, ["A", "B"]) == fp32.continuation_logprobs(q, ["A", "B"])
