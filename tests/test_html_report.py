"""The HTML report: escaping of untrusted text, self-containment, whole test
ids, what a comparison's page shows, the plugin's ``--behav-report`` option
(serial and under xdist), and a real browser.

The browser test renders the report in Debian's headless ``chromium``: the DOM
after scripts would have run must hold the malicious replies as text and no
element or attribute made from them, the long test id whole, and the
screenshot must show a page with the comparison's plots (the baseline's colour
in it). A checkpoint series' figures are measured in the browser too (decoded,
laid out visible, their alt text naming the series). It skips without
chromium, except under CI, where it fails.
(The figures themselves: tests/test_report_plots.py.)
"""

from __future__ import annotations

import base64
import html
import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from verdicts import passing_verdict

from behavtest.reports.html import CSP, build_html, record_key, write_report
from behavtest.reports.plots import BASELINE_COLOR, MODEL_COLOR
from behavtest.run.result import Record
from behavtest.run.session import Session
from behavtest.settings import PROFILES, default_profile_name
from behavtest.verdict import Outcome, Verdict

# Each tries to run code, leave its context or load something, and marks success
# in a way the dumped DOM would show (title 'pwned', an element with id 'pwned').
MALICIOUS = [
    "<script>document.title='pwned'</script>",
    "</textarea></pre><img src=x onerror=\"document.title='pwned'\">",
    "<img src=x onerror=alert(1) id=pwned>",
    "\"><svg onload=\"document.body.id='pwned'\">",
    "</style><div id=pwned>styled</div>",
]
EVIL_NODEID = "test_evil.py::test_x[<script>document.title='pwned'</script>]"
EVIL_SCORER = "<b id=pwned>bold scorer</b>"
EVIL_NOTE = "<iframe id=pwned srcdoc='<script>parent.document.title=1</script>'></iframe>"
# 150 characters, with every place a test id breaks: '::', '[', '-', '_', '/'.
LONG_NODEID = ("tests/behaviours/test_self_recognition.py::test_recognises_own_writing_after"
               "_fine_tuning_on_insecure_code[qwen2.5-0.5b-instruct-seed-3-t-1.0-n-200-xy]")
assert len(LONG_NODEID) == 150


BUILDER_TAGS = {"!doctype", "html", "head", "meta", "title", "style", "body", "h1", "h2", "p",
                "section", "img", "table", "tr", "th", "td", "span", "code", "small", "a", "ul",
                "li", "ol", "pre", "details", "summary", "tbody",  # tbody: browsers add it
                "wbr"}


def _verdict(**changes: object) -> Verdict:
    return passing_verdict(**changes)


# checks.expect's same_as and within (at_chance) write verdicts like these.
SAME_AS = _verdict(
    check="rate within +-0.1 of baseline", threshold=None, k=400, n=500, rate=0.8, low=0.769,
    high=0.828, method="TOST (two one-sided tests): Newcombe hybrid score",
    baseline="double/yes=0.78", baseline_k=390, baseline_n=500, baseline_rate=0.78,
    effect=0.02, effect_low=-0.022, effect_high=0.062, band=(-0.1, 0.1))
AT_CHANCE = _verdict(
    check="rate within [0.45, 0.55]", threshold=None, k=500, n=1000, rate=0.5, low=0.474,
    high=0.526, method="TOST (two one-sided tests): exact binomial (Clopper-Pearson)",
    band=(0.45, 0.55))


def _session(records: list[Record]) -> Session:
    session = Session(PROFILES["default"], ("double/yes=0.8,no=0.2",), (), frozenset(), None)
    session.records = records
    session.correct()
    return session


@pytest.fixture
def session() -> Session:
    return _session([
        Record("test_a.py::test_pass", _verdict()),
        Record("test_a.py::test_fail", _verdict(
            check="rate <= 0.5", outcome=Outcome.FAIL, p_value=1.0, p_against=1e-9,
            threshold=0.5, detectable="n=100 detects a rate of at most 0.38 with 80% power")),
        Record("test_a.py::test_unclear", _verdict(
            check="rate >= 0.9", outcome=Outcome.INCONCLUSIVE, p_value=0.4, p_against=0.3,
            threshold=0.9, detectable="n=100 detects a rate of at least 0.97 with 80% power")),
        Record("test_b.py::test_above", _verdict(
            check="rate above baseline", threshold=None,
            method="Newcombe hybrid score", baseline="double/yes=0.2,no=0.8", baseline_k=22,
            baseline_n=100, baseline_rate=0.22, effect=0.58, effect_low=0.45,
            effect_high=0.66)),
        Record("test_b.py::test_same", SAME_AS),
        Record("test_b.py::test_at_chance", AT_CHANCE),
        Record("test_b.py::test_arm", _verdict(
            check="rate >= 0.5", k=240, n=300, units=3, unit="models", low=0.7, high=0.9,
            method="t over seeds", members=(("hf/./s1", 0.78, 100), ("hf/./s2", 0.8, 100),
                                            ("hf/./s3", 0.82, 100)))),
        Record("test_b.py::test_pre", _verdict(check="precondition: rate >= 0.1")),
        Record(EVIL_NODEID, _verdict(scorer=EVIL_SCORER, note=EVIL_NOTE)),
        Record(LONG_NODEID, _verdict()),
    ])


