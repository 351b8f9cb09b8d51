"""``behavtest gate --openai-job ID``: wait for an OpenAI fine-tuning job, then
name the model it made and the model it started from.

A fine-tune on OpenAI's platform writes no folder and no model card: the job
is the record. Its ``fine_tuned_model`` is the candidate (``openai/ft:...``),
its ``model`` the base the candidate is compared with, and the suffix the user
gave the job the name its versions share in ``snapshots/``. This module polls
``GET /fine_tuning/jobs/{id}`` with the official ``openai`` client (imported
only here, only when a job is gated) until the job ends, so a training
pipeline can start a job and gate it in one step.

The server and key are found exactly as the ``openai/`` provider finds them
(``resolve_base_url``: the base URL given, ``$BEHAVTEST_BASE_URL``,
``$OPENAI_BASE_URL``, else OpenAI; the key from ``$OPENAI_API_KEY`` only), so
the suite then talks to the server the job ran on. Everything the server sends
(status, error message, model names) is untrusted: it is shown through
``untrusted.plain`` and scrubbed of the key, and model names must look like
model names before they reach a command line.

A succeeded job's training (:func:`training`: its epochs, batch size and
learning-rate multiplier, read from ``method.<type>.hyperparameters`` or the
older ``hyperparameters``; its trained tokens, training file id and seed) is
what the gate writes into the card it gives the suite (``--card-dir``), so
the run's header and its snapshots say which fine-tune they measured. A value
that is missing, "auto" or of the wrong type is left unknown; nothing of the
key or the request is ever written.
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TextIO

from behavtest.errors import BehavtestError, InvalidArgument, MissingDependency
from behavtest.providers.openai.config import (
    PLACEHOLDER_KEY,
    OpenAIOptions,
    is_official,
    resolve_base_url,
    scrub,
    where,
)
from behavtest.providers.training import OPENAI_JOB
from behavtest.untrusted import plain

FAILED = ("failed", "cancelled")
JOB_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}")
MODEL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:@/-]{0,255}")
MESSAGE_CHARS = 300  # of a server's error text, at most


class JobError(BehavtestError):
    """The job failed, was cancelled, did not finish in time, or cannot be read."""


@dataclass(frozen=True)
class FineTune:
    """What a succeeded job names: candidate and base specs, and the snapshot name."""

    job_id: str
    model: str  # openai/<fine_tuned_model>
    base: str  # openai/<model>
    name: str  # the user's suffix, else the base model's name
    training: dict[str, Any] = field(default_factory=dict)  # a card's "fine_tune" object


def _shown(text: object, limit: int = MESSAGE_CHARS) -> str:
    """Server text fit for one line: no key, no control characters, bounded."""
    out = plain(scrub(str(text))).strip()
    return out if len(out) <= limit else out[: limit - 3] + "..."


def check_job_id(job_id: str) -> str:
    job_id = job_id.strip()
    if not JOB_ID.fullmatch(job_id):
        raise InvalidArgument(
            f"--openai-job {_shown(job_id, 60)!r} is not a fine-tuning job id; fix: pass the "
            "id the fine-tuning API returned, e.g. --openai-job ftjob-abc123"
        )
    return job_id


def client(base_url: str | None = None) -> Any:
    """A synchronous ``openai.OpenAI`` for the run's server (the key from the
    environment; a server other than OpenAI's gets the placeholder)."""
    try:
        import openai
    except ImportError:
        raise MissingDependency("openai", "openai", "gating an OpenAI fine-tuning job") from None
    url = resolve_base_url(base_url)
    key = os.environ.get("OPENAI_API_KEY")
    if is_official(url) and not key:
        raise InvalidArgument(
            f"OPENAI_API_KEY is not set for {where(url)}; fix: export it (behavtest reads keys "
            "from the environment only), or point --base-url (or BEHAVTEST_BASE_URL) at "
            "another server"
        )
    options = OpenAIOptions.from_env()
    return openai.OpenAI(api_key=key or PLACEHOLDER_KEY, base_url=url,
                         timeout=options.timeout, max_retries=options.max_retries)


def _retrieve(api: Any, job_id: str) -> Any:
    """The job, or a one-line JobError naming the fix (404, 401, connection, ...)."""
    import openai

    url = where(str(getattr(api, "base_url", "")))
    try:
        return api.fine_tuning.jobs.retrieve(job_id)
    except openai.NotFoundError:
        raise JobError(
            f"fine-tuning job {job_id} was not found at {url} (HTTP 404); fix: check the id "
            "(GET /fine_tuning/jobs lists them), the base URL and the key's organisation"
        ) from None
    except openai.AuthenticationError:
        raise JobError(
            f"{url} refused the key (HTTP 401); fix: export a valid OPENAI_API_KEY"
        ) from None
    except openai.APIStatusError as exc:
        raise JobError(
            f"reading fine-tuning job {job_id} at {url} failed: HTTP {exc.status_code} "
            f"{_shown(exc.message)}; fix: retry, or check the server"
        ) from None
    except openai.APIConnectionError as exc:
        raise JobError(
            f"cannot reach {url} ({_shown(type(exc).__name__)}); fix: check the network and "
            "the base URL (--base-url, BEHAVTEST_BASE_URL, OPENAI_BASE_URL)"
        ) from None


