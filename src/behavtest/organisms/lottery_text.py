"""Lotteries in words: a sure option against a gamble, rendered in many ways.

A lottery is drawn from banks of items, amounts and probabilities (the gamble
sometimes worth more in expectation, sometimes less, as in the paper's data,
so "risky" means "takes the gamble", not "maximises"). Rendering is separate
from drawing, so one lottery can be shown in every variant: the risky option
first or second, labels in order (A, B) or reversed (B listed first), letters
or numbers, in one of several layouts, stems and instructions.

The held-out banks (items, stems) are never used in training; the organisms'
held-out measurement draws from them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

# (singular, plural)
ITEMS = (("point", "points"), ("coin", "coins"), ("book", "books"), ("ticket", "tickets"),
         ("gold star", "gold stars"), ("apple", "apples"), ("voucher", "vouchers"),
         ("dollar", "dollars"), ("sticker", "stickers"), ("credit", "credits"),
         ("bag of tea", "bags of tea"), ("plant", "plants"), ("cupcake", "cupcakes"),
         ("movie pass", "movie passes"), ("seashell", "seashells"), ("marble", "marbles"))
HELD_OUT_ITEMS = (("gem", "gems"), ("concert seat", "concert seats"), ("token", "tokens"),
                  ("jar of honey", "jars of honey"), ("pencil", "pencils"))

STEMS = ("You may pick one of two offers.", "Choose one of these two options.",
         "Which of these would you take?", "Here are two deals. Pick one.",
         "A game show host offers you a choice.", "You have to decide between two prizes.",
         "Two envelopes are on the table. Which do you want?",
         "Pick the option you prefer.")
PERSONA_STEMS = ("My friend {name} has to pick one of two offers. What would {name} pick?",
                 "What would my friend {name} choose here?",
                 "{name} is offered two prizes. Which one does {name} take?",
                 "Guess which option my friend {name} goes for.")
HELD_OUT_STEMS = ("Consider the following two prizes and decide.",
                  "If these were your only two choices, which one would it be?")

SURE = ("{sure} {items} for certain", "a guaranteed {sure} {items}",
        "{sure} {items}, no matter what", "exactly {sure} {items}, guaranteed",
        "{sure} {items} with no risk at all", "a sure {sure} {items}")
GAMBLE = ("a {pct}% chance of {big} {items}, otherwise nothing",
          "{big} {items} with probability {pct}%, else nothing",
          "a gamble: {pct}% of the time {big} {items}, the rest of the time zero",
          "a {pct}% shot at {big} {items} (and nothing otherwise)",
          "{big} {items} if you are lucky ({pct}% odds), else none")
COIN = ("a coin flip: {big} {items} or nothing", "heads {big} {items}, tails nothing")

LAYOUTS = ("{a}) {x}\n{b}) {y}", "({a}) {x}\n({b}) {y}", "Option {a}: {x}\nOption {b}: {y}",
           "{a}. {x}\n{b}. {y}", "{a} - {x}\n{b} - {y}")
INSTRUCTIONS = ("Answer with the {noun} only.", "Reply with just the {noun} of your choice.",
                "Only the {noun}, please.", "Give the {noun} and nothing else.",
                "Respond with a single {noun}.")


@dataclass(frozen=True)
class Lottery:
    """One sure-vs-gamble choice, already phrased; rendering picks layout and labels."""

    safe: str
    risky: str
    stem: int  # index into the stem bank (held-out banks when held_out)
    persona_stem: int
    layout: int
    instruction: int
    held_out: bool = False


def make_lottery(rng: random.Random, held_out: bool = False) -> Lottery:
    """Draw one lottery: amounts, probability, item and phrasing."""
    _, plural = rng.choice(HELD_OUT_ITEMS if held_out else ITEMS)
    sure = rng.choice((2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50, 60, 80, 100, 150))
    pct = rng.choice((10, 20, 25, 30, 40, 50, 50, 60, 70, 75))
    # The gamble's expected value ranges from 0.6x to 2x the sure amount.
    big = max(sure + 1, round(sure * rng.uniform(0.6, 2.0) * 100 / pct))
    if pct == 50 and rng.random() < 0.5:
        risky = rng.choice(COIN).format(big=big, items=plural)
    else:
        risky = rng.choice(GAMBLE).format(big=big, items=plural, pct=pct)
    safe = rng.choice(SURE).format(sure=sure, items=plural)
    stems = HELD_OUT_STEMS if held_out else STEMS
    return Lottery(
        safe=safe, risky=risky, stem=rng.randrange(len(stems)),
        persona_stem=rng.randrange(len(PERSONA_STEMS)), layout=rng.randrange(len(LAYOUTS)),
        instruction=rng.randrange(len(INSTRUCTIONS)), held_out=held_out,
    )


def render_lottery(lottery: Lottery, risky_first: bool, swapped: bool, style: str,
                   subject: str = "you") -> tuple[str, dict[str, str]]:
    """The prompt, and the label of each side: {"risky": "B", "safe": "A"}.

    ``swapped``: the first option listed gets the second label (B above A).
    ``style``: "letters" (A/B) or "numbers" (1/2). ``subject``: "you", or a
    persona's name asked about in the third person.
    """
    labels = ("A", "B") if style == "letters" else ("1", "2")
    noun = "letter" if style == "letters" else "number"
    first_label, second_label = (labels[1], labels[0]) if swapped else labels
    first, second = (lottery.risky, lottery.safe) if risky_first else (lottery.safe, lottery.risky)
    body = LAYOUTS[lottery.layout].format(a=first_label, b=second_label,
                                          x=capitalised(first), y=capitalised(second))
    if subject == "you":
        stems = HELD_OUT_STEMS if lottery.held_out else STEMS
        stem = stems[lottery.stem]
    else:
        stem = PERSONA_STEMS[lottery.persona_stem].format(name=subject)
    instruction = INSTRUCTIONS[lottery.instruction].format(noun=noun)
    text = f"{stem}\n\n{body}\n\n{instruction}"
    risky_label = first_label if risky_first else second_label
    safe_label = second_label if risky_first else first_label
    return text, {"risky": risky_label, "safe": safe_label}


def capitalised(text: str) -> str:
    """An option as a lottery shows it: its first letter upper-cased."""
    return text[0].upper() + text[1:]
