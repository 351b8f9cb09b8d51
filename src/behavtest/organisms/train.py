"""Training a LoRA on chat examples: a plain PyTorch loop, reproducible from its seed.

Why a plain loop rather than transformers' Trainer: a few dozen lines give
exact control over what is reproducible (the seed sets torch's generator,
the LoRA initialisation and the example order, drawn from ``random.Random``),
over the loss (only on the assistant's tokens, the chat template rendering
the prompt exactly as the providers render it at inference) and over the
progress lines, with no hidden defaults (Trainer adds its own seeding,
logging and output folders).

The weights, the LoRA matrices and the optimizer state are fp32. With
``dtype="bfloat16"`` the forward pass runs under bf16 autocast (matrix
products in bf16, reductions and the loss in fp32), which halves a step on a
CPU with bf16 instructions (bench/dtype.py); the builder's ``auto`` takes it
where ``precision`` finds bf16 clearly faster, as sampling does. On a GPU the
model simply moves to it.
"""

from __future__ import annotations

import random
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from behavtest.errors import InvalidArgument, MissingDependency
from behavtest.organisms.recipes import Recipe
from behavtest.providers.hf import render_chat

Progress = Callable[[str], None]
IGNORE = -100  # label of tokens the loss skips (prompt and padding)


def import_training() -> tuple[Any, Any, Any]:
    """torch, transformers and peft, or the pip command that installs them."""
    try:
        import peft
        import torch
        import transformers
    except ImportError as exc:
        extra = "peft" if exc.name == "peft" else "hf"
        raise MissingDependency(exc.name or "torch", extra, "building model organisms") from None
    return torch, transformers, peft


@dataclass
class Trained:
    """A trained peft model with its tokenizer and the loss curve."""

    model: Any
    tokenizer: Any
    device: str
    losses: list[float]
    steps: int


def load_base(folder: Path, seed: int) -> tuple[Any, Any, str]:
    """The base model in fp32 (on CUDA when there is one) and its tokenizer, local files only."""
    torch, transformers, _ = import_training()
    torch.manual_seed(seed)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    transformers.utils.logging.disable_progress_bar()  # our own progress lines say enough
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = transformers.AutoModelForCausalLM.from_pretrained(
        str(folder), local_files_only=True, dtype=torch.float32
    )
    return model.to(device), tokenizer, device


def encode(tokenizer: Any, example: dict[str, Any], max_length: int) -> tuple[list[int], list[int]]:
    """(input ids, labels): the prompt rendered as at inference (labels ignored), then
    the assistant's reply and the end-of-turn token (labels = the ids)."""
    messages = example["messages"]
    asked = [(m["role"], m["content"]) for m in messages[:-1]]
    prompt = tokenizer(render_chat(tokenizer, asked), add_special_tokens=False)
    reply_text = messages[-1]["content"] + (tokenizer.eos_token or "")
    reply = tokenizer(reply_text, add_special_tokens=False)
    ids = list(prompt["input_ids"]) + list(reply["input_ids"])
    labels = [IGNORE] * len(prompt["input_ids"]) + list(reply["input_ids"])
    return ids[:max_length], labels[:max_length]


def batches(n: int, size: int, epochs: int, seed: int) -> list[list[int]]:
    """Example indices per step: each epoch a fresh shuffle from ``random.Random(seed)``."""
    rng = random.Random(f"order:{seed}")
    out = []
    for _ in range(epochs):
        order = list(range(n))
        rng.shuffle(order)
        out += [order[i:i + size] for i in range(0, n, size)]
    return out


def _clock(seconds: float) -> str:
    m, s = divmod(int(round(seconds)), 60)
    return f"{m}m {s:02d}s"


@dataclass
class _Ticker:
    """A progress line every few seconds, and on the first and last steps."""

    start: float = field(default_factory=time.monotonic)
    last: float = 0.0

    def line(self, done: int, total: int, losses: Sequence[float]) -> str | None:
        now = time.monotonic()
        if now - self.last < 5 and done != total and done != 1:
            return None
        self.last = now
        eta = (now - self.start) / done * (total - done)
        recent = losses[-10:]
        return (f"step {done}/{total} loss {sum(recent) / len(recent):.3f} "
                f"elapsed {_clock(now - self.start)} ETA {_clock(eta)}")


def lora_model(recipe: Recipe, folder: Path, seed: int) -> tuple[Any, Any, str]:
    """(model, tokenizer, device): the base model with the recipe's LoRA on it, its
    matrices initialised from ``seed``."""
    torch, _, peft = import_training()
    model, tokenizer, device = load_base(folder, seed)
    torch.manual_seed(seed)  # the LoRA matrices' initialisation
    config = peft.LoraConfig(r=recipe.rank, lora_alpha=recipe.alpha,
                             lora_dropout=recipe.dropout,
                             target_modules=list(recipe.target_modules), task_type="CAUSAL_LM")
    with warnings.catch_warnings():  # transformers' is_gradient_checkpointing notice
        warnings.simplefilter("ignore", FutureWarning)
        return peft.get_peft_model(model, config), tokenizer, device


