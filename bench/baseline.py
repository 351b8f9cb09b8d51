"""What the benchmarks share: the prompts, and the raw baseline they are measured against.

Imported by the bench scripts as a sibling module (``python bench/<x>.py``
puts bench/ on the path). torch is imported inside ``raw_generate`` only, so
processes that must stay small (the engine benchmark's clients) can import
the prompts.
"""

from __future__ import annotations

from typing import Any

QUESTIONS = [
    "Write a few lines about the sea.",
    "Describe your morning routine.",
    "What makes a good friend?",
    "Give me advice on learning to cook.",
    "Tell me about autumn.",
    "How do plants grow?",
    "Explain why the sky is blue.",
    "What is your favourite book and why?",
]


def raw_generate(
    provider: Any, prompts: list[str], max_tokens: int, batch: int, temperature: float = 1.0
) -> int:
    """Plain batched ``model.generate`` on the provider's own model and chat template,
    pure sampling (top_p 1, top_k 0): the generated tokens up to end of turn."""
    import torch

    tok, model = provider.tokenizer, provider.model
    texts = [provider.render((("user", q),)) for q in prompts]
    total = 0
    for start in range(0, len(texts), batch):
        enc = tok(texts[start : start + batch], return_tensors="pt", padding=True,
                  add_special_tokens=False)
        with torch.inference_mode():
            out = model.generate(
                **enc, do_sample=True, temperature=temperature, top_p=1.0, top_k=0,
                max_new_tokens=max_tokens, pad_token_id=tok.pad_token_id,
            )
        for row in out[:, enc.input_ids.shape[1] :].tolist():
            n = 0
            for t in row:
                if t in provider._stop_ids:
                    break
                n += 1
            total += n
    return total