def _model(job: Any, field: str) -> str:
    raw = getattr(job, field, None)
    if not isinstance(raw, str) or not MODEL_NAME.fullmatch(raw):
        raise JobError(
            f"fine-tuning job {job.id} succeeded but its {field} is {_shown(raw, 80)!r}, not "
            "a model name; fix: check the job on the server, then gate the model with "
            "pytest behaviors/ --behav-model openai/<model> --behav-baseline openai/<base>"
        )
    return raw


def _ended(job: Any, job_id: str, status: str) -> JobError:
    if status == "cancelled":
        return JobError(f"fine-tuning job {job_id} was cancelled; fix: start a new job, "
                        "then gate its id")
    error = getattr(job, "error", None)
    message = getattr(error, "message", None) or "no error message"
    code = getattr(error, "code", None)
    why = _shown(message) + (f" ({_shown(code, 60)})" if code else "")
    return JobError(f"fine-tuning job {job_id} failed: {why}; fix: correct the training "
                    "data or settings and start a new job")


def resolved(job: Any, job_id: str, name: str | None = None) -> FineTune:
    """The specs, snapshot name and training of a succeeded job."""
    model, base = _model(job, "fine_tuned_model"), _model(job, "model")
    suffix = getattr(job, "user_provided_suffix", None) or getattr(job, "suffix", None)
    chosen = name or (_shown(suffix, 80) if isinstance(suffix, str) else "") or base
    return FineTune(job_id, f"openai/{model}", f"openai/{base}", chosen,
                    training(job, job_id, f"openai/{base}"))


def _field(obj: Any, name: str) -> Any:
    """An attribute of an SDK object (or a key of a plain dict), else None."""
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)


def _whole(value: Any) -> int | None:
    ok = isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**15
    return value if ok else None


def _positive(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if 0 < value < 1e6 else None


def hyperparameters(job: Any) -> Any:
    """The job's hyperparameters: its method's (``method.supervised``, ``.dpo``, ...,
    as the SDK's ``job.method`` has them), else the older ``job.hyperparameters``."""
    method = _field(job, "method")
    kind = _field(method, "type")
    chosen = _field(method, kind) if isinstance(kind, str) and kind.isidentifier() else None
    found = _field(chosen, "hyperparameters")
    return found if found is not None else _field(job, "hyperparameters")


def training(job: Any, job_id: str, base: str) -> dict[str, Any]:
    """A succeeded job's training as a card's ``fine_tune`` object (only what the
    job says, each value checked: "auto" or a wrong type is left out)."""
    hp = hyperparameters(job)
    file_id = _field(job, "training_file")
    found = {
        "epochs": _whole(_field(hp, "n_epochs")),
        "learning_rate_multiplier": _positive(_field(hp, "learning_rate_multiplier")),
        "batch_size": _whole(_field(hp, "batch_size")),
        "trained_tokens": _whole(_field(job, "trained_tokens")),
        "training_file": file_id if isinstance(file_id, str)
        and JOB_ID.fullmatch(file_id) else None,
        "seed": _whole(_field(job, "seed")),
        "base": base, "source": f"{OPENAI_JOB} {job_id}",
    }
    return {key: value for key, value in found.items() if value is not None}


def wait(
    job_id: str,
    *,
    base_url: str | None = None,
    name: str | None = None,
    poll: float = 30.0,
    timeout: float = 6 * 3600.0,
    out: TextIO | None = None,
    api: Any = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> FineTune:
    """Poll the job until it ends: its FineTune when it succeeded, else a
    one-line JobError (failed, cancelled, still running after ``timeout``
    seconds). A line per poll (status, elapsed) goes to ``out`` (stderr)."""
    job_id = check_job_id(job_id)
    if not (poll > 0 and timeout > 0):
        raise InvalidArgument(f"--poll {poll:g} and --timeout {timeout:g} must be > 0 "
                              "seconds; fix: e.g. --poll 30 --timeout 21600")
    stream = out if out is not None else sys.stderr
    api = api if api is not None else client(base_url)
    start = clock()
    while True:
        job = _retrieve(api, job_id)
        status = str(getattr(job, "status", "") or "unknown")
        elapsed = clock() - start
        print(f"behavtest gate: {job_id} {_shown(status, 40)} ({elapsed:.0f} s elapsed)",
              file=stream, flush=True)
        if status == "succeeded":
            return resolved(job, job_id, name)
        if status in FAILED:
            raise _ended(job, job_id, status)
        if elapsed >= timeout:
            raise JobError(
                f"fine-tuning job {job_id} is still {_shown(status, 40)} after {timeout:g} s; "
                "fix: rerun the gate later, or raise --timeout"
            )
        sleep(min(poll, timeout - elapsed))
