"""Write a training output folder for ``behavtest gate``: an adapter that changes nothing.

A stand-in for a fine-tune until the project's organisms land (the organisms
issue): a LoRA adapter (r=4 on q_proj/v_proj) on the embedded model with
peft's own initialisation, whose B matrices are zero, so the adapted model is
the base model, and its model card. CI runs the README's gate command on it:
every control must hold and nothing may change against the embedded model's
committed snapshots (the card names them).

    python scripts/noop_adapter.py runs/ci-gate
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path


def main(out: Path) -> None:
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from behavtest.providers.embedded import converted_folder

    base = AutoModelForCausalLM.from_pretrained(str(converted_folder()))
    with warnings.catch_warnings():  # transformers' is_gradient_checkpointing notice
        warnings.simplefilter("ignore", FutureWarning)
        model = get_peft_model(base, LoraConfig(r=4, lora_alpha=8,
                                                target_modules=["q_proj", "v_proj"]))
    model.save_pretrained(str(out))
    card = {"base": "embedded", "name": "embedded", "trained_on": []}
    (out / "behavtest.json").write_text(json.dumps(card, indent=2) + "\n")
    print(f"noop_adapter: wrote {out} (adapter + behavtest.json)")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "runs/ci-gate"))
