"""Every option of the plugin, declared once: its flag, its ini key, its type.

The naming rule: in pytest every behavtest option is ``--behav-<name>`` and its
ini key ``behav_<name>`` (as syrupy's ``--snapshot-*`` and hypothesis's
``--hypothesis-*``: a plugin's options never collide with another's), every
marker ``behav_<name>``; the ``behavtest`` command's subcommands spell the same
setting ``--<name>`` (``behavtest diff --alpha`` is ``--behav-alpha``).

One table, registered in one loop as both a command-line option (one group,
explicit ``dest``) and an ini/pyproject key of the same name, so the two can
never drift apart. Values stay plain strings or lists of lines (xdist
serialises options to its workers) and become objects in :func:`build_session`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pytest

from behavtest.files import check_writable, write_problem
from behavtest.providers.kind import DEFAULT_BATCH_SIZE, ProviderConfig
from behavtest.providers.precision import DTYPES
from behavtest.providers.registry import DEFAULT_MODEL
from behavtest.run.session import CORRECTIONS, FAMILY_MODES, Session
from behavtest.sampling.cache import CACHE_MODES
from behavtest.settings import (
    INCONCLUSIVE_POLICIES,
    PROFILES,
    GenerationSettings,
    default_profile_name,
)
from behavtest.snapshots.run import SnapshotRun

Kind = Literal["string", "lines", "flag"]


@dataclass(frozen=True)
class Option:
    """One setting: ``--flag`` on the command line, ``ini`` in pytest.ini/pyproject."""

    flag: str | None  # None: an ini key only
    ini: str
    help: str
    kind: Kind = "string"
    choices: tuple[str, ...] | None = None


MODEL_OPTION = "--behav-model"
BASELINE_OPTION = "--behav-baseline"
CHECKPOINTS_OPTION = "--behav-checkpoints"
SAMPLES_OPTION = "--behav-samples"
ALPHA_OPTION = "--behav-alpha"
SEED_OPTION = "--behav-seed"
TRAINED_ON_OPTION = "--behav-trained-on"
SEQUENTIAL_OPTION = "--behav-sequential"
INCONCLUSIVE_OPTION = "--behav-inconclusive"
PROFILE_OPTION = "--behav-profile"
CACHE_OPTION = "--behav-cache"
BATCH_OPTION = "--behav-batch-size"
DTYPE_OPTION = "--behav-dtype"
BASE_URL_OPTION = "--behav-base-url"
ENGINE_OPTION = "--behav-engine"
ICC_OPTION = "--behav-icc"
MIN_MASS_OPTION = "--behav-min-mass"
CORRECTION_OPTION = "--behav-correction"
FAMILY_OPTION = "--behav-family"
SNAPSHOTS_OPTION = "--behav-snapshots"
SNAPSHOT_UPDATE_OPTION = "--behav-snapshot-update"
SNAPSHOT_AS_OPTION = "--behav-snapshot-as"
CARD_OPTION = "--behav-card"
JUDGE_OPTION = "--behav-judge"
REPORT_OPTION = "--behav-report"
SUMMARY_OPTION = "--behav-summary"

OPTIONS: tuple[Option, ...] = (
    Option(MODEL_OPTION, "behav_model", f"model under test, provider/name (default: "
           f"{DEFAULT_MODEL}); repeat it or give an hf/ glob for an arm of fine-tune seeds",
           "lines"),
    Option(BASELINE_OPTION, "behav_baseline", "baseline model to compare with (tests needing "
           "one skip without it); repeat it or give an hf/ glob for an arm", "lines"),
    Option(CHECKPOINTS_OPTION, "behav_checkpoints", "ordered checkpoints for series tests "
           "(repeat, or an hf/ glob in natural order); tests using them skip without", "lines"),
    Option(SAMPLES_OPTION, "behav_samples", "samples per prompt when a test does not set n "
           "(default 100)"),
    Option(ALPHA_OPTION, "behav_alpha", "error rate of each one-sided check (default 0.05)"),
    Option(SEED_OPTION, "behav_seed", "run seed: same seed, same samples (default 0)"),
    Option(TRAINED_ON_OPTION, "behav_trained_on", "training the model under test declares "
           "(repeatable), e.g. acrostic:HELLO; enables the properties that need it", "lines"),
    Option(SEQUENTIAL_OPTION, "behav_sequential", "rate checks draw in looks and stop once "
           "decided (group-sequential, error rates kept); --behav-samples becomes the budget",
           "flag"),
    Option(INCONCLUSIVE_OPTION, "behav_inconclusive", "what an INCONCLUSIVE verdict does "
           "(default: xfail; fail under CI)", choices=INCONCLUSIVE_POLICIES),
    Option(PROFILE_OPTION, "behav_profile", "settings profile (default: 'ci' when $CI is set, "
           "else 'default')", choices=tuple(sorted(PROFILES))),
    Option(CACHE_OPTION, "behav_cache", "sample cache mode (default: use)", choices=CACHE_MODES),
    Option(None, "behav_cache_dir", "sample cache folder (default: <rootdir>/.behavtest_cache)"),
    Option(BATCH_OPTION, "behav_batch_size", "rows a local model decodes together "
           f"(default {DEFAULT_BATCH_SIZE})"),
    Option(DTYPE_OPTION, "behav_dtype", "what local models compute in: auto (default: bf16 "
           "where this machine runs it clearly faster, else fp32; probabilities stay fp32 "
           "on CPU), float32, bfloat16 or float16", choices=DTYPES),
    Option(BASE_URL_OPTION, "behav_base_url", "OpenAI-compatible server for openai/ models, "
           "e.g. http://127.0.0.1:8000/v1 (default: $BEHAVTEST_BASE_URL, $OPENAI_BASE_URL, "
           "else OpenAI)"),
    Option(ENGINE_OPTION, "behav_engine", "under xdist, serve each local model from one shared "
           "engine process (auto, default) or load it in every worker (off)",
           choices=("auto", "off")),
    Option(ICC_OPTION, "behav_icc", "least intra-cluster correlation assumed between replies "
           "to one prompt when a check pools several prompts (default 0.1; 0 = trust the data "
           "alone)"),
    Option(MIN_MASS_OPTION, "behav_min_mass", "least share of a model's probability a "
           "probability-based score (option probabilities, 0-100 scales) may rest on; below "
           "it the check is INCONCLUSIVE (default 0.5)"),
    Option(CORRECTION_OPTION, "behav_correction", "suite-level correction of every verdict: "
           "holm (family-wise, default), bh (false discovery rate) or none",
           choices=CORRECTIONS),
    Option(FAMILY_OPTION, "behav_family", "families the correction runs within: suite "
           "(default), module, or marker (@pytest.mark.behav_family('name'); unmarked tests "
           "form one family)", choices=FAMILY_MODES),
    Option(SUMMARY_OPTION, "behav_summary", "write a Markdown summary (for a pull-request "
           "comment) to this file; under GitHub Actions it is also appended to "
           "$GITHUB_STEP_SUMMARY"),
    Option(REPORT_OPTION, "behav_report", "write an HTML report to this file (plots, numbers "
           "and example replies of every verdict; self-contained) and the summary plot as a "
           "PNG beside it"),
    Option(SNAPSHOTS_OPTION, "behav_snapshots", "folder of stored measurements the run "
           "compares with, one subfolder per model (default: <rootdir>/snapshots; 'off' "
           "compares nothing)"),
    Option(SNAPSHOT_UPDATE_OPTION, "behav_snapshot_update", "store the selected tests' "
           "measurements as the model's snapshots (prunes only within the selection)", "flag"),
    Option(SNAPSHOT_AS_OPTION, "behav_snapshot_as", "the name the model's snapshots are "
           "stored under (default: its spec): give a fine-tune's every version one name to "
           "compare each with the last"),
    Option(JUDGE_OPTION, "behav_judge", "model that grades free-text replies in judged "
           "checks (tests needing one skip without it); its agreement with the check's "
           "shipped labelled set is printed beside the verdict, INCONCLUSIVE below the floor"),
    Option(CARD_OPTION, "behav_card", "a folder whose behavtest.json is the model card of the "
           "model under test (its claims and training), for a model without a folder of its "
           "own: behavtest gate --openai-job writes one"),
    Option(None, "behav_temperature", "sampling temperature (default 1.0; 0 = greedy)"),
    Option(None, "behav_top_p", "nucleus sampling mass (default 1.0 = off)"),
    Option(None, "behav_top_k", "top-k (default 0 = off)"),
    Option(None, "behav_max_tokens", "max tokens per reply (default 128)"),
)

_TRUE, _FALSE = ("true", "1", "yes"), ("false", "0", "no")


def register(parser: pytest.Parser) -> None:
    """Add every option to one group and every ini key, from the one table."""
    group = parser.getgroup("behavtest", "behavtest: statistical behaviour tests")
    for opt in OPTIONS:
        ini_type: Literal["linelist", "string"] = "linelist" if opt.kind == "lines" else "string"
        parser.addini(opt.ini, opt.help, type=ini_type)
        if opt.flag is None:
            continue
        extra: dict[str, Any] = {}
        if opt.kind == "lines":
            extra["action"] = "append"
        elif opt.kind == "flag":
            extra.update(action="store_const", const="true")
        if opt.choices is not None:
            extra["choices"] = opt.choices
        group.addoption(opt.flag, dest=opt.ini, default=None, help=opt.help, **extra)


def value(config: pytest.Config, name: str) -> Any:
    """An option's value: the command line first, then the ini key, else None."""
    opt = config.getoption(name, default=None)
    if opt is not None:
        return opt
    ini = config.getini(name)
    return ini if ini not in ("", []) else None


