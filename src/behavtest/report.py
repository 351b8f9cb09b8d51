"""The terminal summary: every measurement of the run, with its numbers."""

from __future__ import annotations

import io

from rich.console import Console
from rich.table import Table

from behavtest.session import Session
from behavtest.verdict import Outcome

_STYLE = {Outcome.PASS: "green", Outcome.FAIL: "red", Outcome.INCONCLUSIVE: "yellow"}


def render_summary(session: Session, width: int = 120, color: bool = False) -> str:
    """A table of verdicts and a closing line; empty when nothing was measured."""
    if not session.records:
        return ""
    table = Table(title="behavtest measurements", expand=False, show_lines=False)
    for col in ("test", "check", "model k/n = rate [interval]", "baseline", "p", "verdict"):
        table.add_column(col, overflow="fold")
    for rec in sorted(session.records, key=lambda r: r.nodeid):
        v = rec.verdict
        base = "-"
        if v.baseline_rate is not None:
            base = f"{v.baseline_k}/{v.baseline_n} = {v.baseline_rate:.3f}"
        p = f"{v.p_value:.3g}" if v.p_value >= 1e-3 else f"{v.p_value:.1e}"
        table.add_row(
            rec.nodeid.split("::", 1)[-1],
            f"{v.check}\n{v.scorer}",
            f"{v.k}/{v.n} = {v.rate:.3f} [{v.low:.3f}, {v.high:.3f}]",
            base,
            p,
            f"[{_STYLE[v.outcome]}]{v.outcome.value}[/]",
        )
    buf = io.StringIO()
    console = Console(file=buf, width=width, force_terminal=color, no_color=not color)
    console.print(table)
    counts = session.counts()
    parts = [f"{counts[o]} {o.value.lower()}" for o in Outcome if counts[o]]
    if unmet := session.preconditions_not_met():
        parts.append(f"{unmet} precondition not met")
    t = session.totals()
    drawn, cached = int(t.get("drawn", 0)), int(t.get("cached", 0))
    secs = float(t.get("seconds", 0.0))
    # Summed over processes: tokens / model-seconds is the mean per-process rate.
    speed = f", {t.get('tokens', 0) / secs:.0f} tok/s per process" if secs > 0 else ""
    console.print(
        f"behavtest: {', '.join(parts)}; samples drawn {drawn}, from cache {cached}{speed}; "
        f"model loads {int(t.get('loads', 0))}"
    )
    return buf.getvalue()
