"""The HTML report (``--behav-report report.html``): one self-contained file a person reads.

For every verdict of the run: a plot, the verdict and every number behind it,
and example replies when there are some. Plus the summary plot of all checks,
also written as a PNG beside the HTML for papers.

A check's plot (:func:`check_plot` says what it draws) shows what the verdict
compares with: the model's rate or mean with its interval; for a comparison
the baseline's beside it (with an interval where one is honest; see
``reports.reading``) and the difference the check tests in a second panel;
an equivalence check's margin shaded (around the baseline, and around 0 for
the difference; or the band [low, high] of a value); a threshold as a dashed
line; a stored snapshot. A legend names every mark. A verdict on an ordered
checkpoint series gets a second plot, the rate over the rounds
(``reports.series_plot``), and its numbers list every checkpoint in order.

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
- Test ids are shown whole, never cut: they wrap (:func:`_name`) on the page
  and in the summary plot.
- Written atomically (a temporary file in the same folder, then
  :func:`os.replace`), so an interrupted run never leaves half a report.

Hooks for features still being built: ``snapshots`` maps a record's key
(:func:`record_key`) to a stored snapshot ``(rate, low, high, label)``, drawn
beside the model's rate; ``examples`` maps a record's key to example reply texts.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from behavtest.files import write_atomic
from behavtest.reports.plots import (
    BASELINE_COLOR,
    COLORS,
    DIFFERENCE_COLOR,
    MARKERS,
    MODEL_COLOR,
    SNAPSHOT_COLOR,
    Band,
    CheckPlot,
    Row,
    check_png,
    summary_png,
)
from behavtest.reports.reading import (
    Equivalence,
    Judged,
    Series,
    Side,
    baseline,
    corrected,
    difference,
    equivalence,
    judged,
    model,
    series,
)
from behavtest.reports.series_plot import series_plot, series_png
from behavtest.run.result import Record, RunResult
from behavtest.untrusted import plain, plain_lines
from behavtest.verdict import Outcome, Verdict, format_p

__all__ = [
    "CSP", "Snapshot", "build_html", "check_plot", "png_path", "record_key",
    "write_report",
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
code.name { overflow-wrap: anywhere; }
.badge, .overview td:first-child { white-space: nowrap; overflow-wrap: normal; }
h2 small { display: block; margin-top: .25rem; font-weight: 400; }
"""


def _t(value: object) -> str:
    """Any value as HTML text: the one place data becomes markup. Control and format
    characters go first (the rule of ``untrusted``; line breaks stay, for replies),
    then quotes are escaped too, so the result is also safe inside an attribute."""
    return html.escape(plain_lines(str(value)), quote=True)


_NAME_BREAKS = re.compile(r"(::|[\[/_,-])")


def _name(value: object) -> str:
    """A test id as HTML text that wraps where it reads well and is never cut:
    :func:`_t`, then ``<wbr>`` (a line-break opportunity, copied as nothing)
    after ``::``, ``[``, ``/``, ``_``, ``,`` and ``-``; a run still too long for
    its line breaks anywhere (CSS ``overflow-wrap``). The escapes ``_t`` writes
    (``&lt;``, ``&#x27;`` ...) hold none of these characters, so none is split."""
    return _NAME_BREAKS.sub(r"\1<wbr>", _t(value))


def record_key(record: Record) -> str:
    """The key of a record in ``snapshots`` and ``examples``: test id, check and scorer."""
    return f"{record.nodeid} | {record.verdict.check} | {record.verdict.scorer}"


# -- the plots -----------------------------------------------------------------------------


def _side_row(side: Side, role: str, words: str, color: str, marker: str) -> Row:
    low, high = side.interval or (None, None)
    if side.members:
        words += f"; open {'circles' if marker == 'o' else 'squares'}: each model of the arm"
    return Row(role, side.rate, low, high, color, tuple(r for _, r, _ in side.members),
               marker=marker, role=role, legend=words)


