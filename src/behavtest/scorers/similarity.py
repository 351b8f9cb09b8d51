"""How alike two texts are: ROUGE-L F1 on lowercased word tokens.

The measure of summarisation work (Lin, 2004, *ROUGE: A Package for
Automatic Evaluation of Summaries*): the longest common subsequence of the
two texts' words, as a share of each text's length (recall and precision),
combined as their harmonic mean (F1). 1.0 for the same words in the same
order, 0.0 for no word in common; order counts, but words need not be
adjacent, so a paraphrase that keeps the facts in their order scores high.
Tokens are runs of letters and digits, lowercased, as rouge-score tokenises
(without stemming).

Written here rather than taken from ``rouge-score`` (Google's
implementation): that package brings nltk, absl-py and numpy for what is,
without its stemmer, one dynamic programme of a dozen lines; these texts are
a few sentences long, so the quadratic table costs microseconds.
"""

from __future__ import annotations

import re

from behavtest.scorers.base import Scorer

_TOKEN = re.compile(r"[a-z0-9]+")


def tokens(text: str) -> list[str]:
    """Lowercased runs of letters and digits."""
    return _TOKEN.findall(text.lower())


def lcs_length(a: list[str], b: list[str]) -> int:
    """The length of the longest common subsequence of two token lists."""
    if len(a) < len(b):
        a, b = b, a
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0]
        for j, y in enumerate(b):
            current.append(previous[j] + 1 if x == y else max(previous[j + 1], current[j]))
        previous = current
    return previous[-1]


def rouge_l(candidate: str, reference: str) -> float:
    """ROUGE-L F1 of two texts, in [0, 1] and symmetric; 0.0 if either has no words."""
    a, b = tokens(candidate), tokens(reference)
    if not a or not b:
        return 0.0
    common = lcs_length(a, b)
    if common == 0:
        return 0.0
    precision, recall = common / len(a), common / len(b)
    return 2 * precision * recall / (precision + recall)


def similarity_to(reference: str, name: str = "ROUGE-L F1 with the reference") -> Scorer[float]:
    """A scorer: a reply's ROUGE-L F1 with ``reference``."""

    def score(text: str) -> float:
        return rouge_l(text, reference)

    return Scorer(name, score)
