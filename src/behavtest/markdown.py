"""A Markdown summary of a run, fit for a pull-request comment or a CI job summary.

Written by the plugin with ``--behav-summary FILE.md``, and appended to
``$GITHUB_STEP_SUMMARY`` when GitHub Actions sets it: the verdict counts, one
row per check (rate and interval, baseline, adjusted p, verdict) with the
failures first, and every significant change since the stored snapshot.
Test ids, check and scorer names can hold any text (parametrize ids come from
data), so every cell is escaped: no table break, no markup, no control code.
"""

from __future__ import annotations

from pathlib import Path

from behavtest.files import write_atomic
from behavtest.session import Session
from behavtest.untrusted import markdown_cell as md
from behavtest.verdict import Outcome, Verdict, format_p

_ICON = {Outcome.PASS: "✅ PASS", Outcome.FAIL: "❌ FAIL", Outcome.INCONCLUSIVE: "⚠️ INCONCLUSIVE"}


def _rate(v: Verdict) -> str:
    return f"{v.counts()} [{v.low:.3f}, {v.high:.3f}], about {v.scope}"


def render(session: Session) -> str:
    """The summary as Markdown (empty when nothing was measured)."""
    judged = [r for r in session.records if not r.verdict.is_precondition]
    if not judged:
        return ""
    counts = session.counts()
    snap = session.snapshots
    failed = snap.failed() if snap else set()
    head = ", ".join(f"{counts[o]} {o.value.lower()}" for o in Outcome if counts[o])
    lines = [
        f"## behavtest: {md(session.model_spec)}",
        "",
        f"**{head}**; baseline {md(session.baseline_spec or 'none')}; "
        f"{session.correction} correction per {session.family_mode}"
        + (f"; **{len(failed)} changed since the snapshot**" if failed else ""),
        "",
        "| test | check | model | baseline | p adj | verdict |",
        "|---|---|---|---|---|---|",
    ]
    order = {Outcome.FAIL: 0, Outcome.INCONCLUSIVE: 1, Outcome.PASS: 2}
    for r in sorted(judged, key=lambda r: (order[r.verdict.final_outcome], r.nodeid)):
        v = r.verdict
        p = "-" if v.p_adjusted is None else format_p(v.p_adjusted)
        lines.append(
            f"| {md(r.nodeid)} | {md(v.check)}<br>{md(v.scorer)} | {md(_rate(v))} | "
            f"{md(v.baseline_counts() or '-')} | {p} | {_ICON[v.final_outcome]} |"
        )
    if snap is not None and snap.comparisons:
        shown = [c for c in snap.comparisons if c.status != "no significant change"]
        lines += ["", f"### Snapshots of {md(snap.model)}", ""]
        if not shown:
            lines.append(f"No significant change in {len(snap.comparisons)} measurements.")
        else:
            lines += ["| test | status | details |", "|---|---|---|"]
            for c in shown:
                status = ("❌ " if c.failed else "") + c.status
                lines.append(f"| {md(c.key)} | {status} | {md(c.explain())} |")
    return "\n".join(lines) + "\n"


def write(session: Session, path: Path, append: bool) -> bool:
    """Write (or append, for $GITHUB_STEP_SUMMARY) the summary; False if empty."""
    text = render(session)
    if not text:
        return False
    if append:  # GitHub's step summary: other steps add to it too
        with path.open("a", encoding="utf-8") as f:
            f.write(text)
    else:
        write_atomic(path, text)
    return True
