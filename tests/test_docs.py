"""The documentation site kept honest: generated pages current, every page in
the nav, the README a front page, the architecture page the house drawing, and
no reference to notes users do not have.

The site itself is built by CI (``mkdocs build --strict``: broken links and
anchors fail there); these tests need no mkdocs.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
README_MAX_LINES = 200

# Notes that live beside the project, not in it: users do not have them. Spelled
# in two pieces so that this file does not mention them itself.
PRIVATE = ("science" + ".md", "design" + ".md", "../" + "shared", "/work/" + "shared")


def _load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_options_page_is_what_the_code_declares() -> None:
    """docs/options.md is rendered from OPTIONS, MARKERS and the behavtest parser."""
    script = _load(ROOT / "scripts" / "options_page.py")
    committed = (DOCS / "options.md").read_text()
    assert committed == script.render(), (
        "docs/options.md is out of date with the code's options; fix: "
        ".venv/bin/python scripts/options_page.py (and commit docs/options.md)")


def _nav_pages(entries: Any) -> Iterator[str]:
    for entry in entries:
        if isinstance(entry, str):
            yield entry
        elif isinstance(entry, dict):
            for value in entry.values():
                yield from ([value] if isinstance(value, str) else _nav_pages(value))


def test_every_page_is_in_the_nav_and_every_nav_entry_is_a_page() -> None:
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    nav = list(_nav_pages(config["nav"]))
    pages = sorted(p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md"))
    assert sorted(set(pages) - set(nav)) == [], "pages missing from mkdocs.yml's nav"
    assert sorted(set(nav) - set(pages)) == [], "nav entries with no page in docs/"
    assert len(nav) == len(set(nav)), "a page is in the nav twice"


def test_the_readme_is_a_front_page() -> None:
    lines = (ROOT / "README.md").read_text().splitlines()
    assert len(lines) < README_MAX_LINES, (
        f"README.md has {len(lines)} lines; keep it under {README_MAX_LINES}: "
        "move the detail into a page of docs/ and link it")


def test_the_readme_links_only_to_pages_that_exist() -> None:
    text = (ROOT / "README.md").read_text()
    targets = re.findall(r"\]\((docs/[^)#\s]+)", text)
    assert targets, "the README links to no docs page"
    assert [t for t in targets if not (ROOT / t).is_file()] == []


def test_the_architecture_page_is_the_house_drawing() -> None:
    """The table of docs/architecture.md is tests/test_layout.py's ALLOWED."""
    allowed = _load(ROOT / "tests" / "test_layout.py").ALLOWED
    page = (DOCS / "architecture.md").read_text()
    drawn = {}
    for room, imports in re.findall(r"^\| `(behavtest[\w.]*)` \| (.+) \|$", page, re.M):
        drawn[room] = set(re.findall(r"`(behavtest[\w.]*)`", imports))
    assert drawn == allowed, (
        "docs/architecture.md's drawing differs from ALLOWED in tests/test_layout.py; "
        "fix: update the table to match")


def _repo_files() -> list[Path]:
    """Every file of the repository, tracked or new (git's view; ignored ones not)."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT, capture_output=True, check=True).stdout.decode()
        return [ROOT / name for name in listed.split("\0") if name]
    except (OSError, subprocess.CalledProcessError):  # not a git checkout
        skip = {".git", ".venv", "runs", ".behavtest_cache", ".pytest_cache", "__pycache__"}
        return [p for p in ROOT.rglob("*")
                if p.is_file() and not skip.intersection(p.relative_to(ROOT).parts)]


def test_no_file_cites_notes_users_do_not_have() -> None:
    offenders = []
    for path in _repo_files():
        if not path.is_file():  # listed but deleted in the work tree
            continue
        try:
            text = path.read_text()
        except (UnicodeDecodeError, OSError):
            continue  # binary
        for number, line in enumerate(text.splitlines(), 1):
            if any(note in line for note in PRIVATE):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:80]}")
    assert offenders == [], (
        "cite the paper (author, year, figure) or the docs page instead:\n"
        + "\n".join(offenders))
