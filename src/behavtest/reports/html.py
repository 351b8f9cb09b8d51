"""The HTML report (``--behav-report report.html``): one self-contained file a person reads.

For every verdict of the run: a plot (model, baseline and snapshot rates with
their intervals; the difference for comparisons), the verdict and every number
behind it, and example replies when there are some. Plus the summary plot of
all checks, also written as a PNG beside the HTML for papers.

Why it looks like this:

- Self-contained: plots are base64 PNGs, the style is inline, there is no
  script and nothing is fetched (no network, no fonts), so the file can be
  mailed, archived or opened offline and always shows the same thing.
- Model output is untrusted. Every piece of text (replies, test ids, scorer
  names, notes, model specs) goes through one place, :func:`_t`: the rule every
  output shares (:func:`behavtest.untrusted.plain_lines`: no control or format
  character, so no bidirectional override shows "gnp.exe" as "exe.png"), then
  :func:`html.escape`; nothing else builds markup from data. Plot labels take
  the same rule. A Content-Security-Policy meta tag that allows no script and
  only ``data:`` images is the second line of defence.
- Written atomically (a temporary file in the same folder, then
  :func:`os.replace`), so an interrupted run never leaves half a report.

Hooks for features still being built: ``snapshots`` maps a record's key
(:func:`record_key`) to a stored snapshot ``(rate, low, high, label)``, drawn
beside the model's rate; ``examples`` maps a record's key to example reply texts.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Mapping, Sequence
from pathlib import Path

from behavtest.files import write_atomic
from behavtest.reports.plots import (
    BASELINE_COLOR,
    COLORS,
    SNAPSHOT_COLOR,
    Row,
    check_png,
    summary_png,
)
from behavtest.run.session import Record, Session
from behavtest.untrusted import plain, plain_lines
from behavtest.verdict import Outcome, Verdict, format_p

__all__ = [
    "CSP", "Snapshot", "build_html", "model_interval", "png_path", "record_key",
    "sorted_records", "write_report",
]

# A stored earlier result of the same check: (rate, low, high, label).
Snapshot = tuple[float, float, float, str]

CSP = ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
       "base-uri 'none'; form-action 'none'")
MAX_EXAMPLES = 5  # example replies shown per check
MAX_REPLY_CHARS = 2000  # each cut there, saying how much was left out

_STYLE = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2328;
       max-width: 1100px; margin: 0 auto; padding: 1.5rem; background: #fff; }
h1 { margin: 0 0 .3rem; } h2 { font-size: 1.15rem; margin: 0 0 .6rem; }
.run { color: #59636e; font-size: .85rem; font-family: ui-monospace, monospace;
       white-space: pre-wrap; overflow-wrap: anywhere; }
.counts span { margin-right: 1rem; font-weight: 600; }
section { border: 1px solid #d1d9e0; border-radius: 8px; padding: 1rem 1.2rem;
          margin: 1.2rem 0; }
img { max-width: 100%; height: auto; display: block; margin: .4rem 0; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th, td { text-align: left; vertical-align: top; padding: .25rem .6rem;
         border-bottom: 1px solid #e5e9ed; overflow-wrap: anywhere; }
th { color: #59636e; font-weight: 600; white-space: nowrap; width: 11rem; }
.overview th { width: auto; }
.badge { display: inline-block; padding: .05rem .5rem; border-radius: 1rem; color: #fff;
         font-size: .8rem; font-weight: 700; letter-spacing: .02em; }
.PASS { background: #1a7f37; } .FAIL { background: #cf222e; }
.INCONCLUSIVE { background: #9a6700; } .PRECONDITION { background: #57606a; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .85rem; }
pre { background: #f6f8fa; border-radius: 6px; padding: .5rem .7rem; margin: .3rem 0;
      white-space: pre-wrap; overflow-wrap: anywhere; }
.caption { color: #59636e; font-size: .8rem; }
"""


def _t(value: object) -> str:
    """Any value as HTML text: the one place data becomes markup. Control and format
    characters go first (the rule of ``untrusted``; line breaks stay, for replies),
    then quotes are escaped too, so the result is also safe inside an attribute."""
    return html.escape(plain_lines(str(value)), quote=True)


def record_key(record: Record) -> str:
    """The key of a record in ``snapshots`` and ``examples``: test id, check and scorer."""
    return f"{record.nodeid} | {record.verdict.check} | {record.verdict.scorer}"


def _own_interval(
    k: int | None, n: int | None, alpha: float, exact: bool
) -> tuple[float, float] | None:
    """The exact 1 - 2 alpha interval of k/n, when the samples are independent
    (not for arms or prompt clusters, whose honest interval is wider)."""
    if k is None or not n or not exact:
        return None
    from behavtest.stats.binomial import one_sided_bounds

    return one_sided_bounds(k, n, alpha)


def _independent(v: Verdict) -> bool:
    return v.unit in (None, "samples") and not v.members and not v.baseline_members