def _model_row(m: Side, how: Judged) -> Row:
    words = (f"model: {m.what} and its {how.confidence} interval" if m.interval is not None
             else f"model: {m.what} (point only: no interval of its own)")
    if m.exact_here:
        words += " (exact, of k/n)"
    return _side_row(m, "model", words, MODEL_COLOR, "o")


def _baseline_row(b: Side, how: Judged) -> Row:
    if b.interval is not None:
        words = f"baseline: rate and its {how.confidence} exact interval of k/n"
    elif b.k is None:
        words = "baseline: mean, point only (the verdict carries no interval for it)"
    else:
        words = ("baseline: rate, point only (samples not independent: an interval of k/n "
                 "would be too narrow)")
    return _side_row(b, "baseline", words, BASELINE_COLOR, "s")


def _bands(b: Side | None, eq: Equivalence | None) -> tuple[Band | None, Band | None]:
    """(band on the value axis, band on the difference axis) of an equivalence."""
    if eq is None:
        return None, None
    if not eq.of_difference:
        return Band(eq.low, eq.high, f"equivalence band [{eq.low:g}, {eq.high:g}]"), None
    words = f"equivalence margin \u00b1{eq.high:g} (around the baseline; around 0 right)"
    diff = Band(eq.low, eq.high, words)
    if b is None:
        return None, diff
    return Band(b.rate + eq.low, b.rate + eq.high, words), diff


def check_plot(v: Verdict, snapshot: Snapshot | None = None) -> CheckPlot:
    """What a check's figure shows: the model and, when it compares, the
    baseline (each with its own interval where one is honest), a stored
    snapshot, the threshold, an equivalence margin, and the difference."""
    how, b = judged(v), baseline(v)
    rows = [_model_row(model(v), how)]
    if b is not None:
        rows.append(_baseline_row(b, how))
    if snapshot is not None:
        rate, low, high, label = snapshot
        rows.append(Row(plain(f"snapshot {label}"), rate, low, high, SNAPSHOT_COLOR,
                        marker="D", role="snapshot",
                        legend=plain(f"snapshot {label}: its stored rate and interval")))
    band, diff_band = _bands(b, equivalence(v))
    diff = None
    if (d := difference(v)) is not None:
        diff = Row("model \u2212 baseline", *d, DIFFERENCE_COLOR, role="difference",
                   legend=f"model \u2212 baseline: the difference and the {how.confidence} "
                          "interval the check tests")
    return CheckPlot(tuple(rows), how.threshold, band, diff, diff_band)


def _summary_rows(records: Sequence[Record]) -> list[Row]:
    rows = []
    for rec in records:
        v, m = rec.verdict, model(rec.verdict)
        low, high = m.interval or (None, None)
        outcome = v.final_outcome.value
        rows.append(Row(plain(f"{rec.nodeid}: {v.check}"), m.rate, low, high, COLORS[outcome],
                        tuple(r for _, r, _ in m.members), judged(v).threshold,
                        marker=MARKERS[outcome]))
    return rows


# -- the page ------------------------------------------------------------------------------


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


def _rate(rate: float, interval: tuple[float, float] | None) -> str:
    if interval is None:
        return f"{rate:.3f}"
    return f"{rate:.3f} [{interval[0]:.3f}, {interval[1]:.3f}]"


def _members(members: tuple[tuple[str, float, int], ...]) -> str:
    if not members:
        return ""
    items = "".join(f"<li>{_t(name)}: {value:.3f} (n={n})</li>" for name, value, n in members)
    return f"<ul>{items}</ul>"


def _model_numbers(m: Side, how: Judged) -> str:
    parsed = f" ({m.parsed} parsed)" if m.parsed is not None and m.parsed != m.n else ""
    units = f" over {how.units} {_t(how.unit)}" if how.units is not None and how.unit not in (
        None, "samples") else ""
    text = (f"{_t(m.name)}: {_t(m.counts())}{_t(parsed)}{units}; "
            f"{m.what} {_rate(m.rate, m.interval)}")
    if m.exact_here:
        text += " (exact interval of k/n)"
    return text + _members(m.members)


