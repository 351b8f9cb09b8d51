"""A Markdown summary of a run, fit for a pull-request comment or a CI job summary.

Written by the plugin with ``--behav-summary FILE.md``, and appended to
``$GITHUB_STEP_SUMMARY`` when GitHub Actions sets it: the verdict counts, one
row per check (rate and interval, baseline, adjusted p, verdict; a checkpoint
series' rates in training order) with the failures first, and every
significant change since the stored snapshot.
Test ids, check and scorer names can hold any text (parametrize ids come from
data), so every cell is escaped: no table break, no markup, no control code.

The file a run is asked to write always ends up describing that run: it is
replaced by a "not finished" note when the run starts (:func:`started`) and by
the summary when it ends, "no measurements" included, so an earlier run's
summary never survives a run that measured nothing or stopped early.
"""

from __future__ import annotations

from pathlib import Path

from behavtest.files import write_atomic
from behavtest.reports.reading import series
from behavtest.run.result import Record, RunResult
from behavtest.untrusted import markdown_cell as md
from behavtest.untrusted import markdown_table
from behavtest.verdict import Outcome, Verdict, format_p

_ICON = {Outcome.PASS: "✅ PASS", Outcome.FAIL: "❌ FAIL", Outcome.INCONCLUSIVE: "⚠️ INCONCLUSIVE"}


def _rate(v: Verdict) -> str:
    """The model's numbers; a checkpoint series' rates follow, one per line, in order."""
    m = v.measured
    text = f"{m.counts()} [{m.low:.3f}, {m.high:.3f}], about {v.scope}"
    if (s := series(v)) is not None:
        text += "".join(f"\n{i}. {c.name}: {c.counts()}" for i, c in enumerate(s.checkpoints, 1))
    return text


def _row(r: Record) -> tuple[str, ...]:
    """A check's cells: test, check and scorer (and a judge's agreement with its
    labelled set), rate, baseline, adjusted p, verdict."""
    v = r.verdict
    p = "-" if v.correction is None else format_p(v.correction.p_adjusted)
    baseline = "-" if v.baseline is None else v.baseline.counts()
    judge = "" if v.judge is None else f"\n{v.judge.summary()}"
    return (r.nodeid, f"{v.check}\n{v.scorer}{judge}", _rate(v), baseline, p,
            _ICON[v.final_outcome])


def _no_measurements(result: RunResult) -> str:
    """The summary of a run in which no check recorded a verdict."""
    unmet = result.preconditions_not_met()
    why = f" ({unmet} precondition{'s' if unmet != 1 else ''} not met)" if unmet else ""
    return (f"## behavtest: {md(result.model)}\n\n**No measurements**: no test of this "
            f"run recorded a verdict{why}.\n")


def started(model: str) -> str:
    """What the file says while the run is going (and after a run that never ended)."""
    return (f"## behavtest: {md(model)}\n\n**The run did not finish**: this "
            "file is replaced by its summary when it does.\n")


def render(result: RunResult, empty: bool = False) -> str:
    """The summary as Markdown; when nothing was measured, a "no measurements"
    summary, or "" with ``empty`` (for a file other steps append to)."""
    judged = result.judged
    if not judged:
        return "" if empty else _no_measurements(result)
    counts = result.counts()
    snap = result.snapshots
    failed = snap.failed() if snap else set()
    head = ", ".join(f"{counts[o]} {o.value.lower()}" for o in Outcome if counts[o])
    lines = [
        f"## behavtest: {md(result.model)}",
        "",
        f"**{head}**; baseline {md(result.baseline or 'none')}; "
        f"{result.correction} correction per {result.family_mode}"
        + ("" if result.dtype is None else f"; dtype {result.dtype}")
        + (f"; **{len(failed)} changed since the snapshot**" if failed else ""),
        *([] if result.training is None else ["", f"Training: {md(result.training)}"]),
        "",
    ]
    order = {Outcome.FAIL: 0, Outcome.INCONCLUSIVE: 1, Outcome.PASS: 2}
    ranked = sorted(judged, key=lambda r: (order[r.verdict.final_outcome], r.nodeid))
    lines += markdown_table(("test", "check", "model", "baseline", "p adj", "verdict"),
                            (_row(r) for r in ranked))
    if snap is not None and snap.comparisons:
        shown = [c for c in snap.comparisons if c.status != "no significant change"]
        lines += ["", f"### Snapshots of {md(snap.model)}", ""]
        if note := snap.dtype_note():
            lines += [md(note), ""]
        if not shown:
            lines.append(f"No significant change in {len(snap.comparisons)} measurements.")
        else:
            lines += markdown_table(("test", "status", "details"), (
                (c.key, ("❌ " if c.failed else "") + c.status, c.explain()) for c in shown))
    return "\n".join(lines) + "\n"


def write(result: RunResult, path: Path, append: bool) -> bool:
    """Write the summary to ``path`` (always: "no measurements" too), or append it
    to $GITHUB_STEP_SUMMARY (only when something was measured: other steps and
    other pytest runs of the job add to that file too). False if nothing written."""
    text = render(result, empty=append)
    if not text:
        return False
    if append:
        with path.open("a", encoding="utf-8") as f:
            f.write(text)
    else:
        write_atomic(path, text)
    return True
