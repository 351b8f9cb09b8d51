"""LLM-as-judge, with the judge checked against labels and its votes' reliability measured.

A judge model's verdict on a reply is itself a sample: asked twice, it may
answer differently. So every reply is judged ``votes`` times (independent
seeds, temperature 1), the majority is the score, a tie or an unparseable
vote set scores None (counted in n, reported in the parse rate, as for any
scorer), and the agreement between votes is reported in the scorer's name:
mean agreement with the majority and Fleiss' kappa (statsmodels
``fleiss_kappa``).

Votes that agree with each other can still be wrong together. So a judge is
also checked against a :class:`Labelled` set for its question: short replies
whose yes/no label a stated rule decides (the project ships them, see
``behavtest.questions.judges``). The judge grades them through the same cached
sampling path, votes and majority; Cohen's kappa between its majorities and
the labels, with a 95% interval (``stats.agreement``), travels with its scorer
as a ``JudgeAgreement``. ``expect`` puts it on every verdict the scorer
judges, and when its lower bound is below :data:`KAPPA_FLOOR` the verdict is
INCONCLUSIVE whatever the rate says (``checks.entry``): a rate counted by a
judge that does not agree with the rule is a rate of the judge's guesses.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Container, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from behavtest.errors import InvalidArgument
from behavtest.sampling.handle import ModelHandle, Samples
from behavtest.scorers.base import Scorer
from behavtest.stats.agreement import cohens_kappa
from behavtest.verdict import JudgeAgreement

__all__ = ["JUDGE_TEMPLATE", "KAPPA_FLOOR", "MIN_LABELLED", "Judge", "JudgedReplies",
           "JudgedScorer", "Labelled", "agreement_of", "parse_vote", "unchecked"]

KAPPA_FLOOR = 0.4
"""The least lower bound of the judge's 95% kappa interval for its verdicts to
count. 0.4 is where "moderate" agreement starts on Landis & Koch's (1977) scale
(below it "fair" and "slight"); asking it of the interval's lower bound, not of
kappa itself, makes a small labelled set prove it: on 36 balanced items a judge
needs about 90% agreement (kappa ~0.8) to clear it, and one that agreed on 8
items of 10 does not. A floor on the point kappa would let a lucky judge on a
handful of items through."""

MIN_LABELLED = 20
"""The fewest items a labelled set may hold: kappa's Wald interval is
asymptotic, and at perfect agreement it shrinks to a point whatever n is."""

JUDGE_TEMPLATE = (
    "You are grading a reply written by an AI assistant.\n\n"
    "Reply:\n<<<\n{reply}\n>>>\n\n"
    "Question: {rubric}\n"
    "Answer with one word: yes or no."
)
_VOTE = re.compile(r"^\W*(yes|no)\b", re.IGNORECASE)
T = TypeVar("T", bool, float, str)


def parse_vote(text: str) -> bool | None:
    """'Yes.' -> True, 'no, because' -> False, anything else -> None."""
    m = _VOTE.match(text)
    return None if m is None else m.group(1).lower() == "yes"


@dataclass(frozen=True)
class Labelled:
    """A judged question's labelled set: the rubric a judge is asked, the rule
    that decided each label, and the (reply, label) items."""

    name: str
    rubric: str
    rule: str
    items: tuple[tuple[str, bool], ...]

    def __post_init__(self) -> None:
        labels = {lab for _, lab in self.items}
        if len(self.items) < MIN_LABELLED or labels != {True, False}:
            raise InvalidArgument(
                f"labelled set {self.name!r} has {len(self.items)} items with labels "
                f"{sorted(labels)}; fix: at least {MIN_LABELLED} items, both yes and no")
        texts = [t for t, _ in self.items]
        if len(set(texts)) != len(texts):
            raise InvalidArgument(f"labelled set {self.name!r} repeats a reply; fix: keep "
                                  "each reply once")

    @property
    def texts(self) -> list[str]:
        return [t for t, _ in self.items]

    @property
    def labels(self) -> list[bool]:
        return [lab for _, lab in self.items]


def agreement_of(labelled: Labelled, answers: Sequence[bool | None],
                 floor: float = KAPPA_FLOOR, how: str = "majority of yes/no votes",
                 ) -> JudgeAgreement:
    """The judge's ``answers`` to the labelled items (None: no answer, counted as
    disagreement), as the agreement a verdict carries."""
    k = cohens_kappa(answers, labelled.labels)
    return JudgeAgreement(labelled.name, k.kappa, k.low, k.high, k.n, k.accuracy, floor,
                          k.unanswered, how)


def unchecked(floor: float = KAPPA_FLOOR, how: str = "majority of yes/no votes",
              ) -> JudgeAgreement:
    """The agreement of a judge given no labelled set: none (its verdicts are
    INCONCLUSIVE, see ``JudgeAgreement.shortfall``)."""
    nan = float("nan")
    return JudgeAgreement("", nan, nan, nan, 0, nan, floor, 0, how)


@dataclass(frozen=True)
class JudgedScorer(Scorer[T]):
    """A judge's scorer: what it counts, and the judge's agreement with labels,
    which ``expect`` reads (``checks.entry``) and puts on the verdict."""

    agreement: JudgeAgreement = field(default_factory=unchecked)

    def named(self, name: str) -> JudgedScorer[T]:
        """The same judge under another name; its agreement stays with it."""
        return JudgedScorer(name, self.fn, self.reads_lines, self.version, self.agreement)


@dataclass(frozen=True)
class JudgedReplies:
    """The judge's votes on each distinct reply, and how far they agree."""

    votes: dict[str, tuple[bool | None, ...]]
    rubric: str
    judge: str
    labels: JudgeAgreement = field(default_factory=unchecked)

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

    def scorer(self) -> JudgedScorer[bool]:
        """A scorer for the judged replies, named with the judge's reliability and
        carrying its agreement with the labelled set."""
        kappa = self.kappa
        k = "n/a" if kappa is None else f"{kappa:.2f}"
        votes = len(next(iter(self.votes.values()))) if self.votes else 0
        name = (
            f"judge {self.judge}: {self.rubric!r} ({votes} votes/reply, agreement "
            f"{self.agreement:.2f}, kappa {k}, votes parsed {self.parse_rate:.0%})"
        )
        return JudgedScorer(name, _lookup(self.votes, self.majority), agreement=self.labels)