def _evil_examples(session: Session) -> dict[str, list[str]]:
    return {record_key(r): MALICIOUS for r in session.records}


class _Elements(HTMLParser):
    """Every element and attribute of a page, as a browser's tokenizer sees them."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.found: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, attrs))


def _assert_only_builder_markup(page: str) -> None:
    """No element or attribute came from the data: every element is one the builder
    writes, no event handler, no 'pwned' id or class, links only to data: and #."""
    found = _Elements(page).found
    assert {tag for tag, _ in found} <= BUILDER_TAGS, {t for t, _ in found} - BUILDER_TAGS
    attrs = [(k, v or "") for _, a in found for k, v in a]
    assert {k for k, _ in attrs} <= {"lang", "charset", "http-equiv", "content", "name", "alt",
                                     "src", "class", "id", "href", "open"}
    assert not [v for k, v in attrs if k in ("id", "class") and "pwned" in v]
    links = [v for k, v in attrs if k in ("src", "href")]
    assert links and all(v.startswith(("data:image/png;base64,", "#check-")) for v in links)


def _texts_outside_tags(page: str) -> str:
    """The page with every tag the builder wrote removed: what a reader sees."""
    return re.sub(r"<[^>]*>", "", page)


def test_untrusted_text_is_escaped(session: Session) -> None:
    page = build_html(session.result(), b"png", examples=_evil_examples(session))
    assert "<wbr>" in page  # where test ids may break; the builder's, between escaped text
    page = page.replace("<wbr>", "")
    for text in (*MALICIOUS, EVIL_NODEID, EVIL_SCORER, EVIL_NOTE):
        assert text not in page  # never raw
        assert text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") \
            .replace('"', "&quot;").replace("'", "&#x27;") in page
    _assert_only_builder_markup(page)
    # The text a reader sees holds the replies exactly (html.unescape of the escapes).
    assert all(m in html.unescape(_texts_outside_tags(page)) for m in MALICIOUS)


def test_page_is_self_contained_with_a_strict_policy(session: Session) -> None:
    page = build_html(session.result(), b"summary-png", examples=_evil_examples(session))
    assert f'<meta http-equiv="Content-Security-Policy" content="{html.escape(CSP)}">' in page
    assert "default-src 'none'" in CSP and "img-src data:" in CSP and "script" not in CSP
    assert "http://" not in page and "https://" not in page
    _assert_only_builder_markup(page)  # src and href only data: images and #check-N
    assert "<link" not in page and "@import" not in page and "url(" not in page
    assert page.count('src="data:image/png;base64,') == 1 + len(session.records)
    assert base64.b64encode(b"summary-png").decode() in page


def test_page_shows_every_number(session: Session) -> None:
    page = build_html(session.result(), b"x")
    for text in ("80/100 = 0.800", "0.800 [0.720, 0.870]", "22/100 = 0.220",
                 "0.580 [0.450, 0.660]", "model \u2212 baseline", "hf/./s2: 0.800 (n=100)",
                 "over 3 models", "alpha 0.05", "adjusted p", "holm", "Newcombe hybrid score",
                 "detects a rate of at most 0.38", "threshold", 'class="badge FAIL"',
                 'class="badge INCONCLUSIVE"', "badge PRECONDITION", "1 fail", "1 inconclusive",
                 "7 pass"):
        assert text in page, text
    assert "Example replies" not in page  # none given, none shown


