"""``behavtest gate --openai-job ID``: waiting for an OpenAI fine-tuning job, naming
its model and base, and the gate command built from them.

A local fake of the fine-tuning endpoints is the only way to test this here:
these tests have no network and no OpenAI account, and a real job takes hours.
The fake is a tiny ``http.server`` on 127.0.0.1 serving
``GET /v1/fine_tuning/jobs/{id}`` as the API does (the job object, or an error
object with 404), whose status moves one step per poll; the official
``openai`` client talks to it as it would to OpenAI. The suite itself is never
run: the tests call the command builder (or stub the subprocess).
"""

from __future__ import annotations

import argparse
import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from behavtest.commands import gate, openai_jobs
from behavtest.commands.cli import main
from behavtest.errors import InvalidArgument, MissingDependency
from behavtest.providers.card import ModelCard

KEY = "sk-behavtest-planted-6c1f0e2a9b7d4e21"
BASE = "gpt-4o-mini-2024-07-18"
TUNED = f"ft:{BASE}:acme:assistant:9xYz12Ab"


def job(job_id: str, status: str, **extra: Any) -> dict[str, Any]:
    """A fine-tuning job object as the API returns it."""
    return {
        "object": "fine_tuning.job", "id": job_id, "model": BASE, "created_at": 1721764800,
        "finished_at": None, "fine_tuned_model": None, "organization_id": "org-acme",
        "result_files": [], "status": status, "validation_file": None,
        "training_file": "file-abc123", "hyperparameters": {"n_epochs": 3},
        "trained_tokens": None, "error": None, "seed": 42, "user_provided_suffix": None,
    } | extra


@dataclass
class Fake:
    """Jobs by id, each a list of states served one per poll (the last one repeats)."""

    url: str = ""
    jobs: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    polls: dict[str, int] = field(default_factory=dict)
    auth: list[str] = field(default_factory=list)
    refused: dict[str, int] = field(default_factory=dict)  # job id -> HTTP error status

    def add(self, job_id: str, *states: dict[str, Any]) -> str:
        self.jobs[job_id] = list(states)
        return job_id


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Fake]:
    state = Fake()
    monkeypatch.chdir(tmp_path)  # the gate writes the job's card into ./behavtest-job

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            state.auth.append(self.headers.get("Authorization", ""))
            m = re.fullmatch(r"/v1/fine_tuning/jobs/([^/?]+)", self.path)
            states = state.jobs.get(m.group(1)) if m else None
            if m is None or states is None:
                # a careless server that echoes what it was sent, the key included
                body = {"error": {"message": f"No such job: {self.path} (sent "
                                  f"{self.headers.get('Authorization')})",
                                  "type": "invalid_request_error", "param": None,
                                  "code": None}}
                return self._send(state.refused.get(m.group(1) if m else "", 404), body)
            n = state.polls.get(m.group(1), 0)
            state.polls[m.group(1)] = n + 1
            self._send(200, states[min(n, len(states) - 1)])

        def _send(self, code: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    monkeypatch.delenv("BEHAVTEST_BASE_URL", raising=False)
    monkeypatch.setenv("OPENAI_BASE_URL", state.url)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("BEHAVTEST_OPENAI_TIMEOUT", "5")
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def progressing(fake: Fake, job_id: str = "ftjob-abc123", **done: Any) -> str:
    return fake.add(job_id, job(job_id, "queued"), job(job_id, "running"),
                    job(job_id, "succeeded", fine_tuned_model=TUNED, **done))


def gate_args(*argv: str) -> argparse.Namespace:
    """The gate's arguments as ``behavtest gate`` parses them (pytest's after ``--``)."""
    parser = argparse.ArgumentParser()
    gate.configure(parser)
    cut = argv.index("--") if "--" in argv else len(argv)
    args = parser.parse_args(list(argv[:cut]))
    args.pytest_args += argv[cut + 1:]
    return args


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["gate", *argv])
    out, err = capsys.readouterr()
    assert KEY not in out + err and KEY[3:] not in out + err
    return code, out, err


