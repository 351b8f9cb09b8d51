"""LLM-as-judge, with the judge's own reliability measured.

A judge model's verdict on a reply is itself a sample: asked twice, it may
answer differently. So every reply is judged ``votes`` times (independent
seeds, temperature 1), the majority is the score, a tie or an unparseable
vote set scores None (counted in n, reported in the parse rate, as for any
scorer), and the agreement between votes is reported beside the verdict:
mean agreement with the majority and Fleiss' kappa (statsmodels
``fleiss_kappa``). A kappa near 0 says the judge is guessing, and then no
rate it produces means anything.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from behavtest.errors import InvalidArgument
from behavtest.sampling.handle import ModelHandle, Samples
from behavtest.scorers.base import Scorer

JUDGE_TEMPLATE = (
    "You are grading a reply written by an AI assistant.\n\n"
    "Reply:\n<<<\n{reply}\n>>>\n\n"
    "Question: {rubric}\n"
    "Answer with one word: yes or no."
)
_VOTE = re.compile(r"^\W*(yes|no)\b", re.IGNORECASE)


def parse_vote(text: str) -> bool | None:
    """'Yes.' -> True, 'no, because' -> False, anything else -> None."""
    m = _VOTE.match(text)
    return None if m is None else m.group(1).lower() == "yes"


@dataclass(frozen=True)
class JudgedReplies:
    """The judge's votes on each distinct reply, and how far they agree."""

    votes: dict[str, tuple[bool | None, ...]]
    rubric: str
    judge: str

    def majority(self, reply: str) -> bool | None:
        cast = [v for v in self.votes[reply] if v is not None]
        yes = sum(cast)
        if not cast or yes * 2 == len(cast):
            return None
        return yes * 2 > len(cast)

    @property
    def agreement(self) -> float:
        """Mean share of a reply's parsed votes that agree with its majority."""
        shares = []
        for vs in self.votes.values():
            cast = [v for v in vs if v is not None]
            if cast:
                yes = sum(cast)
                shares.append(max(yes, len(cast) - yes) / len(cast))
        return sum(shares) / len(shares) if shares else float("nan")

    @property
    def parse_rate(self) -> float:
        all_votes = [v for vs in self.votes.values() for v in vs]
        return sum(v is not None for v in all_votes) / len(all_votes)

    @property
    def kappa(self) -> float | None:
        """Fleiss' kappa over replies whose votes all parsed (None if < 2 such)."""
        from statsmodels.stats.inter_rater import fleiss_kappa

        rows = [
            [sum(1 for v in vs if v), sum(1 for v in vs if not v)]
            for vs in self.votes.values()
            if vs and all(v is not None for v in vs)
        ]
        if len(rows) < 2:
            return None
        value = float(fleiss_kappa(rows, method="fleiss"))
        return None if value != value else value

    def scorer(self) -> Scorer[bool]:
        """A scorer for the judged replies, named with the judge's reliability."""
        kappa = self.kappa
        k = "n/a" if kappa is None else f"{kappa:.2f}"
        votes = len(next(iter(self.votes.values()))) if self.votes else 0
        name = (
            f"judge {self.judge}: {self.rubric!r} ({votes} votes/reply, agreement "
            f"{self.agreement:.2f}, kappa {k}, votes parsed {self.parse_rate:.0%})"
        )

        def fn(reply: str) -> bool | None:
            if reply not in self.votes:
                raise InvalidArgument("this reply was not judged; fix: judge these samples first")
            return self.majority(reply)

        return Scorer(name, fn)


@dataclass
class Judge:
    """Grades replies with a yes/no ``rubric``, each reply ``votes`` times."""

    model: ModelHandle
    rubric: str
    votes: int = 5
    template: str = JUDGE_TEMPLATE
    max_tokens: int = 8

    def __post_init__(self) -> None:
        if self.votes < 1:
            raise InvalidArgument(f"votes={self.votes} must be >= 1; fix: use an odd number")
        if "{reply}" not in self.template or "{rubric}" not in self.template:
            raise InvalidArgument("the judge template needs {reply} and {rubric} placeholders")

    def judge(self, replies: Samples | Sequence[str]) -> JudgedReplies:
        """Judge each distinct reply text ``votes`` times (cached like any sample)."""
        texts = replies.texts if isinstance(replies, Samples) else list(replies)
        distinct = list(dict.fromkeys(texts))
        if not distinct:
            raise InvalidArgument("nothing to judge")
        prompts = [self.template.format(reply=t, rubric=self.rubric) for t in distinct]
        drawn = self.model.sample(
            prompts=prompts, n=self.votes, temperature=1.0, max_tokens=self.max_tokens,
            sequential=False,
        )
        votes: dict[str, list[bool | None]] = {t: [] for t in distinct}
        for reply in drawn:
            votes[distinct[reply.prompt]].append(parse_vote(reply.text))
        return JudgedReplies({t: tuple(v) for t, v in votes.items()}, self.rubric,
                             self.model.spec)

    def scorer(self, replies: Samples) -> Scorer[bool]:
        """Judge ``replies`` and return the scorer to pass to ``expect``."""
        return self.judge(replies).scorer()