def _comparison_numbers(v: Verdict, how: Judged) -> list[tuple[str, str]]:
    """The baseline, the difference and an equivalence margin, when there are."""
    rows = []
    if (b := baseline(v)) is not None:
        text = f"{_t(b.name)}: {_t(b.counts())}"
        if b.interval is not None:
            text += f"; rate {_rate(b.rate, b.interval)} (exact interval of k/n)"
        else:
            text += " (no interval: the verdict carries none, and k/n has no honest one here)"
        rows.append(("baseline", text + _members(b.members)))
    if (d := difference(v)) is not None:
        rows.append(("difference", f"{_rate(d[0], d[1:])} "
                                   "(model \u2212 baseline; the interval the check uses)"))
    if (eq := equivalence(v)) is not None:
        around = ("of the difference model \u2212 baseline" if eq.of_difference
                  else f"of the {model(v).what}")
        rows.append(("margin", f"[{eq.low:g}, {eq.high:g}] {around} (equivalence: the "
                               f"{how.confidence} interval must lie inside)"))
    return rows


def _numbers(rec: Record, snapshot: Snapshot | None) -> list[tuple[str, str]]:
    """(label, HTML) rows of the numbers table; every value escaped here."""
    v, how = rec.verdict, judged(rec.verdict)
    rows = [("test", f'<code class="name">{_name(rec.nodeid)}</code>'), ("check", _t(v.check)),
            ("scorer", _t(v.scorer)), *_judge(v), ("verdict", _badge(v)),
            ("model", _model_numbers(model(v), how)), *_comparison_numbers(v, how)]
    if snapshot is not None:
        rate, low, high, label = snapshot
        rows.append(("snapshot", f"{_t(label)}: {_rate(rate, (low, high))}"))
    if how.threshold is not None:
        rows.append(("threshold", f"{how.threshold:g}"))
    rows.append(("p", f"claim {format_p(how.p_value)}, opposite {format_p(how.p_against)}, "
                      f"alpha {how.alpha:g}"))
    if (c := corrected(v)) is not None:
        rows.append(("adjusted p", f"claim {format_p(c.p_adjusted)}, opposite "
                     f"{format_p(c.p_against_adjusted)} ({_t(c.method)}, "
                     f"family {_t(v.family or 'suite')})"))
    rows.append(("method", _t(how.method)))
    if how.detectable:
        rows.append(("power", _t(how.detectable)))
    if v.note:
        rows.append(("note", _t(v.note)))
    if (s := series(v)) is not None:
        rows.append(("checkpoints", _checkpoints(s)))
    return rows


def _checkpoints(s: Series) -> str:
    """Each checkpoint's k/n and exact interval, in training order (and the control's)."""
    def items(points: Sequence[object]) -> str:
        return "".join(f"<li>{_t(p)}</li>" for p in points)

    mine = items([f"{c.name}: {c.counts()}" for c in s.checkpoints])
    text = f"{_t(s.name)} (exact 95% intervals of k/n):<ol>{mine}</ol>"
    if s.control:
        theirs = items([f"{c.name}: {c.counts()}" for c in s.control])
        text += f"control {_t(s.control_name)}:<ol>{theirs}</ol>"
    return text


def _series_figure(v: Verdict) -> str:
    """The plot of the rate over the rounds, for a verdict on a checkpoint series."""
    if (s := series(v)) is None:
        return ""
    alt = (f"{v.check}: rate at each of the {len(s.checkpoints)} checkpoints of the "
           f"{s.name}, in training order")
    caption = ("over the rounds: each checkpoint's rate with its exact 95% interval, joined "
               "in training order" + ("; dashed: the threshold" if judged(v).threshold
                                      is not None else ""))
    return (f'{_img(series_png(series_plot(s, judged(v).threshold, v.check)), alt)}'
            f'<p class="caption">{_t(caption)}</p>')


