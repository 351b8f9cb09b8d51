"""Continuous batching for transformers models: rows join and leave between steps.

A :class:`Decoder` holds the rows being sampled together and their key/value
cache. ``add`` prefills new rows; ``step`` runs one decode step for every row
and returns the rows that finished. A finished row leaves at once and its
slot can be filled before the next step, so a short reply never waits for a
long one, and a batch stays full while there is work queued (the engine
under xdist fills it from every worker; ``HFProvider.generate`` from its own
list).

Prefill once per prompt: rows that share a conversation (the n samples of a
prompt) share one prefill; its cache is repeated across them, and each row
then samples with its own generator.

Layout: every row's cache is left-padded to a common length ``T`` with an
attention mask, and positions count each row's own tokens, so rows of any
prompt length decode together. When rows join, the shorter side is padded
on the left; when rows leave, columns that are padding for every remaining
row are dropped.

The cache is passed by the keyword the installed transformers documents
(:func:`cache_keyword`), so no deprecated argument is ever sent.

Reproducibility: each row draws one uniform number from its own
``torch.Generator`` seeded by its request per token it produces (inverse-CDF
sampling, :func:`_inverse_cdf`), so sample i of a prompt is the same draw in
any batch, up to float rounding of batched matmuls: in fp32 that rounding
seldom changes a token, in bf16 it usually does within a few tokens
(docs/precision.md has the measured shares).
Rows may differ in settings: sampling groups rows by settings and applies
temperature, top-k and top-p per group.

A prefilled row (its conversation ends with an assistant message, rendered
open: ``providers.base``) returns only its continuation; its lines are
counted after the prefill, and its text is decoded after the prompt's last
token (the prefill's end), so a tokenizer that drops a leading space when
decoding alone (sentencepiece) keeps the space between prefill and continuation.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

from behavtest.providers.base import Completion, Request, cut_continuation, prefill_of
from behavtest.settings import (
    GenerationSettings,
    has_line_break,
    lines_complete,
)


@dataclass(eq=False)
class _Row:
    key: Hashable
    request: Request
    generator: Any
    tokens: list[int] = field(default_factory=list)
    finish: str | None = None  # set once the row is done
    prefill: str = ""  # the assistant message the row continues ("" for a new turn)
    anchor: list[int] = field(default_factory=list)  # a prefilled prompt's last token


class Decoder:
    """Rows of one model decoded together (see the module docstring)."""

    def __init__(self, model: Any, tokenizer: Any, device: str, stop_ids: set[int],
                 render: Any, max_rows: int, newline_ids: Callable[[], set[int]]) -> None:
        import torch
        from transformers import DynamicCache

        self._torch = torch
        self._cache_type = DynamicCache
        self.model = model
        self.tokenizer = tokenizer
        self.device = device
        self.stop_ids = stop_ids
        self.render = render
        self.max_rows = max(1, max_rows)
        self.pad = int(tokenizer.pad_token_id)
        self.rows: list[_Row] = []
        self._done: list[_Row] = []  # finished at prefill, returned by the next step
        self.cache: Any = None
        self.mask: Any = None  # [B, T] 1 = a real token
        self.positions: Any = None  # [B, 1] position of the next token fed
        self.last: Any = None  # [B, 1] the token each row feeds next
        self._newline_ids = newline_ids  # token ids holding a line break (for cuts)
        self._cache_kw = cache_keyword(model)
        self.steps = 0  # decode steps run (for benchmarks)
        self.prefills = 0  # prompts prefilled (shared by the rows asking them)

    @property
    def active(self) -> int:
        return len(self.rows)

    @property
    def free(self) -> int:
        return self.max_rows - len(self.rows)

    @property
    def refill_at(self) -> int:
        """Free slots worth a prefill: one when idle, else an eighth of the batch
        (a prefill costs a forward pass; joining rows a few at a time would add
        one per finished row)."""
        return 1 if not self.rows else max(1, self.max_rows // 8)

    # -- joining --------------------------------------------------------------
    def add(self, items: Sequence[tuple[Hashable, Request]]) -> None:
        """Prefill ``items`` (key, request) and let them join the running batch."""
        if not items:
            return
        torch = self._torch
        texts: dict[str, int] = {}
        for _, r in items:
            texts.setdefault(self.render(r.messages), len(texts))
        enc = self.tokenizer(list(texts), return_tensors="pt", padding=True,
                             add_special_tokens=False)
        ids = enc.input_ids.to(self.device)
        mask = enc.attention_mask.to(self.device)
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        cache = self._cache_type()
        with torch.inference_mode():
            logits = self.model(input_ids=ids, attention_mask=mask, position_ids=positions,
                                use_cache=True, logits_to_keep=1,
                                **{self._cache_kw: cache}).logits[:, -1, :]
        self.prefills += len(texts)
        which = torch.tensor([texts[self.render(r.messages)] for _, r in items],
                             device=self.device)
        cache.batch_select_indices(which)  # the shared prefix, once per row
        lasts = ids[:, -1].tolist()  # left-padded: each prompt's own last token
        rows = []
        for key, r in items:
            prefill = prefill_of(r.messages)
            anchor = [int(lasts[texts[self.render(r.messages)]])] if prefill else []
            rows.append(_Row(key, r, torch.Generator(device=self.device).manual_seed(r.seed),
                             prefill=prefill, anchor=anchor))
        firsts = self._sample(logits.index_select(0, which).float(), rows)
        self._join(cache, mask.index_select(0, which), rows, firsts)

    def _join(self, cache: Any, mask: Any, rows: list[_Row], firsts: list[int]) -> None:
        torch = self._torch
        keep = [i for i, (row, t) in enumerate(zip(rows, firsts, strict=True))
                if not self._record(row, t)]
        self._done += [row for row, t in zip(rows, firsts, strict=True) if row.finish]
        if not keep:
            return
        idx = torch.tensor(keep, device=self.device)
        if len(keep) < len(rows):
            cache.batch_select_indices(idx)
            mask = mask.index_select(0, idx)
        rows = [rows[i] for i in keep]
        last = torch.tensor([[firsts[i]] for i in keep], device=self.device)
        positions = mask.sum(-1, keepdim=True)
        if self.cache is None:
            self.cache, self.mask, self.positions, self.last = cache, mask, positions, last
            self.rows = rows
            return
        width = max(self.mask.shape[1], mask.shape[1])
        old = self._left_pad(self.cache, self.mask, width)
        new = self._left_pad(cache, mask, width)
        for mine, theirs in zip(self.cache.layers, cache.layers, strict=True):
            mine.keys = torch.cat([mine.keys, theirs.keys], dim=0)
            mine.values = torch.cat([mine.values, theirs.values], dim=0)
        self.mask = torch.cat([old, new], dim=0)
        self.positions = torch.cat([self.positions, positions], dim=0)
        self.last = torch.cat([self.last, last], dim=0)
        self.rows += rows

    def _left_pad(self, cache: Any, mask: Any, width: int) -> Any:
        """Pad a cache and its mask on the left to ``width`` columns; the new mask."""
        torch = self._torch
        extra = width - mask.shape[1]
        if extra <= 0:
            return mask
        for layer in cache.layers:
            b, h, _, d = layer.keys.shape
            zeros = layer.keys.new_zeros((b, h, extra, d))
            layer.keys = torch.cat([zeros, layer.keys], dim=2)
            layer.values = torch.cat([zeros, layer.values], dim=2)
        return torch.cat([mask.new_zeros((mask.shape[0], extra)), mask], dim=1)

    # -- stepping ---------------------------------------------------------------
    def step(self) -> list[tuple[Hashable, Completion]]:
        """One decode step for every row; the rows that finished (in any order)."""
        done, self._done = self._done, []
        if self.rows:
            torch = self._torch
            self.mask = torch.cat([self.mask, self.mask.new_ones((len(self.rows), 1))], dim=1)
            with torch.inference_mode():
                logits = self.model(input_ids=self.last, attention_mask=self.mask,
                                    position_ids=self.positions, use_cache=True,
                                    **{self._cache_kw: self.cache}).logits[:, -1, :]
            self.steps += 1
            picks = self._sample(logits.float(), self.rows)
            self.positions = self.positions + 1
            self.last = torch.tensor([[t] for t in picks], device=self.device)
            for row, t in zip(self.rows, picks, strict=True):
                self._record(row, t)
            done += [row for row in self.rows if row.finish]
            self._leave()
        return [(row.key, self._completion(row)) for row in done]

    def _record(self, row: _Row, token: int) -> bool:
        """Add a drawn token to its row; True when the row is now finished."""
        s = row.request.settings
        if token in self.stop_ids:
            row.finish = "stop"
        else:
            row.tokens.append(token)
            at_break = token in self._newline_ids() or (row.prefill != "" and len(row.tokens) == 1)
            if s.stop_after_lines and at_break and lines_complete(
                row.prefill + self._text(row), s.stop_after_lines
            ):
                row.finish = "lines"
            elif len(row.tokens) >= s.max_tokens:
                row.finish = "length"
        return row.finish is not None

    def _leave(self) -> None:
        """Drop finished rows, then the columns that are padding for every row left."""
        torch = self._torch
        keep = [i for i, row in enumerate(self.rows) if row.finish is None]
        if len(keep) == len(self.rows):
            return
        if not keep:
            self.rows, self.cache = [], None
            self.mask = self.positions = self.last = None
            return
        idx = torch.tensor(keep, device=self.device)
        self.cache.batch_select_indices(idx)
        self.mask = self.mask.index_select(0, idx)
        self.positions = self.positions.index_select(0, idx)
        self.last = self.last.index_select(0, idx)
        self.rows = [self.rows[i] for i in keep]
        used = self.mask.any(dim=0).nonzero()
        first = int(used[0]) if len(used) else 0
        if first > 0:
            self.mask = self.mask[:, first:]
            for layer in self.cache.layers:
                layer.keys = layer.keys[:, :, first:, :]
                layer.values = layer.values[:, :, first:, :]

    # -- sampling -------------------------------------------------------------------
    def _sample(self, logits: Any, rows: list[_Row]) -> list[int]:
        """One token per row, from its logits, with its settings and its generator."""
        torch = self._torch
        picks = [0] * len(rows)
        groups: dict[GenerationSettings, list[int]] = {}
        for i, row in enumerate(rows):
            groups.setdefault(_sampling(row.request.settings), []).append(i)
        for s, idxs in groups.items():
            sub = logits if len(idxs) == len(rows) else logits[torch.tensor(idxs)]
            if s.greedy:
                for i, t in zip(idxs, sub.argmax(dim=-1).tolist(), strict=True):
                    picks[i] = int(t)
                continue
            probs = _probabilities(torch, sub, s)
            uniforms = [torch.rand((), generator=rows[i].generator, device=self.device)
                        for i in idxs]
            for i, t in zip(idxs, _inverse_cdf(torch, probs, torch.stack(uniforms)), strict=True):
                picks[i] = t
        return picks

    # -- text ---------------------------------------------------------------------
    def _text(self, row: _Row) -> str:
        """The row's text so far (a prefilled row's: decoded after its anchor)."""
        decode = self.tokenizer.decode
        text = str(decode(row.tokens, skip_special_tokens=True))
        if row.anchor:
            head = str(decode(row.anchor, skip_special_tokens=True))
            joined = str(decode(row.anchor + row.tokens, skip_special_tokens=True))
            if joined.startswith(head):
                text = joined[len(head):]
        return text

    def _completion(self, row: _Row) -> Completion:
        text = self._text(row)
        if row.finish == "lines":
            cut = cut_continuation(row.prefill, text, row.request.settings.stop_after_lines)
            text = text if cut is None else cut
        return Completion(text=text, tokens=len(row.tokens), finish=row.finish or "length")



def cache_keyword(model: Any) -> str:
    """The keyword the model's forward takes its key/value cache by: ``cache`` in the
    transformers API documented now (5.24 deprecates ``past_key_values``, to be
    removed in 5.40), ``past_key_values`` in releases that predate it."""
    import inspect

    inner = model.get_base_model() if hasattr(model, "get_base_model") else model
    params = inspect.signature(inner.forward).parameters
    return "cache" if "cache" in params else "past_key_values"


def _sampling(s: GenerationSettings) -> GenerationSettings:
    """The settings that shape one draw (not the length or the cut)."""
    return GenerationSettings(temperature=s.temperature, top_p=s.top_p, top_k=s.top_k)


def _probabilities(torch: Any, logits: Any, s: GenerationSettings) -> Any:
    """Sampling probabilities: temperature, then top-k, then top-p (smallest prefix
    of the sorted distribution reaching top_p)."""
    logits = logits / s.temperature
    if s.top_k:
        kth = torch.topk(logits, min(s.top_k, logits.shape[-1]), dim=-1).values[:, -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    probs = torch.softmax(logits, dim=-1)
    if s.top_p < 1.0:
        sorted_p, order = probs.sort(dim=-1, descending=True)
        cum = sorted_p.cumsum(-1)
        drop = (cum - sorted_p) >= s.top_p
        sorted_p = sorted_p.masked_fill(drop, 0.0)
        probs = torch.zeros_like(probs).scatter(-1, order, sorted_p)
    return probs


def _inverse_cdf(torch: Any, probs: Any, uniforms: Any) -> list[int]:
    """One token per row: the first whose cumulative probability exceeds the row's
    uniform draw (times the row's total, which rounding keeps from being exactly 1).

    Why not ``torch.multinomial``: it takes one call per row (each row has its
    own generator), about 1 ms each on a 49k vocabulary, a quarter of a bf16
    decoding step at 64 rows. One uniform per row from its generator, then one
    cumulative sum and one search for all rows, draws from the same
    distribution and keeps each row's draw its own.
    """
    cum = probs.float().cumsum(dim=-1)  # fp32 whatever it is given: u < 1 stays < 1
    targets = (uniforms.to(cum.dtype) * cum[:, -1]).unsqueeze(-1)
    picks = torch.searchsorted(cum, targets, right=True).clamp(max=probs.shape[-1] - 1)
    return [int(t) for t in picks.squeeze(-1).tolist()]


def newline_ids(tokenizer: Any) -> set[int]:
    """Token ids whose text holds a line break: a cut is checked only after one of
    them (one pass over the vocabulary; the provider keeps the result)."""
    decode = tokenizer.decode
    return {i for i in range(len(tokenizer)) if has_line_break(decode([i]))}