def _label(name: str) -> str:
    flag = next((o.flag for o in OPTIONS if o.ini == name), None)
    return flag or name


def _number(config: pytest.Config, name: str, kind: type) -> Any:
    raw = value(config, name)
    if raw is None:
        return None
    try:
        return kind(raw)
    except (TypeError, ValueError):
        example = "100" if kind is int else "0.05"
        raise pytest.UsageError(
            f"{_label(name)} {raw!r} is not a valid {kind.__name__}; fix: e.g. "
            f"{_label(name)} {example}"
        ) from None


def _choice(config: pytest.Config, name: str, default: str) -> str:
    """An option that selects among the table's choices (checked here: nothing else does)."""
    raw = value(config, name)
    if raw is None:
        return default
    choices = next(o.choices for o in OPTIONS if o.ini == name)
    if choices is not None and raw not in choices:
        raise pytest.UsageError(f"{name} {raw!r} is not one of {', '.join(choices)}; fix: e.g. "
                                f"{name} = {choices[0]} in the ini file, or {_label(name)} "
                                f"{choices[0]}")
    return str(raw)


def _flag(config: pytest.Config, name: str) -> bool | None:
    raw = value(config, name)
    if raw is None:
        return None
    flag = str(raw).strip().lower()
    if flag not in _TRUE + _FALSE:
        raise pytest.UsageError(f"{name} {raw!r} is not true or false")
    return flag in _TRUE


