"""Model output (and anything built from it) shown as text, never as markup or codes.

Replies, test ids taken from parametrized data, scorer names and notes can
hold anything a model wrote. Terminals, Markdown tables and HTML pages each
show them through one rule here, :func:`plain` (a block of several lines:
:func:`plain_lines`), then their own escaping (``markdown_cell``, every cell
of a ``markdown_table``; HTML's ``html.escape`` in ``html_report``): no
escape sequence reaches a terminal, no bidirectional override reorders what a
reader sees ("gnp.exe" after U+202E shows as "exe.png"), no table breaks, no
link or HTML appears in a pull-request comment.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence


def plain(text: str) -> str:
    """One line without control or format characters: no terminal escape sequence
    (ESC, CSI, OSC ...) nor bidirectional override survives; line breaks become spaces."""
    out = []
    for ch in text:
        kind = unicodedata.category(ch)
        if ch in "\t\n\r" or kind in ("Zl", "Zp"):
            out.append(" ")
        elif kind not in ("Cc", "Cf"):
            out.append(ch)
    return "".join(out)


def plain_lines(text: str) -> str:
    """Text of several lines (a reply shown as a block) through :func:`plain` line by
    line: the same characters go, the line breaks stay (as ``\\n``)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(plain(line) for line in lines)


_MD_SPECIAL = set("\\`*_[]<>|&")


def markdown_cell(text: str) -> str:
    """A table cell's text: every character that could end the cell, open code or
    emphasis, a link or HTML is backslash-escaped; a line break is ``<br>``."""
    return "<br>".join(
        "".join("\\" + ch if ch in _MD_SPECIAL else ch for ch in line)
        for line in plain_lines(text).split("\n")
    )


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    """The lines of a Markdown table, every cell (the header's too) through
    :func:`markdown_cell`: a cell's line breaks show as ``<br>``."""
    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(markdown_cell(c) for c in cells) + " |"

    return [line(header), "|" + "---|" * len(header), *map(line, rows)]