def model_interval(v: Verdict) -> tuple[float, float] | None:
    """The model's rate interval: the verdict's own unless it compares with a
    baseline (then the verdict's interval is the difference's)."""
    if v.baseline is None:
        return v.low, v.high
    return _own_interval(v.k, v.n, v.alpha, _independent(v))


def _rows(v: Verdict, snapshot: Snapshot | None) -> list[Row]:
    color = COLORS[v.final_outcome.value]
    low, high = model_interval(v) or (None, None)
    rows = [Row("model", v.rate, low, high, color, tuple(r for _, r, _ in v.members or ()))]
    if v.baseline_rate is not None:
        b_low, b_high = _own_interval(
            v.baseline_k, v.baseline_n, v.alpha, _independent(v)) or (None, None)
        rows.append(Row("baseline", v.baseline_rate, b_low, b_high, BASELINE_COLOR,
                        tuple(r for _, r, _ in v.baseline_members or ())))
    if snapshot is not None:
        rate, low, high, label = snapshot
        rows.append(Row(plain(f"snapshot {label}"), rate, low, high, SNAPSHOT_COLOR))
    return rows


def _check_plot(v: Verdict, snapshot: Snapshot | None) -> bytes:
    difference = None
    if v.effect is not None and v.effect_low is not None and v.effect_high is not None:
        difference = (v.effect, v.effect_low, v.effect_high)
    return check_png(_rows(v, snapshot), v.threshold, difference,
                     COLORS[v.final_outcome.value])


def _summary_rows(records: Sequence[Record]) -> list[Row]:
    rows = []
    for rec in records:
        v = rec.verdict
        low, high = model_interval(v) or (None, None)
        label = plain(f"{rec.nodeid.split('::', 1)[-1]}: {v.check}")
        rows.append(Row(label, v.rate, low, high, COLORS[v.final_outcome.value],
                        tuple(r for _, r, _ in v.members or ()), v.threshold))
    return rows


def _img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img alt="{_t(alt)}" src="data:image/png;base64,{data}">'


def _badge(v: Verdict) -> str:
    if v.is_precondition:
        return (f'<span class="badge PRECONDITION">precondition</span> '
                f'<span class="badge {v.outcome.value}">{_t(v.outcome.value)}</span>')
    final = v.final_outcome
    before = "" if final is v.outcome else f"{_t(v.outcome.value)} \u2192 "
    return f'{before}<span class="badge {final.value}">{_t(final.value)}</span>'


def _rate(rate: float, low: float | None, high: float | None) -> str:
    if low is None or high is None:
        return f"{rate:.3f}"
    return f"{rate:.3f} [{low:.3f}, {high:.3f}]"


def _members(members: tuple[tuple[str, float, int], ...] | None) -> str:
    if not members:
        return ""
    items = "".join(f"<li>{_t(name)}: {value:.3f} (n={n})</li>" for name, value, n in members)
    return f"<ul>{items}</ul>"


def _numbers(rec: Record, snapshot: Snapshot | None) -> list[tuple[str, str]]:
    """(label, HTML) rows of the numbers table; every value escaped here."""
    v = rec.verdict
    parsed = f" ({v.parsed} parsed)" if v.parsed is not None and v.parsed != v.n else ""
    units = f" over {v.units} {_t(v.unit)}" if v.units is not None and v.unit not in (
        None, "samples") else ""
    own = model_interval(v)
    model = (f"{_t(v.model)}: {_t(v.counts())}{_t(parsed)}{units}; "
             f"{'rate' if v.k is not None else 'mean'} {_rate(v.rate, *(own or (None, None)))}")
    if v.baseline is not None and own is not None:
        model += " (exact interval of k/n)"
    rows = [("test", f"<code>{_t(rec.nodeid)}</code>"), ("check", _t(v.check)),
            ("scorer", _t(v.scorer)), ("verdict", _badge(v)),
            ("model", model + _members(v.members))]
    if v.baseline is not None:
        base = _own_interval(v.baseline_k, v.baseline_n, v.alpha, _independent(v))
        text = f"{_t(v.baseline)}: {_t(v.baseline_counts())}"
        if base is not None:
            text += f"; rate {_rate(v.baseline_rate or 0.0, *base)} (exact interval of k/n)"
        rows.append(("baseline", text + _members(v.baseline_members)))
        if v.effect is not None:
            rows.append(("difference", f"{_rate(v.effect, v.effect_low, v.effect_high)} "
                                       "(model \u2212 baseline; the interval the check uses)"))
    if snapshot is not None:
        rate, low, high, label = snapshot
        rows.append(("snapshot", f"{_t(label)}: {_rate(rate, low, high)}"))
    if v.threshold is not None:
        rows.append(("threshold", f"{v.threshold:g}"))
    rows.append(("p", f"claim {format_p(v.p_value)}, opposite {format_p(v.p_against)}, "
                      f"alpha {v.alpha:g}"))
    if v.p_adjusted is not None:
        rows.append(("adjusted p", f"claim {format_p(v.p_adjusted)}, opposite "
                     f"{format_p(v.p_against_adjusted or 1.0)} ({_t(v.correction)}, "
                     f"family {_t(v.family or 'suite')})"))
    rows.append(("method", _t(v.method)))
    if v.detectable:
        rows.append(("power", _t(v.detectable)))
    if v.note:
        rows.append(("note", _t(v.note)))
    return rows