def _lines(config: pytest.Config, name: str) -> list[str]:
    """A repeatable option or linelist key; entries may also be comma-separated."""
    out: list[str] = []
    for entry in value(config, name) or []:
        out += [t.strip() for t in str(entry).split(",") if t.strip()]
    return out


def _tags(config: pytest.Config) -> list[str]:
    """``--behav-trained-on`` tags, repeated or comma-separated, each stripped; unlike
    ``_lines`` an empty one is kept, for ``Session.create`` to refuse: a tag
    left empty by mistake must not quietly enable nothing."""
    return [t.strip() for entry in value(config, "behav_trained_on") or []
            for t in str(entry).split(",")]


def build_session(config: pytest.Config, workers: int) -> Session:
    """The run's Session from its options (raises UsageError / BehavtestError)."""
    profile = _choice(config, "behav_profile", default_profile_name())
    engine_enabled(config)  # checked here, in every process: the controller stops a bad value
    changes: dict[str, Any] = {}
    for name, kind in [("behav_samples", int), ("behav_alpha", float), ("behav_seed", int),
                       ("behav_icc", float), ("behav_min_mass", float)]:
        if (v := _number(config, name, kind)) is not None:
            changes[name.removeprefix("behav_")] = v
    if (policy := value(config, "behav_inconclusive")) is not None:
        changes["inconclusive"] = policy  # RunSettings checks it
    if (seq := _flag(config, "behav_sequential")) is not None:
        changes["sequential"] = seq
    gen: dict[str, Any] = {}
    for name, kind in [("behav_temperature", float), ("behav_top_p", float),
                       ("behav_top_k", int), ("behav_max_tokens", int)]:
        if (v := _number(config, name, kind)) is not None:
            gen[name.removeprefix("behav_")] = v
    changes["generation"] = GenerationSettings(**gen)
    run = PROFILES[profile].with_(**changes)

    cache_dir = value(config, "behav_cache_dir")
    cache_root = Path(cache_dir) if cache_dir else Path(config.rootpath) / ".behavtest_cache"
    # Under xdist every worker computes: share the cores between them.
    threads = max(1, (os.cpu_count() or 1) // workers) if workers > 1 else None
    batch = _number(config, "behav_batch_size", int)
    base_url = value(config, "behav_base_url")
    providers = ProviderConfig(
        batch_size=DEFAULT_BATCH_SIZE if batch is None else batch,
        threads=threads,
        base_url=None if base_url is None else str(base_url),
        dtype=value(config, "behav_dtype") or "auto",  # ProviderConfig checks an ini value
    )
    judge_spec(config)  # a bad judge spec stops the run before any test, as a bad model does
    return Session.create(
        run=run,
        model_spec=value(config, "behav_model") or DEFAULT_MODEL,
        baseline_spec=value(config, "behav_baseline"),
        checkpoints=value(config, "behav_checkpoints") or (),
        trained_on=_tags(config),
        cache_path=cache_root / "samples.sqlite",
        # Session.create checks these (the command line's choices cannot check ini keys).
        cache_mode=value(config, "behav_cache") or "use",
        providers=providers,
        correction=value(config, "behav_correction") or "holm",
        family_mode=value(config, "behav_family") or "suite",
        card=_card(config),
    )


def judge_spec(config: pytest.Config) -> str | None:
    """The spec of the model that judges free text (``--behav-judge``), checked as a
    model spec is; None when none is named (judged tests then skip)."""
    from behavtest.providers import validate_spec

    raw = value(config, "behav_judge")
    if raw is None:
        return None
    validate_spec(str(raw))
    return str(raw)


def _card(config: pytest.Config) -> Path | None:
    """The folder ``--behav-card`` names (its card is read by ``Session.create``)."""
    raw = value(config, "behav_card")
    if raw is None:
        return None
    path = Path(str(raw)).expanduser()
    if path.is_file():
        raise pytest.UsageError(f"{CARD_OPTION} {raw} is a file; fix: pass the folder that "
                                f"holds it, e.g. {CARD_OPTION} {path.parent}")
    return path


def report_path(config: pytest.Config) -> Path | None:
    """Where ``--behav-report`` writes (see :func:`output_path`); its summary plot
    goes beside it as .png, so the report may not be named .png."""
    return output_path(config, "behav_report", png_beside=True)


def summary_path(config: pytest.Config) -> Path | None:
    """Where ``--behav-summary`` writes its Markdown (see :func:`output_path`)."""
    return output_path(config, "behav_summary")


def output_path(config: pytest.Config, name: str, png_beside: bool = False) -> Path | None:
    """An output file's path, checked before anything runs (so a typo does not cost
    a run): an existing, writable folder, a file name that is not a folder. The
    command line's path is relative to where pytest was started, the ini key's to
    the rootdir."""
    flag = _label(name)
    raw = config.getoption(name, default=None)
    base = config.invocation_params.dir
    if raw is None:
        raw, base = config.getini(name) or None, config.rootpath
    if raw is None:
        return None
    path = Path(base, Path(str(raw)).expanduser()).absolute()
    where = f"{flag} {raw}"
    if path.is_dir():
        raise pytest.UsageError(f"{where} is a folder; fix: name a file in it, e.g. "
                                f"{flag} {Path(str(raw), 'report.html')}")
    if not path.parent.is_dir():
        raise pytest.UsageError(f"{where}: folder {path.parent} does not exist; fix: create "
                                "it or name a file in an existing folder")
    if png_beside and path.suffix.lower() == ".png":
        raise pytest.UsageError(f"{where} would be overwritten by the summary plot (written "
                                f"beside the report as .png); fix: e.g. {flag} "
                                f"{Path(str(raw)).with_suffix('.html')}")
    if not os.access(path.parent, os.W_OK):
        raise pytest.UsageError(f"{where}: folder {path.parent} is not writable; fix: name a "
                                "file in a folder you can write to")
    try:  # what os.access cannot see: folders that take no files (/proc), FUSE, quotas
        check_writable(path)
    except OSError as exc:
        raise pytest.UsageError(f"{where}: cannot write {path}: "
                                f"{write_problem(path, exc, f'pass another {flag} path')}"
                                ) from None
    return path


def snapshots(config: pytest.Config, session: Session) -> SnapshotRun | None:
    """The run's snapshots (read now, so a corrupted file stops the run at once)."""
    folder = value(config, "behav_snapshots")
    if folder == "off":
        return None
    root = Path(folder) if folder else Path(config.rootpath) / "snapshots"
    update = bool(_flag(config, "behav_snapshot_update"))
    name = value(config, "behav_snapshot_as") or session.model_spec
    precision = session.precision(session.model_specs[0])
    return SnapshotRun.open(root, str(name), update,
                            dtype=None if precision is None else precision.label(),
                            training=session.training)


def engine_enabled(config: pytest.Config) -> bool:
    return _choice(config, "behav_engine", "auto") == "auto"
