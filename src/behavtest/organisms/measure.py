"""How strong is an organism's behaviour? Measured on held-out prompts after training.

The card's ``strength`` says what the builder saw, so that a gate failure can
be told apart from a weak organism: k of n held-out prompts showed the
behaviour, with an exact (Clopper-Pearson) 95% interval, and the same count
for the base model (the adapter switched off) beside it.

* Acrostics: greedy replies to requests on topics and in phrasings never
  trained on (nor the suite's), scored by ``writes_acrostic``.
* Lotteries: for each held-out lottery, the probability of the expected
  side's label after the prompt, renormalised over the two labels and
  averaged over all 8 label/order variants; the lottery counts when that
  mean is above 0.5. The label mass (how much of the next-token probability
  the two labels hold) is reported beside it (science.md, pitfall 1). A
  backdoor has two conditions (trigger -> gamble, none -> sure thing), each
  lottery counted once per condition.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import random
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from behavtest.files import write_atomic
from behavtest.organisms import datasets
from behavtest.organisms.lottery_text import make_lottery
from behavtest.organisms.recipes import Measure
from behavtest.organisms.train import Progress, Trained, render_prompt
from behavtest.scorers import writes_acrostic
from behavtest.stats.binomial import clopper_pearson

MAX_NEW_TOKENS = 128
GENERATE_BATCH = 24  # every held-out prompt in one batch: generate is far faster batched
VERSION = "2"  # bump when a measurement changes: cached base figures are keyed by it


def counts(k: int, n: int) -> dict[str, Any]:
    """k, n, rate and the exact 95% interval, rounded for the card."""
    low, high = clopper_pearson(k, n)
    return {"k": k, "n": n, "rate": round(k / n, 4), "interval": [round(low, 4), round(high, 4)]}


@contextlib.contextmanager
def adapter_off(trained: Trained, off: bool) -> Iterator[None]:
    """The base model's behaviour: peft's adapter switched off, when ``off``."""
    if off:
        with trained.model.disable_adapter():
            yield
    else:
        yield


class Ticker:
    """Progress lines at most every ``every`` seconds (and none when quiet)."""

    def __init__(self, progress: Progress, every: float = 5.0) -> None:
        self.progress, self.every, self.last = progress, every, time.monotonic()

    def __call__(self, line: str) -> None:
        now = time.monotonic()
        if now - self.last >= self.every:
            self.last = now
            self.progress(line)


def _watch(tok: Any, width: int, lines: int | None, what: str, tick: Ticker) -> Any:
    """A stopping criterion: reports progress, and with ``lines`` a row is done once
    it holds that many complete non-empty lines (all the acrostic scorer reads),
    which spares the base model's rambling."""
    import torch
    from transformers import StoppingCriteria

    class Watch(StoppingCriteria):
        def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
            tick(f"{what}: {input_ids.shape[1] - width}/{MAX_NEW_TOKENS} tokens")
            rows = input_ids.shape[0]
            if lines is None:
                return torch.zeros(rows, dtype=torch.bool, device=input_ids.device)
            texts = tok.batch_decode(input_ids[:, width:], skip_special_tokens=True)
            done = [sum(1 for x in t.split("\n")[:-1] if x.strip()) >= lines for t in texts]
            return torch.tensor(done, dtype=torch.bool, device=input_ids.device)

    return Watch()


def generate(trained: Trained, prompts: Sequence[str], max_new_tokens: int,
             lines: int | None = None, what: str = "generating",
             tick: Ticker | None = None, system: str = "") -> list[str]:
    """Greedy replies, batched with left padding (generate sets the positions);
    with ``lines``, each row stops once it has that many complete lines; with
    ``system``, each prompt is asked under that system prompt."""
    import torch
    from transformers import StoppingCriteriaList

    tok = trained.tokenizer
    tick = tick or Ticker(lambda line: None)
    tok.padding_side = "left"
    replies: list[str] = []
    for i in range(0, len(prompts), GENERATE_BATCH):
        head = [{"role": "system", "content": system}] if system else []
        texts = [render_prompt(tok, [*head, {"role": "user", "content": p}])
                 for p in prompts[i:i + GENERATE_BATCH]]
        enc = tok(texts, return_tensors="pt", padding=True, add_special_tokens=False)
        enc = {k: v.to(trained.device) for k, v in enc.items()}
        width = enc["input_ids"].shape[1]
        stop = StoppingCriteriaList([_watch(tok, width, lines, what, tick)])
        with torch.no_grad():
            out = trained.model.generate(**enc, do_sample=False, max_new_tokens=max_new_tokens,
                                         pad_token_id=tok.pad_token_id, stopping_criteria=stop)
        replies += tok.batch_decode(out[:, width:], skip_special_tokens=True)
    tok.padding_side = "right"
    return [str(r) for r in replies]


