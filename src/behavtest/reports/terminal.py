"""The terminal summary: every measurement of the run, with its numbers.

Test ids, check and scorer names and model specs are data (a parametrize id
such as ``[bark]`` or ``[/]``, a model's words): they enter rich only as
:class:`rich.text.Text`, through :func:`_text` (the rule of ``untrusted``), never
as markup, so rich neither drops them as style tags nor fails on them, and no
escape sequence reaches the terminal. The console parses no markup at all.
"""

from __future__ import annotations

import io

from rich.console import Console
from rich.table import Table
from rich.text import Text

from behavtest.reports.reading import series
from behavtest.run.result import Record, RunResult
from behavtest.untrusted import plain, plain_lines
from behavtest.verdict import Outcome, Verdict, format_p

_STYLE = {Outcome.PASS: "green", Outcome.FAIL: "red", Outcome.INCONCLUSIVE: "yellow"}


def render_summary(result: RunResult, width: int = 120, color: bool = False) -> str:
    """A table of verdicts and a closing line; empty when nothing was measured."""
    if not result.records:
        return ""
    table = Table(title="behavtest measurements", expand=False, show_lines=False)
    for col in ("test", "check", "model [interval]", "baseline", "p", "p adj", "verdict"):
        table.add_column(col, overflow="fold")
    for rec in result.in_order():
        table.add_row(*_row(rec))
    buf = io.StringIO()
    console = Console(file=buf, width=width, force_terminal=color, no_color=not color,
                      markup=False, highlight=False)
    console.print(table)
    counts = result.counts()
    parts = [f"{counts[o]} {o.value.lower()}" for o in Outcome if counts[o]]
    if unmet := result.preconditions_not_met():
        parts.append(f"{unmet} precondition not met")
    t = result.totals
    drawn, cached = int(t.get("drawn", 0)), int(t.get("cached", 0))
    secs = float(t.get("seconds", 0.0))
    # The machine's rate a user can compare: the engines' tokens per busy second
    # under xdist; without it, the one process's tokens per sampling second.
    if result.engine_seconds > 0:
        speed = f", engine {result.engine_tokens / result.engine_seconds:.0f} tok/s"
    else:
        speed = f", {t.get('tokens', 0) / secs:.0f} tok/s" if secs > 0 else ""
    console.print(Text(
        f"behavtest: {', '.join(parts)}; samples drawn {drawn}, from cache {cached}{speed}; "
        f"model loads {int(t.get('loads', 0))}"
    ))
    if rejected := int(t.get("cache_rejected", 0)):
        console.print(Text(
            f"behavtest: {rejected} cached row{'s' if rejected != 1 else ''} failed the "
            "checksum (edited or corrupted since written) and were drawn again", style="yellow"
        ))
    if int(t.get("api_requests", 0)):
        cost = f", cost ${t['api_cost']:.4f}" if "api_cost" in t else ""
        console.print(Text(
            f"behavtest: API {int(t['api_requests'])} requests ({int(t.get('api_retries', 0))} "
            f"retried), {int(t.get('api_prompt_tokens', 0))} prompt + "
            f"{int(t.get('api_completion_tokens', 0))} completion tokens{cost}"
        ))
    return buf.getvalue()


def _row(rec: Record) -> tuple[Text, ...]:
    """A verdict's cells: test, check and scorer, model [interval], baseline, p,
    adjusted p, outcome."""
    v, m = rec.verdict, rec.verdict.measured
    return (
        _text(rec.nodeid.split("::", 1)[-1]),
        _text(f"{v.check}\n{v.scorer}" + _judge(v)),
        _text(f"{m.counts()} [{m.low:.3f}, {m.high:.3f}]" + _units(v) + _members(v)),
        _text("-" if v.baseline is None else v.baseline.counts()),
        _text(format_p(v.test.p_value)),
        _text("-" if v.correction is None else format_p(v.correction.p_adjusted)),
        _outcome_cell(v),
    )


def _judge(v: Verdict) -> str:
    """A judged check's judge agreement with its labelled set, on its own line."""
    return "" if v.judge is None else f"\n{v.judge.summary()}"


def _units(v: Verdict) -> str:
    """What the test's independent units were, when they are not the samples, and
    what the verdict is about (this checkpoint, or the recipe over seeds)."""
    t = v.test
    over = "" if t.units is None or t.unit in (None, "samples") else f"\nover {t.units} {t.unit}"
    return f"{over}\nabout {v.scope}"


def _members(v: Verdict) -> str:
    """Each model of an arm on its own line, so the per-seed rates are visible; a
    checkpoint series' numbered in training order, with k/n and its exact interval."""
    if (s := series(v)) is not None:
        return "".join(f"\n {i}. {c.name}: {c.counts()}" for i, c in enumerate(s.checkpoints, 1))
    if not v.measured.members:
        return ""
    return "".join(f"\n {name}: {value:.3f}" for name, value, _ in v.measured.members)


def _text(value: str) -> Text:
    """A cell's text as rich Text, never markup: each line through the rule of
    ``untrusted`` (no control or format character), the line breaks kept."""
    return Text(plain_lines(value))


def _outcome_cell(v: Verdict) -> Text:
    """The verdict, coloured through Text styles (no markup to parse)."""
    final = v.final_outcome
    if v.is_precondition:
        return Text.assemble((v.outcome.value, _STYLE[v.outcome]), " (precondition)")
    if final is v.outcome:
        return Text(final.value, style=_STYLE[final])
    return Text.assemble(f"{v.outcome.value} -> ", (final.value, _STYLE[final]))


def correction_lines(
    result: RunResult, changed: list[Record], pytest_status: int | None
) -> list[str]:
    """What the suite-level correction did, in words, after the summary table."""
    judged = result.judged
    if not judged or judged[0].verdict.correction is None:
        return []
    method = {"holm": "Holm (family-wise error)", "bh": "Benjamini-Hochberg (false discovery "
              "rate)", "none": "no correction"}[result.correction]
    families = len({r.verdict.family or "suite" for r in judged})
    lines = [
        f"behavtest: {method} over {len(judged)} checks in {families} "
        f"famil{'y' if families == 1 else 'ies'} (per {result.family_mode}); "
        f"{len(changed)} verdict{'s' if len(changed) != 1 else ''} changed"
    ]
    for rec in changed:
        v, c = rec.verdict, rec.verdict.correction
        adjusted = (1.0, 1.0) if c is None else (c.p_adjusted, c.p_against_adjusted)
        lines.append(
            f"  {plain(rec.nodeid)}: {plain(v.check)}: {v.outcome.value} -> "
            f"{v.final_outcome.value} "
            f"(p {format_p(v.test.p_value)} -> adjusted {format_p(adjusted[0])}; "
            f"opposite {format_p(v.test.p_against)} -> {format_p(adjusted[1])})"
        )
    if pytest_status is not None and changed:
        word = "fails" if pytest_status == 1 else "passes"
        lines.append(
            f"behavtest: exit status follows the corrected verdicts (pytest's own count {word} "
            "the run before correction)"
        )
    return lines
