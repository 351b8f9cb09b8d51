"""``behavtest diff A B``: every behaviour of two models' snapshots, compared.

Two snapshot folders (``snapshots/<model>/``, as ``--behav-snapshot-update``
writes them) hold one stored measurement per behaviour each. A table of
"which behaviours moved between model A and model B" is only worth reading if
its "changed" rows are not the noise of the many comparisons it makes, so:

* each behaviour present in both is compared by the two-sample test the data's
  shape calls for (``snapshots.compare``, the test a run's snapshot comparison
  and ``.above()`` use), two-sided at ``alpha``; its difference B - A comes
  with the matching two-sided ``1 - alpha`` interval;
* all comparisons form one family, corrected by Holm (family-wise error: no
  false "changed" row anywhere with probability >= 1 - alpha), BH or none;
* "same" is claimed only when a margin is given and the difference is shown to
  lie inside it (TOST: two one-sided tests at -margin and +margin through
  ``selection.against_baseline`` and ``selection.tost``), its p-value corrected
  in the same family; never from a non-significant difference, which small
  samples always give. (A behaviour's two nulls, "no change" and "outside the
  margin", cannot both be true, so one family of both is conservative.)
* entries only in B are "new", only in A "gone", and entries whose prompts,
  scorer version or generation settings differ are "not comparable", with
  what changed;
* when both folders record their model's training (``snapshots.training``)
  and the two differ, the heading says how ("training: epochs 3 → 5,
  examples 200 → 300"), so a moved behaviour is read against what changed in
  the fine-tune; a folder that records none says nothing.

Exit status (``behavtest diff``): 0 when no behaviour changed significantly,
1 when one did (:func:`exit_code`), 2 for bad input: an option, a side that is
neither a folder nor a spec, or a snapshot file that does not read (corrupted,
a newer format, values out of range: ``snapshots.read_file`` checks each) is
one line on stderr, as ``behavtest.commands.cli`` reports every BehavtestError and
argparse every usage error. So 1 never means "could not compare".

This module is pure (entries in, rows out) plus the renderers. Test ids and
check names come from the suites, and checks may quote model output, so the
text renderer strips control characters (no terminal escape sequences get
through) and the markdown renderer escapes what would change a table.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from behavtest.checks import selection
from behavtest.errors import InvalidArgument
from behavtest.providers.training import Training
from behavtest.snapshots import series
from behavtest.snapshots.store import Comparison, Entry, change_status, compare
from behavtest.stats.multiplicity import METHODS, adjust_families
from behavtest.stats.power import significant
from behavtest.stats.result import check_alpha
from behavtest.untrusted import markdown_cell, markdown_table, plain
from behavtest.verdict import format_p

CHANGED = ("changed up", "changed down")
TESTED = (*CHANGED, "same", "no significant change")
# after the tested rows (by adjusted p), in this order
LATER = ("new", "gone", "not comparable")
FORMATS = ("text", "markdown", "json")
CORRECTIONS = METHODS
EXIT_UNCHANGED, EXIT_CHANGED, EXIT_BAD_INPUT = 0, 1, 2  # cli.main returns 2 on bad input
Trainings = tuple[Training | None, Training | None]  # what A's and B's folders record


@dataclass(frozen=True)
class Row:
    """One behaviour: its two measurements, the difference and the verdict."""

    key: str
    verdict: str  # changed up/down, same, no significant change, new, gone, not comparable
    a: Entry | None
    b: Entry | None
    difference: float | None = None  # B - A
    low: float | None = None  # two-sided 1 - alpha interval of the difference
    high: float | None = None
    p: float | None = None  # two-sided p-value of a change
    p_adjusted: float | None = None
    p_same: float | None = None  # TOST p-value of "inside +-margin" (with --margin)
    p_same_adjusted: float | None = None
    method: str = ""
    reason: str | None = None  # what changed (not comparable), or a note

    @property
    def changed(self) -> bool:
        return self.verdict in CHANGED

    def to_json(self, alpha: float, correction: str, margin: float | None) -> dict[str, Any]:
        out: dict[str, Any] = {"key": self.key, "verdict": self.verdict, "reason": self.reason}
        for side, e in (("a", self.a), ("b", self.b)):
            out |= {f"{f}_{side}": None if e is None else getattr(e, f)
                    for f in ("rate", "low", "high", "k", "n", "model", "date")}
            if e is not None and e.ordered:  # a series: each checkpoint's data, in order
                out[f"checkpoints_{side}"] = [[m, *_k_n(c)] for m, c in e.members or ()]
        return out | {
            "difference": self.difference, "difference_low": self.low,
            "difference_high": self.high, "interval_level": 1.0 - alpha, "p": self.p,
            "p_adjusted": self.p_adjusted, "p_same": self.p_same,
            "p_same_adjusted": self.p_same_adjusted, "margin": margin, "alpha": alpha,
            "correction": correction, "method": self.method,
        }


def _p_same(now: Entry, was: Entry, margin: float, alpha: float, icc: float) -> float:
    """TOST p-value of -margin < now - was < +margin (the larger one-sided p)."""
    x, xg = now.scored()
    y, yg = was.scored()
    if now.ordered and xg is not None and yg is not None:  # every checkpoint inside
        return series.p_same(xg, yg, margin, alpha, icc)
    lo = selection.against_baseline(x, xg, y, yg, -margin, alpha, icc).inference
    hi = selection.against_baseline(x, xg, y, yg, margin, alpha, icc).inference
    return selection.tost(lo, hi, -margin, margin).p_greater


def _row(key: str, c: Comparison, **kw: Any) -> Row:
    return Row(key, c.status, c.was, c.now, c.effect, c.effect_low, c.effect_high, c.p,
               method=c.method, reason=c.reason, **kw)


def rows(a: Mapping[str, Entry], b: Mapping[str, Entry], alpha: float = 0.05,
         correction: str = "holm", icc: float = 0.1, margin: float | None = None) -> list[Row]:
    """One row per entry key in either folder, sorted by significance (smallest
    adjusted p first), then new, gone and not comparable rows."""
    check_alpha(alpha, "--alpha")
    if correction not in METHODS:
        raise InvalidArgument(f"--correction {correction!r} is not one of {', '.join(METHODS)}")
    if not 0.0 <= icc <= 1.0:
        raise InvalidArgument(f"--icc {icc} is outside [0, 1]; fix: e.g. --icc 0.1")
    if margin is not None and not (math.isfinite(margin) and margin > 0):
        raise InvalidArgument(f"--margin {margin} is not > 0; fix: e.g. --margin 0.05")
    done: list[Row] = []
    tested: list[tuple[str, Comparison, float | None]] = []
    for key in sorted(set(a) | set(b)):
        was, now = a.get(key), b.get(key)
        if was is None or now is None:
            done.append(Row(key, "new" if was is None else "gone", was, now))
            continue
        if margin is not None and margin >= 1 and now.binary and now.binary == was.binary:
            raise InvalidArgument(f"--margin {margin} is not < 1, and {key!r} is a rate; "
                                  "fix: e.g. --margin 0.05")
        try:
            # at alpha / 2: the interval is the two-sided 1 - alpha one, as the test
            c = replace(compare(key, now, was, alpha / 2, icc), alpha=alpha)
            same = (None if margin is None or c.status == "not comparable"
                    else _p_same(now, was, margin, alpha, icc))
        except (ValueError, ArithmeticError) as exc:  # data no test can take (a mean of one)
            done.append(Row(key, "not comparable", was, now,
                            reason=f"no test applies: {str(exc).splitlines()[0]}"))
            continue
        if c.status == "not comparable":
            done.append(Row(key, c.status, was, now, reason=c.reason))
        else:
            tested.append((key, c, same))
    ps = [c.p for _, c, _ in tested] + [s for _, _, s in tested if s is not None]
    adjusted = iter(adjust_families(ps, ["diff"] * len(ps), correction))  # one family
    p_adj = [next(adjusted) for _ in tested]
    out = []
    for (key, c, same), pa in zip(tested, p_adj, strict=True):
        sa = None if same is None else next(adjusted)
        row = _row(key, c.decide(pa), p_adjusted=pa, p_same=same, p_same_adjusted=sa)
        if change_status(pa, sa, alpha, c.effect) == "same":
            row = replace(row, verdict="same", reason=f"within +-{margin:g}")
        elif row.changed and sa is not None and significant(sa, alpha):
            row = replace(row, reason=f"a change inside the +-{margin:g} margin")
        out.append(row)
    out.sort(key=lambda r: (r.p_adjusted or 0.0, r.p or 0.0, r.key))
    return out + sorted(done, key=lambda r: (LATER.index(r.verdict), r.key))


def exit_code(table: Sequence[Row]) -> int:
    """EXIT_CHANGED (1) when a behaviour changed significantly, else EXIT_UNCHANGED
    (0); bad input never reaches a table (EXIT_BAD_INPUT, 2, from the CLI)."""
    return EXIT_CHANGED if any(r.changed for r in table) else EXIT_UNCHANGED


def _k_n(clusters: tuple[tuple[float, ...], ...]) -> tuple[float, int]:
    """(successes, or the sum of values; samples) of one checkpoint."""
    return sum(x for c in clusters for x in c), sum(len(c) for c in clusters)


# -- rendering ---------------------------------------------------------------------------
def _rate(e: Entry | None) -> str:
    if e is None:
        return "-"
    what = f"{e.rate:.3f} [{e.low:.3f}, {e.high:.3f}]"
    if e.ordered and e.members:  # a series: its claim's value, then each checkpoint
        return f"{what}; {series.per_checkpoint(e.members, e.binary)}"
    return what


def _diff(r: Row) -> str:
    if r.difference is None or r.low is None or r.high is None:
        return "-"
    return f"{r.difference:+.3f} [{r.low:+.3f}, {r.high:+.3f}]"


def _p(p: float | None) -> str:
    return "-" if p is None else format_p(p)


def _verdict(r: Row) -> str:
    return f"{r.verdict} ({r.reason})" if r.reason else r.verdict


def _cells(table: Sequence[Row], margin: float | None) -> list[list[str]]:
    head = ["behaviour", "A", "B", "B - A", "p", "adj. p"]
    head += ["p same (adj.)"] if margin is not None else []
    out = [head + ["verdict"]]
    for r in table:
        cells = [r.key, _rate(r.a), _rate(r.b), _diff(r), _p(r.p), _p(r.p_adjusted)]
        if margin is not None:
            cells.append("-" if r.p_same is None else f"{_p(r.p_same)} ({_p(r.p_same_adjusted)})")
        out.append(cells + [_verdict(r)])
    return out


def _heading(table: Sequence[Row], a: str, b: str, alpha: float, correction: str,
             margin: float | None, training: Trainings = (None, None)) -> list[str]:
    tested = sum(r.p is not None for r in table)
    family = tested * (2 if margin is not None else 1)
    how = ("uncorrected" if correction == "none"
           else f"{correction} over {family} test{'s' if family != 1 else ''}")
    same = ("; 'same': TOST inside +-" + f"{margin:g}" if margin is not None
            else "; 'same' needs --margin")
    counts: dict[str, int] = {}
    for r in table:
        counts[r.verdict] = counts.get(r.verdict, 0) + 1
    order = (*CHANGED, "same", "no significant change", *LATER)
    return [
        f"behavtest diff: A = {a}, B = {b}: two-sided tests at alpha {alpha:g}, {how}{same}; "
        f"rates with their recorded intervals, B - A with its {1 - alpha:.0%} interval",
        *_dtype_note(table),
        *training_note(training),
        ", ".join(f"{counts[v]} {v}" for v in order if counts.get(v)) or "no entries",
    ]


def _dtype_note(table: Sequence[Row]) -> list[str]:
    """A line when A and B were measured in different dtypes (a change may be the
    dtype's, not the model's); nothing when they agree or nothing says."""
    sides = [sorted({str(e.dtype) for r in table if (e := getattr(r, s)) is not None
                     and e.dtype is not None}) for s in ("a", "b")]
    if not all(sides) or sides[0] == sides[1]:
        return []
    return [f"dtypes differ: A in {', '.join(sides[0])}, B in {', '.join(sides[1])}: "
            "a change below may come from the dtype, not the model"]


def training_note(training: Trainings) -> list[str]:
    """'training: epochs 3 → 5, examples 200 → 300' when both sides record their
    training and it differs; nothing otherwise."""
    was, now = training
    if was is None or now is None or not (changes := was.changes(now)):
        return []
    return ["training: " + ", ".join(changes)]


def render_text(table: Sequence[Row], a: str, b: str, alpha: float, correction: str,
                margin: float | None, training: Trainings = (None, None)) -> str:
    """The heading, then the table drawn by rich as the terminal summary is (cells
    as Text, never markup; columns two spaces apart; a row per line, never folded,
    so the output greps and diffs)."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    head, *body = _cells(table, margin)
    grid = Table(box=None, pad_edge=False, header_style="", show_edge=False)
    for name in head:
        grid.add_column(Text(plain(name)), no_wrap=True)
    for row in body:
        grid.add_row(*(Text(plain(c)) for c in row))
    buf = io.StringIO()
    console = Console(file=buf, width=1 << 16, no_color=True, markup=False, highlight=False,
                      emoji=False)
    console.print(grid)
    lines = [plain(x) for x in _heading(table, a, b, alpha, correction, margin, training)]
    return "\n".join(lines + [ln.rstrip() for ln in buf.getvalue().splitlines()]) + "\n"


def render_markdown(table: Sequence[Row], a: str, b: str, alpha: float, correction: str,
                    margin: float | None, training: Trainings = (None, None)) -> str:
    head, *body = _cells(table, margin)
    lines = [markdown_cell(x) + "  "
             for x in _heading(table, a, b, alpha, correction, margin, training)]
    return "\n".join([*lines, "", *markdown_table(head, body)]) + "\n"


def render_json(table: Sequence[Row], alpha: float, correction: str,
                margin: float | None) -> str:
    return json.dumps([r.to_json(alpha, correction, margin) for r in table], indent=2) + "\n"


def render(fmt: str, table: Sequence[Row], a: str, b: str, alpha: float, correction: str,
           margin: float | None, training: Trainings = (None, None)) -> str:
    if fmt == "json":
        return render_json(table, alpha, correction, margin)
    if fmt == "markdown":
        return render_markdown(table, a, b, alpha, correction, margin, training)
    return render_text(table, a, b, alpha, correction, margin, training)
