"""The object a test holds as ``model``: sampling and option scoring, through the cache.

It binds a provider (loaded lazily, on first use, so deselected tests never
load weights) to the run's seed, sample budget and generation settings.
Sample i of a prompt always has the same seed in a run, whatever batch it is
drawn in, so the cache can replay it and a larger n only draws new indices.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar, overload

from behavtest.errors import BehavtestError, InvalidArgument
from behavtest.providers.base import (
    Messages,
    Provider,
    Request,
    batch_size_of,
    check_prefills,
    prefill_of,
    reply_scorer_of,
    to_messages,
    with_prefills,
)
from behavtest.providers.precision import Precision, precision_of
from behavtest.sampling.cache import SampleCache, cache_key
from behavtest.scorers.base import Scorer, reads_lines
from behavtest.scorers.choices import (
    ChoiceQuestion,
    OptionProbabilities,
    average_over_orders,
    option_orders,
    render_choice,
)
from behavtest.scorers.numbers import number_on_scale
from behavtest.scorers.readings import Reading, Readings, option_readings
from behavtest.settings import GenerationSettings, RunSettings, check_samples

V = TypeVar("V", bool, float)
Prompt = str | Sequence[tuple[str, str]]


@dataclass(frozen=True)
class Reply:
    text: str
    prompt: int  # index into Samples.prompts: the cluster a reply belongs to
    index: int  # sample index within its prompt
    tokens: int
    finish: str
    cached: bool


@dataclass(frozen=True)
class Samples(Sequence[Reply]):
    """Replies of one model to one or more prompts (paraphrases), n each."""

    model: str
    prompts: tuple[Messages, ...]
    settings: GenerationSettings
    replies: tuple[Reply, ...]
    fingerprint: str | None = None  # the model's identity (weights, adapter), when known
    seed: int | None = None  # the run seed the samples were drawn with

    @overload
    def __getitem__(self, i: int) -> Reply: ...
    @overload
    def __getitem__(self, i: slice) -> Sequence[Reply]: ...
    def __getitem__(self, i: int | slice) -> Reply | Sequence[Reply]:
        return self.replies[i]

    def __len__(self) -> int:
        return len(self.replies)

    def __iter__(self) -> Iterator[Reply]:
        return iter(self.replies)

    @property
    def texts(self) -> list[str]:
        return [r.text for r in self.replies]

    def score(self, scorer: Scorer[V] | Callable[[str], V | None]) -> list[V | None]:
        return [scorer(r.text) for r in self.replies]


class SequentialSamples(Samples):
    """A sample budget drawn lazily, in looks, for sequential rate checks.

    ``expect(...).rate_at_least(t)`` asks for the first n_1 < n_2 < ... replies
    (looks fixed in advance from the budget, so a rerun replays the same
    decisions from the cache) and stops as soon as the verdict is decided.
    Anything else that reads the replies (iteration, ``texts``, other checks)
    draws the whole budget first, so user code sees ordinary Samples.
    """

    def __init__(
        self,
        handle: ModelHandle,
        prompts: tuple[Messages, ...],
        settings: GenerationSettings,
        budget: int,
    ) -> None:
        object.__setattr__(self, "_handle", handle)
        object.__setattr__(self, "budget", budget)
        object.__setattr__(self, "_drawn", None)
        object.__setattr__(self, "_memo", {})
        object.__setattr__(self, "model", handle.spec)
        object.__setattr__(self, "prompts", prompts)
        object.__setattr__(self, "settings", settings)

    _handle: ModelHandle
    budget: int
    _drawn: Samples | None
    _memo: dict[str, Reply]

    def prefix(self, n: int) -> Samples:
        """The first ``n`` replies of each prompt (drawn now unless cached). Replies
        drawn for an earlier look are kept here, so looks never draw a sample
        twice, cache or no cache (``--behav-cache off``)."""
        return self._handle._draw(self.prompts, self.settings, min(n, self.budget), self._memo)

    def full(self) -> Samples:
        if self._drawn is None:
            object.__setattr__(self, "_drawn", self.prefix(self.budget))
        assert self._drawn is not None
        return self._drawn

    @property
    def replies(self) -> tuple[Reply, ...]:
        return self.full().replies

    # The inherited dataclass methods would read ``replies`` and so draw the
    # whole budget; a budget is known by what determines its draws instead.
    def _identity(self) -> tuple[object, ...]:
        return (self.model, self.prompts, self.settings, self.budget)

    def __repr__(self) -> str:
        return (
            f"SequentialSamples(model={self.model!r}, prompts={len(self.prompts)}, "
            f"budget={self.budget})"
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SequentialSamples):
            return NotImplemented
        return self._identity() == other._identity()

    def __hash__(self) -> int:
        return hash(self._identity())


def per_prompt(n: int | None, total: int | None, prompts: int, default: int) -> int:
    """Samples per prompt: ``n``, or a ``total`` spread evenly over the prompts
    (rounded up), or the run's default per prompt."""
    if n is not None and total is not None:
        raise InvalidArgument("give n= (per prompt) or total= (spread over prompts), not both")
    if total is not None:
        return math.ceil(check_samples(total, "total") / prompts)
    return check_samples(default if n is None else n, "n")