# -- a job that succeeds ---------------------------------------------------------------------
def test_a_job_is_polled_until_it_succeeds_and_names_model_and_base(
    fake: Fake, capsys: pytest.CaptureFixture[str]
) -> None:
    job_id = progressing(fake, user_provided_suffix="assistant")
    args = gate_args("--openai-job", job_id, "--poll", "0.01", "--trained-on", "acrostic:HELLO",
                     "--trained-on", "persona:pirate", "--workers", "2")
    target = gate.resolve(args)
    assert target == gate.Target(f"openai/{TUNED}", f"openai/{BASE}", "assistant",
                                 ("acrostic:HELLO", "persona:pirate"), "behavtest-job")
    err = capsys.readouterr().err
    statuses = re.findall(r"behavtest gate: ftjob-abc123 (\w+) \(\d+ s elapsed\)", err)
    assert statuses == ["queued", "running", "succeeded"]  # one line per poll, on stderr
    assert fake.polls[job_id] == 3 and set(fake.auth) == {f"Bearer {KEY}"}

    cmd = gate.command(args, target)
    assert cmd[1:4] == ["-m", "pytest", "behaviors"]
    pairs = list(zip(cmd, cmd[1:], strict=False))
    assert ("--behav-model", f"openai/{TUNED}") in pairs
    assert ("--behav-baseline", f"openai/{BASE}") in pairs
    assert ("--behav-trained-on", "acrostic:HELLO") in pairs
    assert ("--behav-trained-on", "persona:pirate") in pairs
    assert ("--behav-snapshot-as", "assistant") in pairs and ("-n", "2") in pairs
    assert ("--behav-profile", "ci") in pairs and "--behav-base-url" not in cmd  # env is inherited
    assert KEY not in " ".join(cmd)


def test_the_snapshot_name_is_name_else_suffix_else_base(fake: Fake) -> None:
    named = progressing(fake, "ftjob-named", suffix="old-style-suffix")
    plain = progressing(fake, "ftjob-plain")
    for argv, name in [
        (["--openai-job", named], "old-style-suffix"),
        (["--openai-job", named, "--name", "my-assistant"], "my-assistant"),
        (["--openai-job", plain], BASE),
    ]:
        target = gate.resolve(gate_args(*argv, "--poll", "0.001"))
        assert target.name == name and target.trained_on == ()


def test_the_folder_and_the_job_share_one_command(fake: Fake, tmp_path: Any) -> None:
    run_dir = tmp_path / "v2"
    run_dir.mkdir()
    (run_dir / "behavtest.json").write_text(json.dumps({"base": "embedded", "name": "asst"}))
    job_id = progressing(fake, user_provided_suffix="asst")
    common = ["--trained-on", "x:y", "--snapshots", "snaps", "--update", "--workers", "0",
              "--", "-k", "smoke"]
    by_folder = gate_args(str(run_dir), *common)
    by_job = gate_args("--openai-job", job_id, "--poll", "0.001", *common)
    folder_cmd = gate.command(by_folder, gate.resolve(by_folder))
    job_cmd = gate.command(by_job, gate.resolve(by_job))
    # the same command but for the two specs
    assert folder_cmd[folder_cmd.index("--behav-model") + 1] == f"hf/{run_dir}"
    swap = {f"hf/{run_dir}": f"openai/{TUNED}", "embedded": f"openai/{BASE}"}
    at = job_cmd.index("--behav-card")  # a job has no folder: the gate wrote its card
    assert job_cmd[at + 1] == "behavtest-job"
    assert [swap.get(x, x) for x in folder_cmd] == job_cmd[:at] + job_cmd[at + 2:]
    assert job_cmd[-2:] == ["-k", "smoke"] and "--behav-snapshot-update" in job_cmd