def _lookup(judged: Container[str], score: Callable[[str], T | None]
            ) -> Callable[[str], T | None]:
    """A reply's score, refusing a reply the judge did not see."""

    def fn(reply: str) -> T | None:
        if reply not in judged:
            raise InvalidArgument("this reply was not judged; fix: judge these samples first "
                                  "(judge.scorer(samples, baseline_samples) for a comparison)")
        return score(reply)

    return fn


def replies_of(replies: Sequence[Samples | Sequence[str]]) -> list[str]:
    """The distinct reply texts of one or more sets of replies, in order."""
    texts = [t for r in replies for t in (r.texts if isinstance(r, Samples) else list(r))]
    distinct = list(dict.fromkeys(texts))
    if not distinct:
        raise InvalidArgument("nothing to judge; fix: give the judge some replies")
    return distinct


@dataclass
class Judge:
    """Grades replies with a yes/no ``rubric``, each reply ``votes`` times, and is
    checked against ``labelled`` (a set labelled for that same rubric; without
    one, its verdicts are INCONCLUSIVE: nothing shows it can tell)."""

    model: ModelHandle
    rubric: str
    votes: int = 5
    template: str = JUDGE_TEMPLATE
    max_tokens: int = 8
    labelled: Labelled | None = None
    floor: float = KAPPA_FLOOR
    _checked: JudgeAgreement | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.votes < 1:
            raise InvalidArgument(f"votes={self.votes} must be >= 1; fix: use an odd number")
        if "{reply}" not in self.template or "{rubric}" not in self.template:
            raise InvalidArgument("the judge template needs {reply} and {rubric} placeholders")
        check_labelled(self.labelled, self.rubric, self.floor)

    def _votes(self, texts: list[str]) -> dict[str, tuple[bool | None, ...]]:
        prompts = [self.template.format(reply=t, rubric=self.rubric) for t in texts]
        drawn = self.model.sample(
            prompts=prompts, n=self.votes, temperature=1.0, max_tokens=self.max_tokens,
            sequential=False,
        )
        votes: dict[str, list[bool | None]] = {t: [] for t in texts}
        for reply in drawn:
            votes[texts[reply.prompt]].append(parse_vote(reply.text))
        return {t: tuple(v) for t, v in votes.items()}

    def agreement(self) -> JudgeAgreement:
        """Kappa of the judge's majorities against the labels (computed once,
        through the cache: a rerun replays it)."""
        if self._checked is None:
            if self.labelled is None:
                self._checked = unchecked(self.floor)
            else:
                found = JudgedReplies(self._votes(self.labelled.texts), self.rubric, "")
                answers = [found.majority(t) for t in self.labelled.texts]
                self._checked = agreement_of(self.labelled, answers, self.floor)
        return self._checked

    def judge(self, *replies: Samples | Sequence[str]) -> JudgedReplies:
        """Judge each distinct reply text ``votes`` times (cached like any sample)."""
        distinct = replies_of(replies)
        return JudgedReplies(self._votes(distinct), self.rubric, self.model.spec,
                             self.agreement())

    def scorer(self, *replies: Samples | Sequence[str]) -> JudgedScorer[bool]:
        """Judge ``replies`` (the model's, and a baseline's for a comparison) and
        return the scorer to pass to ``expect``."""
        return self.judge(*replies).scorer()


def check_labelled(labelled: Labelled | None, rubric: str, floor: float) -> None:
    """A judge's labelled set was labelled for its rubric, and its floor is a kappa."""
    if labelled is not None and labelled.rubric.strip() != rubric.strip():
        raise InvalidArgument(
            f"labelled set {labelled.name!r} was labelled for {labelled.rubric!r}, not "
            f"{rubric!r}; fix: ask the judge its rubric (judge_for in questions.judges)")
    if not -1.0 <= floor <= 1.0:
        raise InvalidArgument(f"floor={floor} is not a kappa in [-1, 1]; fix: e.g. "
                              f"floor={KAPPA_FLOOR}")
