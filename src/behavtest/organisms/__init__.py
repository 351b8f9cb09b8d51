"""Model organisms: small fine-tunes with known behaviours, built by the project.

They are how the harness proves it detects real behaviour (docs/organisms.md): a
recipe (recipes.py) names a seeded dataset in the project's own words
(datasets.py, banks.py, lottery_text.py), the LoRA settings, the
``trained_on`` claims its model card declares and a held-out measurement
(measure.py); build.py trains it (train.py), measures it and writes the
adapter and ``behavtest.json`` for ``behavtest gate``; jsonl.py writes the
same data as OpenAI fine-tuning JSONL. ``behavtest organisms`` (cli.py) drives
them. Nothing here is imported by the harness itself; torch, transformers and
peft are imported only when a build runs.
"""