def _judge(v: Verdict) -> list[tuple[str, str]]:
    """A judged check's judge: its agreement with its labelled set, and the floor."""
    if v.judge is None:
        return []
    met = "meets the floor" if v.judge.met else "below the floor: the verdict says nothing"
    return [("judge", f"{_t(v.judge.summary())} ({met})")]


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


def _caption(v: Verdict) -> str:
    """What the plot's marks are, in a sentence (the legend names each)."""
    eq, parts = equivalence(v), ["bar: the check's interval"]
    if baseline(v) is not None:
        parts = ["left: model and baseline, each with its own interval where it has one"]
    if difference(v) is not None:
        parts.append("right: the difference model \u2212 baseline, which the check tests")
    if eq is not None:
        parts.append("shaded: the equivalence margin; the tested interval must lie inside it")
    if judged(v).threshold is not None:
        parts.append("dashed: the threshold")
    return "; ".join(parts)


def _section(i: int, rec: Record, snapshot: Snapshot | None, examples: Sequence[str]) -> str:
    v = rec.verdict
    table = "".join(f"<tr><th>{_t(label)}</th><td>{cell}</td></tr>"
                    for label, cell in _numbers(rec, snapshot))
    return (f'<section class="check" id="check-{i}">'
            f"<h2>{_badge(v)} {_t(v.check)} "
            f'<small><code class="name">{_name(rec.nodeid)}</code></small></h2>'
            f"{_img(check_png(check_plot(v, snapshot)), f'plot of {v.check}')}"
            f'<p class="caption">{_t(_caption(v))}</p>{_series_figure(v)}'
            f'<table class="numbers">{table}</table>{_examples(examples)}</section>')


def _overview(records: Sequence[Record]) -> str:
    head = "<tr><th>#</th><th>test</th><th>check</th><th>model</th><th>verdict</th></tr>"
    body = "".join(
        f'<tr><td><a href="#check-{i}">{i}</a></td>'
        f'<td><code class="name">{_name(r.nodeid)}</code></td>'
        f"<td>{_t(r.verdict.check)}</td><td>{_t(model(r.verdict).counts())}</td>"
        f"<td>{_badge(r.verdict)}</td></tr>"
        for i, r in enumerate(records, 1)
    )
    return f'<table class="overview">{head}{body}</table>'


def _counts(result: RunResult) -> str:
    c = result.counts()
    parts = [f'<span>{c[o]} {o.value.lower()}</span>' for o in Outcome]
    if unmet := result.preconditions_not_met():
        parts.append(f"<span>{unmet} precondition not met</span>")
    return f'<p class="counts">{"".join(parts)}</p>'


def build_html(
    result: RunResult,
    summary: bytes,
    snapshots: Mapping[str, Snapshot] | None = None,
    examples: Mapping[str, Sequence[str]] | None = None,
) -> str:
    """The whole report as one string (``summary``: the summary plot's PNG)."""
    records = result.in_order()
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
        f"<title>behavtest report: {_t(result.model)}</title>"
        f"<style>{_STYLE}</style></head><body>"
        "<h1>behavtest report</h1>"
        f'<p class="run">{_t(chr(10).join(result.header))}</p>{_counts(result)}'
        f'<section id="summary"><h2>All checks</h2>{_img(summary, "summary plot of all checks")}'
        f"{_overview(records)}</section>{sections}</body></html>\n"
    )


def png_path(path: Path) -> Path:
    """Where the summary PNG goes: beside the HTML, same name, ``.png``."""
    return path.with_suffix(".png")


def write_report(
    result: RunResult,
    path: Path,
    snapshots: Mapping[str, Snapshot] | None = None,
    examples: Mapping[str, Sequence[str]] | None = None,
) -> tuple[Path, Path]:
    """Write the HTML report to ``path`` and the summary PNG beside it; returns both."""
    summary = summary_png(_summary_rows(result.in_order()))
    text = build_html(result, summary, snapshots, examples)
    png = png_path(path)
    write_atomic(png, summary)
    # Lone surrogates (from bad decoding upstream) must not stop the report.
    write_atomic(path, text.encode("utf-8", errors="replace"))
    return path, png