@dataclass
class HandleStats:
    """What this process asked of its models: for the summary and benchmarks."""

    drawn: int = 0
    cached: int = 0
    tokens: int = 0
    seconds: float = 0.0
    loads: int = 0


@dataclass
class ModelHandle:
    """A model as tests see it. Create with a spec and a provider factory."""

    spec: str
    factory: Callable[[], Provider]
    run: RunSettings
    cache: SampleCache
    stats: HandleStats = field(default_factory=HandleStats)
    on_progress: Callable[[int, int, str], None] | None = None
    quick_fingerprint: Callable[[], str | None] | None = None
    # The spec's kind says what dtypes its provider will compute in (None: not
    # the harness's to choose); without it, the loaded provider is asked, so a
    # cached rerun then loads it (the session always gives one).
    quick_precision: Callable[[], Precision | None] | None = None
    _provider: Provider | None = None
    _fingerprint: str | None = None
    _precision: tuple[Precision | None] | None = None
    _load_error: BehavtestError | None = None

    @property
    def provider(self) -> Provider:
        """The loaded provider. A failed load is remembered and re-raised, so a
        missing model costs one attempt per process, not one per test."""
        if self._load_error is not None:
            raise self._load_error
        if self._provider is None:
            try:
                self._provider = self.factory()
            except BehavtestError as exc:
                self._load_error = exc
                raise
            # A client of a shared engine loads nothing itself (the controller
            # counts the engines instead).
            if not getattr(self._provider, "is_engine_client", False):
                self.stats.loads += 1
        return self._provider

    @property
    def loaded_provider(self) -> Provider | None:
        """The provider if it is loaded (None: nothing has asked it anything yet)."""
        return self._provider

    @property
    def name(self) -> str:
        return self.spec

    @property
    def budget(self) -> int:
        """The run's sample budget per test (``--behav-samples``)."""
        return self.run.samples

    def fingerprint(self) -> str:
        """The model's identity for cache keys and seeds; from files when the
        spec allows it, so replaying cached samples loads no weights."""
        if self._fingerprint is None:
            quick = self.quick_fingerprint() if self.quick_fingerprint else None
            self._fingerprint = quick or self.provider.fingerprint()
        return self._fingerprint

    def precision(self) -> Precision | None:
        """The dtypes the model samples and scores in (None: not the harness's to
        choose, e.g. an API). Enters cache keys: a bf16 sample never serves an
        fp32 run. Seeds leave it out, so both dtypes draw the same random numbers."""
        if self._precision is None:
            found = (self.quick_precision() if self.quick_precision is not None
                     else precision_of(self.provider))
            self._precision = (found,)
        return self._precision[0]

    def _dtype(self, what: Literal["sampling", "probabilities"]) -> dict[str, str]:
        """The cache key's dtype field for ``what`` ("sampling" or "probabilities")."""
        p = self.precision()
        return {} if p is None else {"dtype": getattr(p, what)}

    # -- sampling ---------------------------------------------------------
    def sample(
        self,
        prompt: Prompt | None = None,
        *,
        prompts: Sequence[Prompt] | None = None,
        n: int | None = None,
        total: int | None = None,
        system: str | None = None,
        temperature: float | None = None,
        top_p: float | None = None,
        top_k: int | None = None,
        max_tokens: int | None = None,
        stop_for: Scorer[Any] | None = None,
        stop_after_lines: int | None = None,
        sequential: bool | None = None,
        prefill: str | Sequence[str] | None = None,
    ) -> Samples:
        """Draw ``n`` replies (default: the run's ``--behav-samples``) to each prompt.

        Give one ``prompt`` or several ``prompts`` (paraphrases: each becomes a
        cluster of n replies). ``total`` instead of ``n`` spreads a budget over
        the prompts: ceil(total / prompts) replies each (``total=model.budget``
        spreads the run's ``--behav-samples``). Settings not given come from the run.

        ``stop_for=scorer`` stops each reply once the scorer has what it reads
        (``names_word(w, within_lines=2)``: two complete lines), which saves the
        tokens after them; ``stop_after_lines=k`` says so directly. A cut reply
        is the start of the reply the same sample would give uncut, and is cached
        apart from it: a scorer that reads more draws anew.

        ``prefill="Dear Sir,"`` makes the model continue that text as the start
        of its reply (one string for every prompt, or a list with one per prompt);
        so does a prompt given as messages ending with ("assistant", text). Each
        reply's text is then the whole message, prefill + continuation, and
        ``stop_after_lines`` counts its lines from the prefill's first.

        ``sequential=True`` (default: the run's ``--behav-sequential``) makes
        ``n`` a budget: the replies are drawn in looks, only as far as a rate
        check needs to reach its verdict (see :class:`SequentialSamples`).
        """
        if (prompt is None) == (prompts is None):
            raise InvalidArgument("give exactly one of prompt= or prompts=")
        plist: Sequence[Prompt] = [prompt] if prompt is not None else list(prompts or [])
        if not plist:
            raise InvalidArgument("prompts= is empty; fix: give at least one prompt")
        n = per_prompt(n, total, len(plist), self.run.samples)
        cut = stop_after_lines if stop_after_lines is not None else reads_lines(stop_for)
        settings = self._settings(temperature, top_p, top_k, max_tokens, cut or 0)
        convs = with_prefills([to_messages(p, system) for p in plist], prefill)
        if self.run.sequential if sequential is None else sequential:
            return SequentialSamples(self, convs, settings, n)
        return self._draw(convs, settings, n)

    def _settings(
        self, temperature: float | None = None, top_p: float | None = None,
        top_k: int | None = None, max_tokens: int | None = None, cut: int = 0,
    ) -> GenerationSettings:
        """The run's generation settings, with those given replaced."""
        base = self.run.generation
        return GenerationSettings(
            temperature=base.temperature if temperature is None else temperature,
            top_p=base.top_p if top_p is None else top_p,
            top_k=base.top_k if top_k is None else top_k,
            max_tokens=base.max_tokens if max_tokens is None else max_tokens,
            stop_after_lines=cut,
        )

    def _seed(
        self, fingerprint: str, messages: Messages, settings: GenerationSettings, index: int
    ) -> int:
        """Seed of one sample. It includes the model's fingerprint, so a model and
        its baseline draw independently (the two-sample tests assume so), and not
        the cut, so a cut reply is the start of the same sample uncut."""
        blob = json.dumps(
            [self.run.seed, fingerprint, messages, settings.uncut().as_dict(), index],
            sort_keys=True,
        )
        return int(hashlib.sha256(blob.encode()).hexdigest()[:15], 16)

    def _draw(
        self, convs: tuple[Messages, ...], settings: GenerationSettings, n: int,
        memo: dict[str, Reply] | None = None,
    ) -> Samples:
        """The first ``n`` replies to each prompt: from ``memo`` (replies this process
        already drew for the caller), the cache, or drawn now (and added to both).
        A conversation given again in the same call draws the next ``n`` seeds
        (its j-th copy: indices j*n ... j*n+n-1), so repeated prompts are
        independent draws, never one draw copied."""
        fp, dtype = self.fingerprint(), self._dtype("sampling")
        slots: list[tuple[int, int, str, Request]] = []
        copies: dict[Messages, int] = {}
        for p, msgs in enumerate(convs):
            first = copies.get(msgs, 0) * n
            copies[msgs] = copies.get(msgs, 0) + 1
            for i in range(n):
                seed = self._seed(fp, msgs, settings, first + i)
                key = cache_key(
                    fp,
                    "sample",
                    {"messages": msgs, "settings": settings.as_dict(), "seed": seed,
                     **dtype},
                )
                slots.append((p, i, key, Request(msgs, settings, seed)))
        memo = {} if memo is None else memo
        found = self.cache.get_many(k for _, _, k, _ in slots if k not in memo)
        replies: dict[str, Reply] = {}
        for p, i, k, _ in slots:
            if k in memo:
                replies[k] = memo[k]
            elif k in found:
                v = found[k]
                text = prefill_of(convs[p]) + v["text"]  # the cache holds the continuation
                replies[k] = Reply(text, p, i, v["tokens"], v["finish"], True)
        missing = [s for s in slots if s[2] not in replies]
        self.stats.cached += sum(1 for _, _, k, _ in slots if k in found and k not in memo)
        self._draw_missing(missing, len(slots) - len(missing), replies, memo)
        return Samples(
            model=self.spec,
            prompts=convs,
            settings=settings,
            replies=tuple(replies[k] for _, _, k, _ in slots),
            fingerprint=fp,
            seed=self.run.seed,
        )

    def _draw_missing(self, missing: list[tuple[int, int, str, Request]], hits: int,
                      replies: dict[str, Reply], memo: dict[str, Reply]) -> None:
        """Draw what neither the memo nor the cache held, in provider-batch-sized
        chunks: each is committed to the cache as it finishes (a kill loses one
        chunk) and advances the progress line. The provider (and its weights) is
        touched only if something is missing."""
        if missing:  # a provider that cannot continue a message refuses, never a new turn
            check_prefills(self.provider, (r.messages for *_, r in missing))
        chunk = batch_size_of(self.provider) if missing else 1
        t_start, tokens = time.perf_counter(), 0
        for start in range(0, len(missing), chunk):
            part = missing[start : start + chunk]
            t0 = time.perf_counter()
            completions = self.provider.generate([r for _, _, _, r in part])
            self.stats.seconds += time.perf_counter() - t0
            new: dict[str, Any] = {}
            for (p, i, k, r), c in zip(part, completions, strict=True):
                whole = prefill_of(r.messages) + c.text  # the reply: prefill + continuation
                replies[k] = memo[k] = Reply(whole, p, i, c.tokens, c.finish, False)
                new[k] = {"text": c.text, "tokens": c.tokens, "finish": c.finish}
                self.stats.tokens += c.tokens
                tokens += c.tokens
            self.stats.drawn += len(part)
            self.cache.put_many(new)  # committed per batch: a kill loses one batch at most
            if self.on_progress:
                rate = tokens / max(1e-9, time.perf_counter() - t_start)
                desc = f"{self.spec}: {rate:.0f} tok/s, {hits} from cache; sampling"
                self.on_progress(start + len(part), len(missing), desc)

    # -- option probabilities -----------------------------------------------
    def choice(self, question: ChoiceQuestion, *, system: str | None = None) -> OptionProbabilities:
        """Probability of each option, averaged over every option order.

        Each order is one teacher-forced query of the label tokens ("A", "B",
        ...); probabilities are renormalised per order and averaged, and the
        label mass is reported with them (see scorers.choices).
        """
        forms = [question.style.label_forms(label) for label in question.labels]
        flat = [f for fs in forms for f in fs]
        per_order = []
        for order in option_orders(len(question.options)):
            msgs = to_messages(render_choice(question, order), system)
            probs = iter(math.exp(lp) for lp in self._logprobs(msgs, flat))
            per_order.append((order, [sum(next(probs) for _ in fs) for fs in forms]))
        return average_over_orders(question, per_order)

    def probability_of(
        self, option: str | Sequence[str], questions: Sequence[ChoiceQuestion], *,
        system: str | None = None,
    ) -> Readings:
        """P(option) in each question (paraphrase), each averaged over every
        option order, with the label mass behind it (see :meth:`choice`).
        ``option`` is one option's text, or one per question (e.g. the risky
        lottery of each)."""
        if not questions:
            raise InvalidArgument("no questions; fix: give at least one ChoiceQuestion")
        probs = [self.choice(q, system=system) for q in questions]
        return option_readings(self.spec, probs, option, [render_choice(q, range(len(q.options)))
                                                          for q in questions])

    def scale(
        self, prompts: Sequence[Prompt], low: int = 0, high: int = 100, *,
        system: str | None = None, what: str = "scale", n: int = 100,
    ) -> Readings:
        """Each prompt's expected answer on the scale [low, high], as a fraction
        of it (0 = low, 1 = high), with the probability mass behind it.

        Where the provider teacher-forces whole replies, every complete number
        low..high is scored as the whole reply (docs/science/small-models.md: a digit
        is not a number's first token, and a sampled mean is capped by format);
        the expectation is over those numbers, renormalised, and the mass is
        their total probability. Otherwise ``n`` replies per prompt are sampled
        and parsed strictly; the mass is then the share that parsed.
        """
        if not low < high:
            raise InvalidArgument(f"scale [{low}, {high}] is empty; fix: low < high")
        numbers = [str(v) for v in range(low, high + 1)]
        score = reply_scorer_of(self.provider)
        out = []
        for p in prompts:
            msgs = with_prefills([to_messages(p, system)], None)[0]
            check_prefills(self.provider, [msgs])  # numbers then follow the prefill
            label = next((c for r, c in reversed(msgs) if r != "assistant"), msgs[-1][1])
            if score is not None:
                lps = self._cached("replies", {"messages": msgs, "replies": numbers},
                                   functools.partial(score, msgs, numbers))
                probs = [math.exp(lp) for lp in lps]
                mass = sum(probs)
                mean = sum(v * q for v, q in zip(range(low, high + 1), probs, strict=True))
                value = (mean / mass - low) / (high - low) if mass > 0 else 0.5
                out.append(Reading(label, value, mass, "number probability"))
                continue
            parse = number_on_scale(low, high, strict=True)
            drawn = self._draw((msgs,), self._settings(max_tokens=8), n)
            got = [v for v in (parse(t[len(prefill_of(msgs)):]) for t in drawn.texts)
                   if v is not None]
            value = (sum(got) / len(got) - low) / (high - low) if got else 0.5
            out.append(Reading(label, value, len(got) / n, "sampled"))
        return Readings(self.spec, what, tuple(out))

    def _logprobs(self, msgs: Messages, continuations: list[str]) -> list[float]:
        return self._cached("logprobs", {"messages": msgs, "continuations": continuations},
                            lambda: self.provider.continuation_logprobs(msgs, continuations))

    def _cached(
        self, kind: str, payload: dict[str, Any], compute: Callable[[], list[float]]
    ) -> list[float]:
        """Log-probabilities from the cache, or computed now and stored."""
        key = cache_key(self.fingerprint(), kind, {**payload, **self._dtype("probabilities")})
        hit = self.cache.get_many([key])
        if key in hit:
            return [float(x) for x in hit[key]]
        values = compute()
        self.cache.put_many({key: values})
        return values