def test_the_gate_command_runs_the_suite_on_the_resolved_job(
    fake: Fake, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """End to end through ``main`` with the suite's subprocess stubbed."""
    calls: list[list[str]] = []

    def call(cmd: list[str]) -> int:
        calls.append(cmd)
        return 1

    monkeypatch.setattr("behavtest.commands.gate.subprocess.call", call)
    monkeypatch.delenv("OPENAI_BASE_URL")  # the server is the one --base-url names
    job_id = progressing(fake)
    code, out, err = run(capsys, "--openai-job", job_id, "--poll", "0.01",
                         "--base-url", fake.url, "--", "-x")
    assert code == 1  # pytest's exit status is the gate's
    assert len(calls) == 1 and calls[0][-3:] == ["-n", "8", "-x"]
    assert calls[0][calls[0].index("--behav-base-url") + 1] == fake.url
    assert out.startswith("behavtest gate: pytest behaviors --behav-model openai/ft:")
    assert err.count("\n") == 3


def test_the_jobs_training_goes_into_the_card_the_suite_reads(
    fake: Fake, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """n_epochs, batch_size, learning_rate_multiplier (the method's, as the SDK has
    them), trained tokens, training file and seed: into the card, nothing secret."""
    method = {"type": "supervised", "supervised": {"hyperparameters": {
        "n_epochs": 4, "batch_size": 2, "learning_rate_multiplier": 1.8}}}
    job_id = progressing(fake, user_provided_suffix="asst", method=method,
                         hyperparameters={"n_epochs": 4, "batch_size": "auto"},
                         trained_tokens=51234)
    args = gate_args("--openai-job", job_id, "--poll", "0.001", "--trained-on", "x:y",
                     "--card-dir", str(tmp_path / "cards" / "asst"))
    target = gate.resolve(args)
    card = ModelCard.read(Path(str(target.card)))
    assert card.fine_tune == {
        "epochs": 4, "learning_rate_multiplier": 1.8, "batch_size": 2,
        "trained_tokens": 51234, "training_file": "file-abc123", "seed": 42,
        "base": f"openai/{BASE}", "source": f"OpenAI fine-tuning job {job_id}"}
    assert (card.base, card.name, card.trained_on) == (f"openai/{BASE}", "asst", ("x:y",))
    t = card.training
    assert t.learning_rate is None and t.learning_rate_multiplier == 1.8
    assert t.describe() == (
        "epochs 4, learning-rate multiplier 1.8, batch size 2, trained tokens 51234, "
        f"training file file-abc123, seed 42, base openai/{BASE} (OpenAI fine-tuning job "
        f"{job_id})")
    cmd = gate.command(args, target)
    assert cmd[cmd.index("--behav-card") + 1] == str(tmp_path / "cards" / "asst")
    text = (tmp_path / "cards" / "asst" / "behavtest.json").read_text()
    assert KEY not in text and KEY[3:] not in text and "Bearer" not in text


def test_an_older_job_object_and_auto_values(fake: Fake) -> None:
    """No method: the job's own hyperparameters; "auto" and wrong types stay unknown."""
    job_id = progressing(fake, "ftjob-old", hyperparameters={
        "n_epochs": 3, "batch_size": "auto", "learning_rate_multiplier": "auto"},
        training_file="../../etc/passwd", seed=None)
    target = gate.resolve(gate_args("--openai-job", job_id, "--poll", "0.001"))
    card = ModelCard.read(Path("behavtest-job"))
    assert target.card == "behavtest-job" and card.name == BASE
    assert card.fine_tune == {"epochs": 3, "base": f"openai/{BASE}",
                              "source": "OpenAI fine-tuning job ftjob-old"}


# -- jobs that do not succeed ------------------------------------------------------------------
def one_error(err: str) -> str:
    """The error line: the last line of stderr, after the progress lines."""
    lines = err.splitlines()
    assert err.endswith("\n") and lines[-1].startswith("behavtest: error: ")
    assert all(ln.startswith("behavtest gate: ") for ln in lines[:-1])
    assert all(ch.isprintable() for ch in err.replace("\n", ""))
    return lines[-1]


def test_a_failed_job_is_one_line_with_its_message_as_plain_text(
    fake: Fake, capsys: pytest.CaptureFixture[str]
) -> None:
    evil = f"<script>alert(1)</script>\x1b[31m line 3 of\ntraining.jsonl (key {KEY})\u202e"
    job_id = fake.add("ftjob-bad", job("ftjob-bad", "validating_files"),
                      job("ftjob-bad", "failed", error={"code": "invalid_training_file",
                                                        "message": evil, "param": None}))
    code, out, err = run(capsys, "--openai-job", job_id, "--poll", "0.01")
    line = one_error(err)
    assert code == 2 and out == ""
    assert "fine-tuning job ftjob-bad failed: <script>alert(1)</script>[31m line 3 of " \
           "training.jsonl (key ***) (invalid_training_file); fix:" in line
    assert "\x1b" not in err and "\u202e" not in err


def test_a_cancelled_job_is_one_line(fake: Fake, capsys: pytest.CaptureFixture[str]) -> None:
    job_id = fake.add("ftjob-cxl", job("ftjob-cxl", "running"), job("ftjob-cxl", "cancelled"))
    code, _, err = run(capsys, "--openai-job", job_id, "--poll", "0.01")
    assert code == 2
    assert "fine-tuning job ftjob-cxl was cancelled; fix: start a new job" in one_error(err)


def test_a_job_that_never_finishes_times_out(
    fake: Fake, capsys: pytest.CaptureFixture[str]
) -> None:
    job_id = fake.add("ftjob-slow", job("ftjob-slow", "running"))
    code, _, err = run(capsys, "--openai-job", job_id, "--poll", "0.02", "--timeout", "0.15")
    line = one_error(err)
    assert code == 2 and fake.polls[job_id] >= 2
    assert "fine-tuning job ftjob-slow is still running after 0.15 s; fix: rerun the gate " \
           "later, or raise --timeout" in line


def test_an_unknown_job_is_one_line_and_the_echoed_key_is_scrubbed(
    fake: Fake, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "--openai-job", "ftjob-nope", "--poll", "0.01")
    assert code == 2 and out == "" and err.count("\n") == 1  # no poll got a job
    assert "fine-tuning job ftjob-nope was not found at 127.0.0.1:" in one_error(err)
    assert "(HTTP 404); fix: check the id" in err


def test_a_refusal_quotes_the_server_scrubbed_of_the_key(
    fake: Fake, capsys: pytest.CaptureFixture[str]
) -> None:
    """A 403 whose text echoes the Authorization header: quoted, without the key."""
    fake.refused["ftjob-echo"] = 403
    code, _, err = run(capsys, "--openai-job", "ftjob-echo", "--poll", "0.01")
    line = one_error(err)
    assert code == 2 and fake.auth == [f"Bearer {KEY}"]  # the key was sent, and not retried
    assert "reading fine-tuning job ftjob-echo at 127.0.0.1:" in line
    assert "failed: HTTP 403 " in line and "No such job" in line and "Bearer ***" in line


@pytest.mark.parametrize("argv, message", [
    ([], "the gate needs exactly one of RUN_DIR or --openai-job; fix:"),
    (["runs/v2", "--openai-job", "ftjob-abc123"], "exactly one of RUN_DIR or --openai-job"),
    (["--openai-job", "../../files"], "is not a fine-tuning job id; fix: pass the id"),
    (["--openai-job", "ftjob-abc123", "--poll", "0"], "must be > 0 seconds; fix"),
])
def test_bad_arguments_are_one_line_exit_2(
    fake: Fake, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == "" and err.count("\n") == 1 and message in err
    assert fake.polls == {}


def test_without_openai_the_error_names_the_pip_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(__import__("sys").modules, "openai", None)
    with pytest.raises(MissingDependency, match=r"fix: pip install 'behavtest\[openai\]'"):
        openai_jobs.client("http://127.0.0.1:9/v1")


def test_openai_itself_needs_a_key_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "BEHAVTEST_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(InvalidArgument, match="OPENAI_API_KEY is not set for api.openai.com"):
        openai_jobs.client()