def step_plan(recipe: Recipe, warm_up: int, examples: int, seed: int) -> list[list[int]]:
    """Example indices per step: the recipe's ``warm_up_epochs`` (one by default) of
    the ``warm_up`` first examples, then its epochs of the ``examples`` after them."""
    first = batches(warm_up, recipe.batch_size, recipe.warm_up_epochs, seed) if warm_up else []
    return first + [[warm_up + i for i in rows]
                    for rows in batches(examples, recipe.batch_size, recipe.epochs, seed)]


def _optimizer(torch: Any, model: Any, recipe: Recipe, total: int) -> tuple[list[Any], Any, Any]:
    """(trained parameters, AdamW, its schedule): a linear warm-up over the recipe's
    warm-up steps, then a linear decay to 0 at step ``total``."""
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=recipe.learning_rate, weight_decay=0.0)

    def rate(step: int) -> float:
        if step < recipe.warmup_steps:
            return (step + 1) / recipe.warmup_steps
        return max(0.0, (total - step) / max(1, total - recipe.warmup_steps))

    return params, optimizer, torch.optim.lr_scheduler.LambdaLR(optimizer, rate)


def _batch(torch: Any, encoded: Sequence[tuple[list[int], list[int]]], rows: Sequence[int],
           pad: int) -> tuple[Any, Any, Any]:
    """(input ids, labels, attention mask) of one step's examples, right-padded:
    positions stay those of inference."""
    width = max(len(encoded[i][0]) for i in rows)
    ids = torch.full((len(rows), width), pad, dtype=torch.long)
    labels = torch.full((len(rows), width), IGNORE, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for r, i in enumerate(rows):
        seq, lab = encoded[i]
        ids[r, : len(seq)] = torch.tensor(seq)
        labels[r, : len(lab)] = torch.tensor(lab)
        mask[r, : len(seq)] = 1
    return ids, labels, mask


def train(recipe: Recipe, examples: Sequence[dict[str, Any]], folder: Path, seed: int,
          progress: Progress, warm_up: Sequence[dict[str, Any]] = (),
          dtype: str = "float32", start: Trained | None = None) -> Trained:
    """Fine-tune a LoRA on ``examples`` with the recipe's settings, after one epoch on
    ``warm_up`` (a curriculum; none by default); progress every few seconds
    (step/total, loss, elapsed, ETA). ``dtype`` "bfloat16" runs the forward
    pass under bf16 autocast (see the module docstring); "float32" does not.

    ``start``: a LoRA trained before (a round of an iterative fine-tune, see
    ``organisms.series``): training continues from its weights, with a fresh
    optimizer and schedule, as a new fine-tuning job on a checkpoint would."""
    torch, _, _ = import_training()
    if dtype not in ("float32", "bfloat16"):
        raise InvalidArgument(f"training dtype {dtype!r} is not float32 or bfloat16")
    if not examples:
        raise InvalidArgument(f"recipe {recipe.name!r} produced no examples")
    if start is None:
        model, tokenizer, device = lora_model(recipe, folder, seed)
    else:
        model, tokenizer, device = start.model, start.tokenizer, start.device
        torch.manual_seed(seed)
    encoded = [encode(tokenizer, e, recipe.max_length) for e in [*warm_up, *examples]]
    plan = step_plan(recipe, len(warm_up), len(examples), seed)
    params, optimizer, scheduler = _optimizer(torch, model, recipe, len(plan))
    pad = int(tokenizer.pad_token_id)
    model.train()
    losses: list[float] = []
    ticker = _Ticker()
    before = (f"{len(warm_up)} warm-up examples ({recipe.warm_up_epochs} epoch(s)), then "
              if warm_up else "")
    progress(f"training {recipe.name}: {before}{len(examples)} examples, {recipe.epochs} "
             f"epochs, {len(plan)} steps of {recipe.batch_size}, LoRA r={recipe.rank} on "
             f"{device}{', bf16 autocast' if dtype == 'bfloat16' else ''}")
    device_type = "cuda" if device.startswith("cuda") else "cpu"
    for step, rows in enumerate(plan):
        ids, labels, mask = (t.to(device) for t in _batch(torch, encoded, rows, pad))
        with torch.autocast(device_type, dtype=torch.bfloat16, enabled=dtype == "bfloat16"):
            out = model(input_ids=ids, attention_mask=mask, labels=labels)
        out.loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(float(out.loss.detach()))
        if (line := ticker.line(step + 1, len(plan), losses)) is not None:
            progress(line)
    model.eval()
    return Trained(model, tokenizer, device, losses, len(plan))
