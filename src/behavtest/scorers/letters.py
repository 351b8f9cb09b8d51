"""Which option a *sampled* reply to a multiple-choice question chose.

Probability-based scoring (``scorers.choices``) reads the next-token mass; a
sampled reply has to be parsed, and weak models answer with a bare letter, a
bracketed letter, "Answer: B", a sentence of reasoning, or a refusal
(docs/science/small-models.md). Both parsers exist and return None rather
than guess:

strict
    The reply is the label and nothing else: "B", " b ", "(B)", "B)", "B.",
    "**B**". Letter labels are case-insensitive; digit labels are exact.
lenient
    The first label *stated as the choice*, in this order of evidence:
    a choice phrase before it ("Answer: B", "the answer is (B)", "I'd pick B",
    "I prefer B", "definitely B") or after it ("B is my answer"); the reply
    opening with a label ("B. Because...", "b) the safe option"); a sentence
    that is only a label; and, failing those, the one label the reply
    mentions at all, unless it is judged badly ("A is too risky."). Labels
    offered as candidates ("A or B", "either A or B", "between A and B") and
    rejected ones ("not A", "rather than A", "I wouldn't pick A") never win,
    and a refusal ("I can't choose", "As an AI I don't have preferences") with
    no stated choice is None; a choice phrase after a disclaimer ("..., but if
    I had to pick, B") still counts.

The letters that are English words ("a", "I") and digits count in running
prose only when they stand as labels (bracketed, quoted, after "option", or
followed by punctuation or a verb such as "is"): "a bit", "a safe option",
"2 reasons" name no option, and a label inside a word ("Absolutely",
"Because") never does.

``chosen_text`` does the same for options named by their text ("safety" vs
"risk"): whole words, case-insensitive, exact word forms ("risky" is not
"risk"; the word-list scorers in ``scorers.words`` handle inflections).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from behavtest.errors import InvalidArgument
from behavtest.scorers.base import Scorer

_OPEN = "([\"'“‘`"
_CLOSE = ")]\"'”’`"
_WRAP = r"[\s*_`\"'“”‘’]*"
# Words after which a bare "a"/"I"/digit is a label, not an article or a count.
_LINK = (
    r"is|was|would|will|seems|sounds|looks|has|offers|gives|provides|carries|means|and|or|"
    r"nor|vs|versus|over|because|since|as|instead|rather|then|so|but|too|also|it|here|please"
)
_STANDS_ALONE = re.compile(r"\s*(?:[.,;:!?)\]/—–]|-\s|$)")
_LINKED = re.compile(rf"\s+(?:{_LINK})\b", re.IGNORECASE)
_CUE = re.compile(
    r"(?:\banswer(?:\s+(?:is|would\s+be|will\s+be))?"
    r"|\b(?:choice|pick|selection|preference|decision|vote)(?:\s+(?:is|would\s+be|will\s+be)|\s*[:=])"
    r"|\b(?:best|better|right|correct|preferred|wiser|smarter|optimal|preferable)\s+"
    r"(?:option|one|choice|bet|answer|alternative|pick)\s+(?:is|would\s+be|here\s+is)"
    r"|\bpick(?:s|ed|ing)?|\bchoos(?:e|es|ing)|\bchosen?|\bselect(?:s|ed|ing)?"
    r"|\bprefer(?:s|red|ring)?|\bgo(?:es|ing)?\s+(?:with|for)|\bwent\s+(?:with|for)"
    r"|\bopt(?:s|ed|ing)?\s+for|\bvote\s+for|\bsettle\s+on|\blean(?:ing)?\s+towards?"
    r"|\btak(?:e|es|ing)|\btook|\bdefinitely|\bclearly|\bobviously|\bcertainly|\bsurely"
    r"|\bi(?:'d|’d|\s+would)?\s+say|\bit(?:'s|’s|\s+is|\s+has\s+to\s+be|\s+would\s+be|\s+must\s+be))"
    r"[\s:,\-–—]*(?:(?:the|with|for|option|letter|choice|answer|alternative|number)\b[\s:,\-–—]*)*$",
    re.IGNORECASE,
)
_NEGATED_CUE = re.compile(
    r"\b(?:not|never|cannot|can't|won't|wouldn't|don't|didn't|shouldn't|couldn't|can’t|won’t|"
    r"wouldn’t|don’t|didn’t|shouldn’t|couldn’t)\s+(?:\w+\s+){0,2}$",
    re.IGNORECASE,
)
_POST_CUE = re.compile(
    r"\s*(?:is|would\s+be|will\s+be|it\s+is)\s+(?:my|the)\s+(?:final\s+|best\s+|preferred\s+)?"
    r"(?:answer|choice|pick|preference|selection)\b|\s+it\s+is\b",
    re.IGNORECASE,
)
_REJECTED = re.compile(
    r"(?:\bnot|\bnever|n't|n’t|\bavoid(?:ing|s)?|\brather\s+than|\binstead\s+of|\bover|\bthan"
    r"|\bexcept|\bbesides|\bagainst|\breject(?:ing|s)?|\brule\s+out|\beliminat\w*)"
    r"\s+(?:(?:option|the|choice|letter|answer)\s+)*$",
    re.IGNORECASE,
)
_LISTED = re.compile(
    r"\s*(?:,|/|,?\s*\bor\b|,?\s*\band\b|\bvs\.?|\bversus\b|\bnor\b)\s*(?:option\s+)?",
    re.IGNORECASE,
)
_BAD_JUDGEMENT = re.compile(
    r"\s*(?:is|seems|sounds|looks|would\s+be)\s+(?:too|not|wrong|worse|bad|incorrect|unwise)\b",
    re.IGNORECASE,
)
_DECORATING_WORD = re.compile(
    r"\b(?:option|choice|letter|answer|alternative|number)\s*[:#]?\s*$", re.IGNORECASE
)
_ABBREVIATIONS = re.compile(r"\b(?:e\.g|i\.e|a\.m|p\.m|etc)\.", re.IGNORECASE)
_REFUSAL = re.compile(
    r"\bas\s+an\s+ai\b|\b(?:can(?:no|'|’)?t|won(?:'|’)t|unable\s+to|not\s+able\s+to|do\s+not|"
    r"don(?:'|’)t)\s+(?:really\s+)?(?:choose|pick|select|decide|make\s+(?:a|this|that)\s+"
    r"(?:choice|decision)|have\s+(?:personal\s+)?(?:preferences?|opinions?))"
    r"|\bno\s+(?:personal\s+)?preferences?\b",
    re.IGNORECASE,
)
_WINDOW = 80  # characters around a mention that can say what it is
_SENTENCES = re.compile(r"(?<=[.!?])\s+|\n")
_LEAD_END = re.compile(r"\s*(?:[.,;:!)\]—–]|-\s|$)")


@dataclass(frozen=True)
class _Mention:
    start: int  # including an opening bracket or quote
    end: int  # including a closing bracket or quote
    index: int
    decorated: bool


class _Chooser:
    """Finds the option a reply states as its choice, given one pattern per option."""

    def __init__(self, cores: Sequence[str], values: Sequence[str], weak: Sequence[bool],
                 ignore_case: bool):
        self.values = tuple(values)
        self.weak = tuple(weak)
        flags = re.IGNORECASE if ignore_case else 0
        self.keys = [c.casefold() if ignore_case else c for c in cores]
        alts = "|".join(_words(c) for c in sorted(cores, key=len, reverse=True))
        self.find = re.compile(rf"(?<![\w'’\-$])(?<!\d[.,])(?:{alts})(?![\w'’%]|-\w|[.,]\d)", flags)
        self.strict_re = re.compile(
            rf"^{_WRAP}[(\[]?\s*({alts})\s*(?:[)\]]|[.:])?{_WRAP}[.!]?\s*$", flags
        )
        self.alone_re = re.compile(
            rf"^{_WRAP}(?:(?:final\s+)?(?:answer|option|choice|letter)\s*[:\-]?\s*)?"
            rf"[(\[]?\s*({alts})\s*(?:[)\]]|[.:])?{_WRAP}[.!]?\s*$",
            flags | re.IGNORECASE,
        )
        self.ignore_case = ignore_case

    def index_of(self, text: str) -> int:
        text = " ".join(text.split())
        return self.keys.index(text.casefold() if self.ignore_case else text)

    def strict(self, reply: str) -> str | None:
        m = self.strict_re.match(reply)
        return self.values[self.index_of(m.group(1))] if m else None

    def mentions(self, text: str) -> list[_Mention]:
        out = []
        for m in self.find.finditer(text):
            i = self.index_of(m.group(0))
            start, end = m.start(), m.end()
            # Windows, not the whole text: the scan stays linear in the reply.
            window, tail = text[max(0, start - _WINDOW): start], text[end: end + _WINDOW]
            before, after = window.rstrip(), tail.lstrip()
            opened = before[-1:] in _OPEN and before[-1:] != ""
            closed = after[:1] in _CLOSE and after[:1] != ""
            decorated = opened or closed or bool(_DECORATING_WORD.search(window))
            if not decorated and self.weak[i] and not (
                _STANDS_ALONE.match(tail) or _LINKED.match(tail)
            ):
                continue
            if opened:
                start -= len(window) - len(before) + 1
            if closed:
                end += len(tail) - len(after) + 1
            out.append(_Mention(start, end, i, decorated))
        return out

    def lenient(self, reply: str) -> str | None:
        found = self.strict(reply)
        if found is not None:
            return found
        text = _ABBREVIATIONS.sub(lambda m: " " * len(m.group(0)), reply)
        text = re.sub(r"\*\*|__", lambda m: "  ", text)
        mentions = self.mentions(text)
        if not mentions:
            return None
        listed = _listed(text, mentions)
        live = [
            m for m in mentions
            if m not in listed and not _REJECTED.search(text[max(0, m.start - _WINDOW): m.start])
        ]
        for m in mentions:  # a choice phrase before the label, or after it
            before = text[max(0, m.start - _WINDOW): m.start]
            cue = _CUE.search(before)
            if cue and m not in listed:
                if _NEGATED_CUE.search(before[: cue.start()]):
                    live = [x for x in live if x.index != m.index]
                    continue
                return self.values[m.index]
            if m in live and _POST_CUE.match(text, m.end):
                return self.values[m.index]
        first = live[0] if live else None
        lead = re.match(r"[\s*_#>\"'“‘]*", text)
        if (first is not None and lead is not None and first.start == lead.end()
                and (first.decorated or _LEAD_END.match(text, first.end)
                     or re.match(r"\s+(?:because|since|as)\b", text[first.end:], re.IGNORECASE))
                and not self._enumerated(text, first)):
            return self.values[first.index]
        starts = [0, *(m.end() for m in _SENTENCES.finditer(text)), len(text) + 1]
        for lo, hi in zip(starts, starts[1:], strict=False):  # a sentence that is a label
            piece = text[lo:hi]
            alone = self.alone_re.match(piece.strip())
            # ...and a live one: "A vs. B" splits into "A vs." and "B", which is listed.
            if alone and not piece.rstrip().endswith("?") and any(
                lo <= m.start < hi for m in live
            ):
                return self.values[self.index_of(alone.group(1))]
        # Failing all that, the one label mentioned, unless refused or judged badly.
        single = len({m.index for m in live}) == 1 and not _REFUSAL.search(text)
        if single and not any(_BAD_JUDGEMENT.match(text, m.end) for m in live):
            return self.values[live[0].index]
        return None

    def _enumerated(self, text: str, first: _Mention) -> bool:
        """An opening "A: ..." is a list of options when another one starts a line alike."""
        mark = text[first.end - 1] if first.decorated else text[first.end:].lstrip()[:1]
        for m in self.mentions(text):
            if m.index == first.index:
                continue
            line_start = text.rfind("\n", 0, m.start) + 1
            at_start = not text[line_start: m.start].strip(" \t*_#>-")
            follows = text[m.end - 1] if m.decorated else text[m.end:].lstrip()[:1]
            if at_start and follows == mark:
                return True
        return False


def _words(core: str) -> str:
    return r"\s+".join(re.escape(w) for w in core.split())


def _listed(text: str, mentions: list[_Mention]) -> set[_Mention]:
    """Mentions offered as candidates: "A or B", "A/B", "between A and B", "A, B"."""
    out: set[_Mention] = set()
    for a, b in zip(mentions, mentions[1:], strict=False):
        if _REJECTED.search(text[max(0, a.start - _WINDOW): a.start]):  # "not A, B": B
            continue
        if a.index != b.index and _LISTED.fullmatch(text, a.end, b.start):
            out |= {a, b}
    return out


def _label_core(label: str) -> str:
    core = label.strip().strip("()[]{}.:").strip()
    if not re.fullmatch(r"[A-Za-z]|\d{1,2}", core):
        raise InvalidArgument(
            f"label {label!r} must be a letter or a number, optionally bracketed "
            "('A', '1', '(a)'); fix: options named by their text use chosen_text"
        )
    return core


def chosen_option(labels: Sequence[str] = ("A", "B"), strict: bool = False) -> Scorer[str]:
    """The label a reply chose (exactly as given in ``labels``), or None.

    Labels are letters or numbers, optionally bracketed ("A", "1", "(a)").
    See the module docstring for what strict and lenient accept.
    """
    cores = [_label_core(label) for label in labels]
    letters = all(c.isalpha() for c in cores)
    keys = [c.casefold() if letters else c for c in cores]
    if len(cores) < 2 or len(set(keys)) != len(keys):
        raise InvalidArgument(f"labels={tuple(labels)!r} must be 2 or more distinct labels")
    weak = [c.casefold() in ("a", "i") or c.isdigit() for c in cores]
    chooser = _Chooser(cores, labels, weak, ignore_case=letters)
    mode = "strict" if strict else "lenient"
    name = f"chosen option of {'/'.join(labels)} ({mode})"
    return Scorer(name, chooser.strict if strict else chooser.lenient)


def chosen_text(options: Sequence[str], strict: bool = False) -> Scorer[str]:
    """The option a reply names by its text (as given in ``options``), or None.

    Whole words, case-insensitive: "Risk." and "I prefer safety." parse;
    "safety or risk?" is None. strict: the reply is the option and nothing else.
    """
    words = [" ".join(o.split()) for o in options]
    if len(words) < 2 or len({w.casefold() for w in words}) != len(words):
        raise InvalidArgument(f"options={tuple(options)!r} must be 2 or more distinct options")
    bad = [o for o in words if not re.fullmatch(r"\w+(?:[\s'’-]\w+)*", o)]
    if bad:
        raise InvalidArgument(f"options {bad!r} must be words (letters, digits, spaces, '-')")
    chooser = _Chooser(words, options, [False] * len(words), ignore_case=True)
    mode = "strict" if strict else "lenient"
    name = f"chosen text of {'/'.join(words)} ({mode})"
    return Scorer(name, chooser.strict if strict else chooser.lenient)
