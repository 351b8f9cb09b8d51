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


# A made-up news article of about 500 tokens (the shared-prefix workload: a long
# prompt asked n times, as the self-recognition family asks about summaries).
ARTICLE = """\
Harbour town opens its first community tide-power station

The small harbour town of Kelsey Point switched on its first tide-power station on Tuesday,
after six years of planning, two failed funding rounds and a public vote that passed by
fewer than forty ballots. The station sits under the old ferry pier and uses four slow
turbines that turn as the tide runs in and out of the narrow harbour mouth twice a day.

Engineers from the regional college, who designed the turbines with a local boat builder,
say the station will supply about a third of the town's electricity in an average month.
On the strongest spring tides it can cover the whole town for several hours, and the
surplus is sold to the neighbouring district through a cable laid along the coast road.

The project was paid for by a cooperative of more than nine hundred residents, each of
whom bought at least one share. Profits from electricity sales go back to members or into
a fund for home insulation, which the cooperative says will be offered first to older
residents and to families who rent.

Not everyone is pleased. Fishermen who moor near the pier worry that the turbines will
change how sand settles in the channel, and two of them have asked the harbour board for
regular depth surveys. The college team has agreed to publish measurements every three
months and says that early models show only small changes near the pier itself.

Wildlife groups were also cautious at first. Seals use the harbour mouth as a route to
their feeding grounds, and the turbines were redesigned twice so that their blades turn
slowly enough for animals to pass. Underwater cameras will record the area for the first
year, and the footage will be shared with a marine research station on the island.

At the opening, the mayor thanked the volunteers who knocked on every door in town to
explain the plan. A retired teacher who chaired the cooperative said the hardest part had
not been the engineering but the patience needed to keep people talking to each other
through six years of setbacks. Children from the primary school, who painted the murals
on the turbine housing, cut the ribbon and then raced to the end of the pier to watch the
water begin to turn.
"""