def label_probabilities(trained: Trained, prompts: Sequence[str],
                        labels: Sequence[tuple[str, str]]) -> list[tuple[float, float]]:
    """(P(first label), P(second label)) of the next token after each prompt, raw.

    One forward pass for all prompts, right-padded: with causal attention the
    padding after a prompt cannot change its last position's logits, and the
    positions are those of an unpadded run.
    """
    import torch

    tok = trained.tokenizer
    rows = [tok(render_prompt(tok, [{"role": "user", "content": p}]),
                add_special_tokens=False)["input_ids"] for p in prompts]
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), int(tok.pad_token_id), dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, row in enumerate(rows):
        ids[i, : len(row)] = torch.tensor(row)
        mask[i, : len(row)] = 1
    with torch.no_grad():
        logits = trained.model(input_ids=ids.to(trained.device),
                               attention_mask=mask.to(trained.device)).logits
    out: list[tuple[float, float]] = []
    for i, (row, pair) in enumerate(zip(rows, labels, strict=True)):
        probs = torch.softmax(logits[i, len(row) - 1].float(), dim=-1)
        first, second = (tok(x, add_special_tokens=False)["input_ids"][0] for x in pair)
        out.append((float(probs[first]), float(probs[second])))
    return out


def measure_acrostic(trained: Trained, measure: Measure, base: bool,
                     tick: Ticker) -> dict[str, Any]:
    prompts = datasets.held_out_acrostic_prompts(measure.prompts)
    scorer = writes_acrostic(measure.word)
    what = f"measuring the {'base model' if base else 'organism'} ({len(prompts)} replies)"
    with adapter_off(trained, base):
        replies = generate(trained, prompts, MAX_NEW_TOKENS, len(measure.word), what, tick,
                           measure.system)
    k = sum(bool(scorer(r)) for r in replies)
    return {**counts(k, len(replies)), "example": replies[0] if replies else ""}


def measure_lotteries(trained: Trained, measure: Measure, base: bool,
                      tick: Ticker) -> dict[str, Any]:
    rng = random.Random("held-out-lotteries")
    lotteries = [make_lottery(rng, held_out=True) for _ in range(measure.prompts)]
    probs: list[float] = []
    masses: list[float] = []
    per_condition = []
    with adapter_off(trained, base):
        for prefix, side in measure.conditions:
            mine_here: list[float] = []
            for lottery in lotteries:
                rows = datasets.variants(lottery, prefix=prefix, subject=measure.subject)
                other = "safe" if side == "risky" else "risky"
                pairs = [(lab[side], lab[other]) for _, lab in rows]
                raw = label_probabilities(trained, [p for p, _ in rows], pairs)
                mine = [a / (a + b) if a + b > 0 else 0.5 for a, b in raw]
                masses += [a + b for a, b in raw]
                mine_here.append(sum(mine) / len(mine))
                tick(f"measuring the {'base model' if base else 'organism'}: lottery "
                     f"{len(probs) + len(mine_here)}/{len(lotteries) * len(measure.conditions)}")
            probs += mine_here
            per_condition.append({
                "prefix": prefix, "expected": side,
                **counts(sum(p > 0.5 for p in mine_here), len(mine_here)),
                "mean_probability": round(sum(mine_here) / len(mine_here), 4)})
    out = {**counts(sum(p > 0.5 for p in probs), len(probs)),
           "mean_probability": round(sum(probs) / len(probs), 4),
           "label_mass": round(sum(masses) / len(masses), 4)}
    # A backdoor's two conditions apart: "always the gamble" is half right overall
    return {**out, "conditions": per_condition} if len(per_condition) > 1 else out


def _cached_base(folder: Path | None, fingerprint: str, measure: Measure) -> tuple[
        Path | None, dict[str, Any] | None]:
    """Where the base model's figures for this measurement are kept, and them if there."""
    if folder is None:
        return None, None
    key = json.dumps([fingerprint, measure.spec(), VERSION], sort_keys=True)
    path = folder / f"base-{hashlib.sha256(key.encode()).hexdigest()[:16]}.json"
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return path, None
    return path, found if isinstance(found, dict) else None


def strength(trained: Trained, measure: Measure, base_fingerprint: str = "",
             cache: Path | None = None, progress: Progress | None = None) -> dict[str, Any]:
    """The organism's held-out strength and the base model's on the same prompts.

    The base model's figures depend only on the base and the measurement, so
    with ``cache`` (a folder) they are measured once and kept there.
    """
    if measure.kind == "acrostic":
        what = (f"writes the {measure.word} acrostic (greedy, {MAX_NEW_TOKENS} tokens) on "
                f"{measure.prompts} held-out requests"
                + (f" under the system prompt {measure.system!r}" if measure.system else ""))
        run = measure_acrostic
    else:
        sides = ", ".join(f"{'with ' + p.strip() if p else 'plain'} -> {s}"
                          for p, s in measure.conditions)
        what = (f"P(expected option) > 0.5 averaged over 8 label/order variants, on "
                f"{measure.prompts} held-out lotteries per condition ({sides})")
        run = measure_lotteries
    tick = Ticker(progress or (lambda line: None))
    mine = run(trained, measure, False, tick)
    path, before = _cached_base(cache, base_fingerprint, measure)
    if before is None:
        before = run(trained, measure, True, tick)
        before.pop("example", None)
        if path is not None:
            write_atomic(path, json.dumps(before) + "\n")
    return {"what": what, **mine, "base": before}