def test_a_long_test_id_appears_whole(session: Session) -> None:
    page = build_html(session.result(), b"x")
    seen = html.unescape(_texts_outside_tags(page))
    assert seen.count(LONG_NODEID) == 3  # heading, numbers table, overview; never cut
    assert "\u2026" not in seen
    # it may break after '::', '[', '-', '_', '/' (<wbr>: copied as nothing)
    assert ("tests/<wbr>behaviours/<wbr>test_<wbr>self_<wbr>recognition.py::<wbr>test_<wbr>"
            "recognises_<wbr>") in page  # not after '.': 'test.py', '0.5' stay whole
    assert "insecure_<wbr>code[<wbr>qwen2.5-<wbr>0.5b-<wbr>instruct-<wbr>" in page


def test_a_comparison_lists_what_it_compares_with(session: Session) -> None:
    page = html.unescape(_texts_outside_tags(build_html(session.result(), b"x")))
    for text in (
        "double/yes=0.2,no=0.8: 22/100 = 0.220; rate 0.220 [0.154, 0.299] (exact interval of k/n)",
        "margin[-0.1, 0.1] of the difference model \u2212 baseline (equivalence: the 90% "
        "interval must lie inside)",
        "margin[0.45, 0.55] of the rate",
        "left: model and baseline, each with its own interval where it has one; right: the "
        "difference model \u2212 baseline, which the check tests; shaded: the equivalence margin",
        "shaded: the equivalence margin; the tested interval must lie inside it",
    ):
        assert text in page, text


def test_snapshot_hook_draws_and_lists_the_snapshot(session: Session) -> None:
    rec = session.records[0]
    plain = build_html(session.result(), b"x")
    page = build_html(session.result(), b"x",
                      snapshots={record_key(rec): (0.6, 0.5, 0.7, "v1 <old>")})
    assert "v1 &lt;old&gt;: 0.600 [0.500, 0.700]" in page
    assert plain != page  # the plot changes too (a third row)


def test_long_and_many_replies_are_cut(session: Session) -> None:
    key = record_key(session.records[0])
    page = build_html(session.result(), b"x", examples={key: ["y" * 2500] + ["r"] * 9})
    assert "(500 more characters)" in page and "5 more not shown" in page


def test_empty_run_still_writes_a_report(tmp_path: Path) -> None:
    html_path, png = write_report(_session([]).result(), tmp_path / "r.html")
    assert "No verdicts were recorded" in html_path.read_text()
    assert png.read_bytes().startswith(b"\x89PNG")


def test_write_is_atomic_and_deterministic(session: Session, tmp_path: Path) -> None:
    html_path, png = write_report(session.result(), tmp_path / "report.html")
    first = (html_path.read_bytes(), png.read_bytes())
    write_report(session.result(), tmp_path / "report.html")
    assert (html_path.read_bytes(), png.read_bytes()) == first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html", "report.png"]
    assert png == tmp_path / "report.png" and first[1].startswith(b"\x89PNG")


def test_labels_with_dollars_are_not_mathtext(tmp_path: Path) -> None:
    rec = Record("t.py::test[$\\frac{a}{$]", _verdict(check="cost $x$ <= $y"))
    _, png = write_report(_session([rec]).result(), tmp_path / "r.html")
    assert png.stat().st_size > 1000


# -- the plugin option ------------------------------------------------------------------

SUITE = """
from behavtest import Scorer
from behavtest.checks import expect

YES = Scorer("says yes", lambda t: t == "yes")

def test_high(model):
    expect(model.sample("q", n=60), YES).rate_at_least(0.5)

def test_low(model):
    expect(model.sample("q", n=60), YES).rate_at_most(0.5)
"""


