"""``behavtest diff A B`` where A or B is a model spec: its snapshots drawn live.

Each side of a diff is a folder of snapshots or a model spec. A path that
exists is a folder (and must hold snapshots); anything else must be a spec the
provider registry accepts without loading (``embedded``, ``hf/<folder>``,
``openai/<model>``, ``double/yes=0.3,no=0.7``), or the diff stops with one line
naming both possibilities, before anything runs.

A spec is measured by the suite itself, through the sample cache:
``python -m pytest <suite> --behav-model SPEC --behav-snapshot-update
--behav-snapshots <tmp> -q -p no:cacheprovider`` writes its snapshots to
``<tmp>/<slug(SPEC)>/``, the folder the diff then reads, exactly as it reads a
committed one. ``<tmp>`` is a fresh temporary folder outside the repository,
removed afterwards: the committed ``snapshots/`` are never touched. A spec
given on both sides is drawn once. A pytest run that ends in anything but
pass (0) or failed tests (1), or writes no snapshot, stops the diff with one
line quoting pytest's last line.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from behavtest.errors import BehavtestError
from behavtest.providers.openai.config import scrub
from behavtest.providers.registry import validate_spec
from behavtest.snapshots.store import SUFFIX, slug
from behavtest.untrusted import plain


def is_spec(arg: str) -> bool:
    """True for a model spec to draw, False for a snapshot folder; else a one-line error."""
    if Path(arg).exists():
        return False
    try:
        validate_spec(arg)
    except (BehavtestError, ValueError) as exc:
        why = plain(str(exc)).split("; fix:")[0]
        raise BehavtestError(
            f"{plain(arg)} is neither a folder nor a valid model spec ({why}); fix: pass a "
            "snapshot folder (pytest behaviors/ --behav-snapshot-as NAME "
            "--behav-snapshot-update writes snapshots/NAME) or a model spec such as "
            "embedded, hf/<folder>, openai/<model>"
        ) from None
    return True


def command(spec: str, folder: Path, suite: str, workers: int,
            extra: Sequence[str]) -> list[str]:
    """The pytest run that stores ``spec``'s snapshots under ``folder``."""
    cmd = [sys.executable, "-m", "pytest", suite, "--behav-model", spec, "--behav-snapshot-update",
           "--behav-snapshots", str(folder), "-q", "-p", "no:cacheprovider"]
    if workers:
        cmd += ["-n", str(workers)]
    return cmd + list(extra)


def _said(done: subprocess.CompletedProcess[str]) -> str:
    """What pytest said went wrong, in a line: its last error on stderr (usage), else
    the last exception line of a report, else its last line."""
    err = [ln for ln in done.stderr.splitlines() if ln.strip()]
    out = [ln for ln in done.stdout.splitlines() if ln.strip()]
    raised = [ln[1:] for ln in out if re.match(r"E\s+[\w.]*(Error|Exception)\b", ln)]
    pick = [ln for ln in err if "error" in ln.lower()] or err or raised or out or ["no output"]
    return plain(scrub(pick[-1])).strip()[:200]


def draw(spec: str, root: Path, suite: str, workers: int, extra: Sequence[str]) -> Path:
    """Run the suite on ``spec``; the folder of snapshots it wrote under ``root``."""
    cmd = command(spec, root, suite, workers, extra)
    print(f"behavtest diff: drawing {plain(spec)}: " + plain(" ".join(cmd[2:])),
          file=sys.stderr, flush=True)
    done = subprocess.run(cmd, capture_output=True, text=True, errors="replace")
    folder = root / slug(spec)
    wrote = folder.is_dir() and any(folder.glob("*" + SUFFIX))
    if done.returncode not in (0, 1) or not wrote:
        what = (f"pytest exit {done.returncode}" if done.returncode not in (0, 1)
                else "no snapshot written")
        said = _said(done)
        raise BehavtestError(
            f"drawing {plain(spec)} with pytest {plain(suite)} failed ({what}: {said}); fix: "
            f"run pytest {plain(suite)} --behav-model {plain(spec)} and make it run (a suite with "
            "behaviour checks that --behav-model can load)"
        )
    return folder


@contextmanager
def folders(a: str, b: str, suite: str = "behaviors", workers: int = 0,
            extra: Sequence[str] = ()) -> Iterator[tuple[str, str]]:
    """The snapshot folders of both sides (specs drawn into a temporary folder,
    removed on exit). Both sides are checked before anything is drawn."""
    sides = [(arg, is_spec(arg)) for arg in (a, b)]
    if workers < 0:
        raise BehavtestError(f"--workers {workers} is negative; fix: e.g. --workers 0")
    if not any(spec for _, spec in sides):
        yield a, b
        return
    if not Path(suite.split("::")[0]).exists():
        raise BehavtestError(
            f"--suite {plain(suite)} does not exist, and a model spec is drawn with it; fix: "
            "run from the project's folder or pass its behaviour suite, e.g. --suite behaviors"
        )
    with tempfile.TemporaryDirectory(prefix="behavtest-diff-") as tmp:
        drawn: dict[str, str] = {}
        out = []
        for arg, spec in sides:
            if spec and arg not in drawn:
                root = Path(tmp, str(len(drawn)))  # one folder per run: none reads another's
                drawn[arg] = str(draw(arg, root, suite, workers, extra))
            out.append(drawn[arg] if spec else arg)
        yield out[0], out[1]
