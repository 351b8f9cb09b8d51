"""Option probabilities from what the API gives: first-token top log-probabilities,
or, for a server without them, counts of one-token samples.

The API cannot teacher-force a continuation, so only single-token labels
("A", "B", ...) can be scored. The rules are documented on
:meth:`OpenAIProvider.continuation_logprobs`; these are the pure parts.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from behavtest.errors import InvalidArgument

TOP_LOGPROBS = 20  # the API's maximum
FALLBACK_SAMPLES = 50  # one-token samples per question when estimating by sampling


def single_token_labels(continuations: Sequence[str]) -> list[str]:
    """The labels to look for (continuations stripped of whitespace); refuses
    anything that is not one word."""
    labels = [c.strip() for c in continuations]
    for c, label in zip(continuations, labels, strict=True):
        if not label or any(ch.isspace() for ch in label):
            raise InvalidArgument(
                f"continuation {c!r} cannot be scored over the API: only single-token "
                "labels such as 'A' (the API gives first-token log-probabilities only)"
            )
    return labels


def first_token_top(reply: Any) -> dict[str, float] | str | None:
    """The first token's top log-probabilities (token -> logprob) in a chat
    completion asked for them; None if the server returned none, ``"empty"`` if
    it returned an empty list (the turn ended before a first token)."""
    lp = getattr(reply.choices[0], "logprobs", None)
    content = getattr(lp, "content", None) if lp is not None else None
    if content is None:
        return None
    if not content:
        return "empty"
    first = content[0]
    top: dict[str, float] = {}
    for entry in [*(getattr(first, "top_logprobs", None) or []), first]:
        token, value = getattr(entry, "token", None), getattr(entry, "logprob", None)
        if isinstance(token, str) and isinstance(value, (int, float)):
            top.setdefault(token, float(value))
    return top or None


def label_logprobs(top: dict[str, float], labels: list[str]) -> list[float]:
    """Each label's log-probability from a first-token top list: the tokens equal
    to it once stripped, added (logsumexp); a label absent from the list gets the
    upper bound ``min(p_last, 1 - sum(top))``."""
    smallest = min(top.values())
    leftover = max(0.0, 1.0 - sum(math.exp(v) for v in top.values()))
    bound = math.log(max(min(math.exp(smallest), leftover), 1e-300))
    out = []
    for label in labels:
        hits = [v for tok, v in top.items() if tok.strip() == label]
        if not hits:
            out.append(bound)
            continue
        peak = max(hits)
        out.append(peak + math.log(sum(math.exp(v - peak) for v in hits)))
    return out


def sampled_logprobs(texts: Iterable[str], labels: list[str]) -> list[float]:
    """Each label's log-probability estimated from one-token samples:
    (count + 1/2) / (samples + m/2) for m labels, finite and summing to at most 1."""
    drawn = [t.strip() for t in texts]
    counts = Counter(drawn)
    total = len(drawn) + 0.5 * len(labels)
    return [math.log((counts[label] + 0.5) / total) for label in labels]