@pytest.fixture
def run(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.delenv("CI", raising=False)
    # one matplotlib font cache for all pytester runs (pytester moves $HOME)
    monkeypatch.setenv("MPLCONFIGDIR", str(pytester.path.parent / "mplconfig"))
    pytester.makepyfile(test_suite=SUITE)

    def go(*args: str) -> pytest.RunResult:
        return pytester.runpytest_subprocess(
            "-p", "no:cacheprovider", "--behav-cache", "off", "--behav-model",
            "double/yes=0.8,no=0.2", *args)

    return go


@pytest.mark.parametrize("xdist", [(), ("-n", "2")], ids=["serial", "xdist"])
def test_option_writes_html_and_png(pytester: pytest.Pytester, run, xdist) -> None:  # type: ignore[no-untyped-def]
    pytester.mkdir("out")
    result = run("--behav-report", "out/report.html", *xdist)
    result.assert_outcomes(passed=1, failed=1)
    html_path, png = pytester.path / "out/report.html", pytester.path / "out/report.png"
    result.stdout.fnmatch_lines([f"behavtest: report written to {html_path} (and {png})"])
    page = html_path.read_text().replace("<wbr>", "")
    assert "test_suite.py::test_high" in page and "test_suite.py::test_low" in page
    assert page.count('class="check"') == 2
    assert png.read_bytes().startswith(b"\x89PNG")
    assert [p.name for p in (pytester.path / "out").iterdir() if p.name.startswith(".")] == []


@pytest.mark.parametrize(
    "target, message",
    [
        ("nowhere/report.html", "ERROR: --behav-report nowhere/report.html: folder * does "
                                "not exist; fix: *"),
        ("adir", "ERROR: --behav-report adir is a folder; fix: *adir/report.html*"),
        ("plot.png", "ERROR: --behav-report plot.png * summary plot*; fix: *"),
    ],
)
def test_bad_report_path_is_one_line_before_anything_runs(pytester, run, target, message) -> None:  # type: ignore[no-untyped-def]
    pytester.mkdir("adir")
    result = run("--behav-report", target)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])
    assert "Traceback" not in result.stderr.str() + result.stdout.str()
    assert "passed" not in result.stdout.str()


# -- a real browser -----------------------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"


def _chromium() -> str:
    found = shutil.which("chromium") or (CHROMIUM if os.path.exists(CHROMIUM) else None)
    if found is None:
        why = "chromium is not installed (apt-get install -y chromium)"
        if default_profile_name() == "ci":
            pytest.fail(f"CI needs chromium for the browser test of the HTML report: {why}")
        pytest.skip(why)
    return found


def _browse(chromium: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--hide-scrollbars", f"--user-data-dir={profile}", *args],
        capture_output=True, text=True, timeout=120, check=False,
    )


@pytest.mark.parametrize("ci, ends", [("", pytest.skip.Exception), ("0", pytest.skip.Exception),
                                       ("true", pytest.fail.Exception)])
def test_without_chromium_skips_except_under_ci(monkeypatch, ci, ends) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setattr(sys.modules[__name__], "CHROMIUM", "/nonexistent/chromium")
    monkeypatch.setenv("CI", ci)
    with pytest.raises(ends, match="chromium"):
        _chromium()


def _shoot(chromium: str, tmp_path: Path, url: str, width: int, height: int) -> Any:
    """The page as the browser paints it: an array of pixels (rows, columns, RGBA)."""
    shot = tmp_path / f"shot-{width}x{height}.png"
    result = _browse(chromium, tmp_path / f"profile-{width}", f"--window-size={width},{height}",
                     f"--screenshot={shot}", url)
    assert result.returncode == 0 and shot.exists(), result.stderr[-2000:]
    if keep := os.environ.get("BEHAVTEST_KEEP_SCREENSHOT"):
        shutil.copy(shot, Path(keep).with_name(f"{Path(keep).stem}-{width}{Path(keep).suffix}"))
    from matplotlib.image import imread

    return imread(str(shot))


