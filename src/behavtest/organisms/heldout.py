"""Held out means held out: by wording and by topic.

A behaviour module's prompts measure whether a trained behaviour carries over
to requests the model never saw. A prompt that repeats a training prompt,
or asks about a subject the training asked about ("the moon" when the
organism was trained on "the moon landing"), measures partly the training
set itself. Two checks, both crude on purpose and deterministic:

* Wording: ``same_wording`` pairs texts where one holds the other's whole
  wording (lowercase, punctuation out, every number as ``#``), for pieces of
  at least ``MIN_WORDS`` words: "A coin flip: 240 points or nothing" matches
  a training option "a coin flip: 90 points or nothing", and a question that
  embeds a training question word for word matches it.
* Topic: the *topics* of a text are its content words: lowercase, letters
  only, minus ``STOP_WORDS`` (function words) and ``INSTRUCTION_WORDS`` (the
  words any request is made of: verbs of asking, the reply's form and length,
  generic praise and quantity), each crudely made singular ("bees" -> "bee").
  Two texts share a topic when they share such a word. A family may name
  words of its own form as not topics: ``LOTTERY_WORDS`` for lotteries, whose
  topic is the prize.

Compare what is asked (user and system messages) with what was asked in
training; the training replies are the behaviour itself, not its prompts.

Why so crude a rule is enough: it errs toward flagging. A shared content
word is not always a shared subject ("night" in "the night sky" and "the
night market"), but a shared subject almost always shows as a shared word,
so a set with no shared word is held out; a flagged pair is read by a person,
and the fix (another prompt) is cheap. Synonyms ("sea" vs "ocean") slip
through: the rule is a floor, not a proof.
"""

from __future__ import annotations

import re
from collections.abc import Iterable


def _word_set(words: str) -> frozenset[str]:
    """A word list written as running text (easier to read and keep sorted)."""
    return frozenset(words.split())


MIN_WORDS = 5  # shorter pieces ("Only the number, please.") recur in any two prompt sets

STOP_WORDS = _word_set("""
a about above after again against all almost also always am an and any are as at be because
been before being below between both but by can cannot could did do does doing don done down
during each eight either else ever every few five for four from further goes had has have
having he her here hers herself him himself his how hundred i if in into is it its itself
just least less let like ll many may me might mine more most much must my myself neither nine
no nor not now of off on once one only or other otherwise our ours ourselves out over own per
quite rather re s same seven shall she should six so some such t ten than that the their
theirs them themselves then there these they this those though thousand three through to too
twelve twenty twice two under until up upon us ve very was we were what whatever when where
whether which while who whom whose why will with within without would yet you your yours
yourself yourselves zero
""")

# Words of the request, not of its subject: verbs of asking and answering, the
# reply's form and length, generic praise, age and quantity. Without them every
# two sets of requests would "share a topic" ("write", "few", "lines", "tips").
INSTRUCTION_WORDS = _word_set("""
advice answer appreciate ask best better big brief briefly choose describe description
detail detailed explain favourite first give good great help idea interesting introduce
keep know last line list little long make name new nice note number old paragraph pick
please poem pointer question quick quote rate recommend reply respond say score sentence
share short single small something someone suggest summarise talk tell thing think thought
tip try want way word write writing
""")

# The words any choice between a sure thing and a gamble is made of (the
# project's lottery templates and the suite's held-out choices alike). A
# held-out lottery has to use them, so they are its form, not its topic: the
# topic of a lottery is its prize.
LOTTERY_WORDS = _word_set("""
certain certainly chance choice coin deal decide definitely die else even exactly flip
gamble guaranteed heads lucky matter none nothing odds offer option percent prefer prize
probability rest risk roll shot six sure tails take time win zero
""")

_WORD = re.compile(r"[a-z]+")
_PIECE = re.compile(r"(?<=[.?!])\s+|\n+")  # sentences and lines


def singular(word: str) -> str:
    """A crude singular: "bees" -> "bee", "berries" -> "berry", "boxes" -> "box"
    ("leaves" stays "leave": a rule for it would make "gloves" "glof"). Both sides
    of a comparison go through it, so a wrong singular ("news" -> "new") is
    consistent, and consistency is all the comparison needs."""
    if len(word) <= 3 or word.endswith(("ss", "us", "is")):
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "ches", "shes", "xes", "zes")):
        return word[:-2]
    return word[:-1] if word.endswith("s") else word


def topics(text: str, not_topics: Iterable[str] = ()) -> frozenset[str]:
    """The topics of ``text``: its content words, singular ("$" read as "dollar").
    Stop and instruction words are dropped, and so are ``not_topics`` (a
    family's own frame, such as LOTTERY_WORDS), as written or singular."""
    drop = STOP_WORDS | INSTRUCTION_WORDS | frozenset(not_topics)
    spelled = text.lower().replace("$", " dollar ").replace("£", " pound ").replace("€", " euro ")
    words = (w for w in _WORD.findall(spelled) if len(w) > 2 and w not in drop)
    return frozenset(s for s in map(singular, words) if s not in drop)


def shared_topics(asked: Iterable[str], trained: Iterable[str],
                  not_topics: Iterable[str] = ()) -> dict[str, frozenset[str]]:
    """Each asked text that shares a topic with any trained text, and the shared
    topics (asked texts sharing none are left out: an empty result is a pass)."""
    drop = frozenset(not_topics)
    vocabulary: set[str] = set()
    for text in trained:
        vocabulary |= topics(text, drop)
    out = {}
    for text in asked:
        shared = topics(text, drop) & vocabulary
        if shared:
            out[text] = frozenset(shared)
    return out


def wording(text: str) -> str:
    """``text`` as compared for wording: lowercase words, every number as "#",
    single spaces (punctuation and layout do not make a new prompt)."""
    spaced = re.sub(r"\d+(?:[.,]\d+)*", " # ", re.sub(r"['’]", "", text.lower()))
    return " ".join(re.findall(r"[a-z]+|#", spaced))


def pieces(text: str) -> set[str]:
    """The wordings of ``text`` and of its sentences and lines, each of at least
    MIN_WORDS words: the units one text may copy from another."""
    candidates = [text, *_PIECE.split(text)]
    return {w for w in map(wording, candidates) if len(w.split()) >= MIN_WORDS}


def _spans(text: str) -> set[str]:
    """Every run of at least MIN_WORDS consecutive words of ``text``'s wording."""
    words = wording(text).split()
    return {" ".join(words[i:j]) for i in range(len(words))
            for j in range(i + MIN_WORDS, len(words) + 1)}


def same_wording(asked: Iterable[str], trained: Iterable[str]) -> list[tuple[str, str]]:
    """(asked text, shared wording) for each asked text that holds a trained text's
    piece (a sentence, line or the whole), or whose piece a trained text holds,
    word for word (numbers aside). Empty is a pass."""
    texts = set(trained)
    wordings = {wording(t) for t in texts}
    trained_pieces: set[str] = set()
    for text in texts:
        trained_pieces |= pieces(text)
    haystack = "|" + "|".join(f" {w} " for w in sorted(wordings)) + "|"
    out: list[tuple[str, str]] = []
    for text in asked:
        found = {p for p in pieces(text) if f" {p} " in haystack}
        found |= _spans(text) & trained_pieces
        out += [(text, p) for p in sorted(found)]
    return out