def _examples(texts: Sequence[str]) -> str:
    if not texts:
        return ""
    items = []
    for text in texts[:MAX_EXAMPLES]:
        cut = ""
        if len(text) > MAX_REPLY_CHARS:
            cut = f'<span class="caption">({len(text) - MAX_REPLY_CHARS} more characters)</span>'
            text = text[:MAX_REPLY_CHARS]
        items.append(f"<li><pre>{_t(text)}</pre>{cut}</li>")
    more = len(texts) - MAX_EXAMPLES
    tail = f'<p class="caption">{more} more not shown</p>' if more > 0 else ""
    return (f"<details open><summary>Example replies ({len(texts)})</summary>"
            f"<ol>{''.join(items)}</ol>{tail}</details>")


def _section(i: int, rec: Record, snapshot: Snapshot | None, examples: Sequence[str]) -> str:
    v = rec.verdict
    caption = ("model and baseline bars: exact interval of k/n; the check tests the difference"
               if v.baseline is not None else "bar: the check's interval; dashed: threshold")
    table = "".join(f"<tr><th>{_t(label)}</th><td>{cell}</td></tr>"
                    for label, cell in _numbers(rec, snapshot))
    return (f'<section class="check" id="check-{i}">'
            f"<h2>{_badge(v)} {_t(v.check)} <small><code>{_t(rec.nodeid)}</code></small></h2>"
            f"{_img(_check_plot(v, snapshot), f'plot of {v.check}')}"
            f'<p class="caption">{_t(caption)}</p>'
            f'<table class="numbers">{table}</table>{_examples(examples)}</section>')


def _overview(records: Sequence[Record]) -> str:
    head = "<tr><th>#</th><th>test</th><th>check</th><th>model</th><th>verdict</th></tr>"
    body = "".join(
        f'<tr><td><a href="#check-{i}">{i}</a></td><td><code>{_t(r.nodeid)}</code></td>'
        f"<td>{_t(r.verdict.check)}</td><td>{_t(r.verdict.counts())}</td>"
        f"<td>{_badge(r.verdict)}</td></tr>"
        for i, r in enumerate(records, 1)
    )
    return f'<table class="overview">{head}{body}</table>'


def _counts(session: Session) -> str:
    c = session.counts()
    parts = [f'<span>{c[o]} {o.value.lower()}</span>' for o in Outcome]
    if unmet := session.preconditions_not_met():
        parts.append(f"<span>{unmet} precondition not met</span>")
    return f'<p class="counts">{"".join(parts)}</p>'


def sorted_records(session: Session) -> list[Record]:
    """Records in the order every report shows them: by test id, then as recorded."""
    return sorted(session.records, key=lambda r: r.nodeid)


def build_html(
    session: Session,
    summary: bytes,
    snapshots: Mapping[str, Snapshot] | None = None,
    examples: Mapping[str, Sequence[str]] | None = None,
) -> str:
    """The whole report as one string (``summary``: the summary plot's PNG)."""
    records = sorted_records(session)
    snaps, replies = snapshots or {}, examples or {}
    sections = "".join(
        _section(i, r, snaps.get(record_key(r)), replies.get(record_key(r), ()))
        for i, r in enumerate(records, 1)
    )
    if not records:
        sections = "<p>No verdicts were recorded in this run.</p>"
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_t(CSP)}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>behavtest report: {_t(session.model_spec)}</title>"
        f"<style>{_STYLE}</style></head><body>"
        "<h1>behavtest report</h1>"
        f'<p class="run">{_t(chr(10).join(session.header()))}</p>{_counts(session)}'
        f'<section id="summary"><h2>All checks</h2>{_img(summary, "summary plot of all checks")}'
        f"{_overview(records)}</section>{sections}</body></html>\n"
    )


def png_path(path: Path) -> Path:
    """Where the summary PNG goes: beside the HTML, same name, ``.png``."""
    return path.with_suffix(".png")


def write_report(
    session: Session,
    path: Path,
    snapshots: Mapping[str, Snapshot] | None = None,
    examples: Mapping[str, Sequence[str]] | None = None,
) -> tuple[Path, Path]:
    """Write the HTML report to ``path`` and the summary PNG beside it; returns both."""
    summary = summary_png(_summary_rows(sorted_records(session)))
    text = build_html(session, summary, snapshots, examples)
    png = png_path(path)
    write_atomic(png, summary)
    # Lone surrogates (from bad decoding upstream) must not stop the report.
    write_atomic(path, text.encode("utf-8", errors="replace"))
    return path, png