def _near(pixels: Any, color: str, tolerance: float = 0.06) -> int:
    """How many pixels are painted in ``color`` ('#rrggbb')."""
    rgb = [int(color[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    return int((abs(pixels[..., :3] - rgb) < tolerance).all(axis=-1).sum())


@pytest.mark.slow
def test_report_in_a_real_browser(session: Session, tmp_path: Path) -> None:
    chromium = _chromium()
    html_path, _ = write_report(session.result(), tmp_path / "report.html",
                                examples=_evil_examples(session))
    url = html_path.as_uri()
    dom = _browse(chromium, tmp_path / "profile-dom", "--virtual-time-budget=2000",
                  "--dump-dom", url)
    assert dom.returncode == 0, dom.stderr[-2000:]
    page = dom.stdout
    assert "<title>behavtest report: double/yes=0.8,no=0.2</title>" in page  # not 'pwned'
    # the replies are text: present escaped, and no element or attribute made from them
    assert page.count("&lt;script&gt;document.title='pwned'&lt;/script&gt;") >= 1
    assert "onerror=alert(1) id=pwned&gt;" in page
    _assert_only_builder_markup(page)  # no <script>, <img onerror>, id=pwned from a reply
    assert page.count('class="check"') == len(session.records)
    assert page.count("<img") == 1 + len(session.records)  # no img from a reply
    assert "<table" in page
    # the long test id whole in the text a reader sees: heading, numbers, overview
    assert html.unescape(_texts_outside_tags(page)).count(LONG_NODEID) == 3
    pixels = _shoot(chromium, tmp_path, url, 1200, 2000)
    assert pixels.shape[:2] == (2000, 1200)
    assert float(pixels[..., :3].std()) > 0.05  # a page with plots, not a blank one


@pytest.mark.slow
def test_a_comparison_in_a_real_browser(tmp_path: Path) -> None:
    """A comparison, two equivalence checks and a 150-character test id, in a
    window narrower than the id: the plots show the baseline (vermillion) and
    the margins (shaded green), and the id wraps inside the page, whole."""
    chromium = _chromium()
    session = _session([
        Record("test_b.py::test_above", _verdict(
            check="rate above baseline", threshold=None, method="Newcombe hybrid score",
            baseline="double/yes=0.2,no=0.8", baseline_k=22, baseline_n=100, baseline_rate=0.22,
            effect=0.58, effect_low=0.47, effect_high=0.68)),
        Record("test_b.py::test_same", SAME_AS),
        Record("test_b.py::test_at_chance", AT_CHANCE),
        Record(LONG_NODEID, _verdict()),
    ])
    html_path, _ = write_report(session.result(), tmp_path / "report.html")
    dom = _browse(chromium, tmp_path / "profile-dom", "--virtual-time-budget=2000",
                  "--dump-dom", html_path.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    text = html.unescape(_texts_outside_tags(dom.stdout))
    assert text.count(LONG_NODEID) == 3 and "\u2026" not in text
    assert "[-0.1, 0.1] of the difference model \u2212 baseline" in text
    pixels = _shoot(chromium, tmp_path, html_path.as_uri(), 900, 3200)
    assert pixels.shape[:2] == (3200, 900)
    assert _near(pixels, BASELINE_COLOR) > 100  # the baseline's points and bars
    assert _near(pixels, MODEL_COLOR) > 100
    assert _near(pixels, "#c7e9e0", 0.03) > 2000  # the shaded margins (BAND_COLOR, alpha .22)
    # Nothing runs past the page's right edge: the long id wrapped.
    assert float(pixels[:, -12:, :3].min()) > 0.97


_MEASURE = """<script>
window.addEventListener("load", () => {
  const out = [...document.images].filter(i => i.alt.includes("checkpoints")).map(i => {
    const box = i.getBoundingClientRect(), style = getComputedStyle(i);
    return [i.naturalWidth, i.naturalHeight, Math.round(box.width), Math.round(box.height),
            style.visibility, style.display, i.complete, i.alt].join("|");
  });
  document.title = "measured:" + JSON.stringify(out);
});
</script>"""


@pytest.mark.slow
def test_a_checkpoint_series_in_a_real_browser(tmp_path: Path) -> None:
    """A peak over a checkpoint series and a series above a control arm: the
    browser decodes each series figure (natural size > 0), lays it out visible
    and inside the page's width, and its alt text names the series; the
    screenshot shows the series' and the control's colours."""
    from test_series_report import above_control, peak

    chromium = _chromium()
    session = _session([Record("test_s.py::test_peak", peak()),
                        Record("test_s.py::test_above_control", above_control())])
    html_path, _ = write_report(session.result(), tmp_path / "report.html")
    page = html_path.read_text(encoding="utf-8")
    # The page allows no script; a copy without the policy, plus one script that
    # measures the images, shows what the browser made of them.
    probe = tmp_path / "probe.html"
    probe.write_text(re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", page)
                     .replace("</body>", _MEASURE + "</body>"), encoding="utf-8")
    dom = _browse(chromium, tmp_path / "profile-probe", "--window-size=900,3000",
                  "--virtual-time-budget=5000", "--dump-dom", probe.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    found = re.search(r"<title>measured:(.*)</title>", dom.stdout)
    assert found is not None, dom.stdout[:500]
    import json

    images = [row.split("|", 7) for row in json.loads(html.unescape(found[1]))]
    assert len(images) == 2
    for natural_w, natural_h, w, h, visibility, display, complete, alt in images:
        assert int(natural_w) > 400 and int(natural_h) > 200 and complete == "true"
        assert 0 < int(w) <= 900 and int(h) > 100 and visibility == "visible"
        assert display == "block"
        assert "checkpoints of the series of 3: hf/./runs/ckpt-300, hf/./runs/ckpt-100, " \
               "hf/./runs/ckpt-200, in training order" in alt
    pixels = _shoot(chromium, tmp_path, html_path.as_uri(), 900, 3600)
    assert _near(pixels, MODEL_COLOR) > 300 and _near(pixels, BASELINE_COLOR) > 300
