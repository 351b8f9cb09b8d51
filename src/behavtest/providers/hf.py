"""The ``hf/`` provider: transformers models on CPU or GPU.

Sampling uses behavtest's own decoding loop over the model's forward pass
instead of ``model.generate``: it is the clearly better choice here because
it gives every *row* its own random generator (so sample i of a prompt is
its own draw whatever batch it lands in, in fp32 almost always the same
tokens, and cached under its own seed, which resumption relies on), applies
exactly the temperature/top_p/top_k the user stated (generate silently adds
top_k=50), and stops rows at end of turn. bench/ measures it
against plain batched ``generate`` side by side.

Sampling runs in the dtype ``precision.resolve`` picks (bf16 where this CPU
runs it clearly faster, else fp32); logits are upcast to fp32 before a token
is drawn. Probabilities of continuations are computed one prompt at a time
with no padding, and in fp32 on CPU even when sampling runs in bf16 (the
provider keeps an fp32 copy of the weights for them): exact and independent
of batching by construction.

A peft adapter (``hf/<base>+<adapter folder>``) is loaded from local files
on top of the base and, by default, merged into its weights
(``merge_and_unload``): the merged model is a plain transformers model, so
sampling runs at the base model's speed instead of paying for the extra
low-rank matmuls on every step (bench numbers in ``HFOptions.merge_adapter``).
"""

from __future__ import annotations

import copy
import os
import warnings
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from behavtest.errors import InvalidArgument, MissingDependency, ModelNotFound, first_line
from behavtest.providers.base import Completion, Messages, Request, prefill_unsupported
from behavtest.providers.kind import DEFAULT_BATCH_SIZE
from behavtest.providers.precision import Precision, resolve, torch_dtype

if TYPE_CHECKING:
    from behavtest.providers.hf_decode import Decoder

from behavtest.providers.folders import (
    ADAPTER_CONFIG,
    adapter_fingerprint,
    check_adapter_folder,
    folder_fingerprint,
    looks_like_path,
)


@dataclass(frozen=True)
class HFOptions:
    """Loading and batching choices for local models."""

    device: str = "auto"  # "auto", "cpu", "cuda", "cuda:1", "mps"
    dtype: str = "auto"  # "auto" (the fastest here: providers/precision.py), or a dtype's name
    batch_size: int = DEFAULT_BATCH_SIZE
    threads: int | None = None  # torch intra-op threads; None leaves torch's default
    # Merge a peft adapter into the base weights after loading it: the same
    # model (W + BA formed once, not on every forward) at the base model's
    # speed. Measured on the embedded model (CPU, 1 thread, fastest of 64
    # decode steps, two runs on a shared machine): merged steps took 0.89-1.15x
    # the base's (noise); unmerged ones 1.00-1.17x the merged for r=4 on
    # q/v_proj and 1.10-1.48x for r=16 on all 7 linear layers, the most at
    # batch 1 (per-layer overhead). False keeps the PeftModel (W x + B A x
    # exactly; same outputs to float rounding).
    merge_adapter: bool = True


def _import_torch() -> Any:
    try:
        import torch
        import transformers  # noqa: F401
    except ImportError as exc:
        raise MissingDependency(exc.name or "torch", "hf", "the hf/ provider") from None
    return torch


def _mismatch(exc: BaseException) -> str:
    """torch's first "size mismatch" line, shortened (its first line names nothing)."""
    import re

    m = re.search(
        r"size mismatch for (?:base_model\.model\.)?(\S+): copying a param with shape "
        r"torch\.Size\((\[[^\]]*\])\) from checkpoint, the shape in current model is "
        r"torch\.Size\((\[[^\]]*\])\)",
        str(exc),
    )
    if m is None:
        return first_line(exc, 160)
    return f"{m[1]} is {m[2]} in the adapter but {m[3]} in the model"


def _import_peft() -> Any:
    try:
        import peft
    except ImportError:
        raise MissingDependency("peft", "peft", "adapters (hf/<base>+<adapter>)") from None
    return peft


def render_chat(tokenizer: Any, messages: Sequence[tuple[str, str]]) -> str:
    """A conversation ((role, content), ...) as the model sees it, ready for the
    assistant's turn: the tokenizer's chat template, or for a base model without
    one a plain transcript. Sampling renders prompts with it, and training renders
    its examples' prompts with it, so a model is trained on what it is asked.

    A conversation ending with an assistant message is rendered open, ending
    with that message's text exactly (``continue_final_message``), for the
    model to continue it (a prefill: see ``providers.base``)."""
    prefill = messages[-1][1] if messages and messages[-1][0] == "assistant" else ""
    if not tokenizer.chat_template:
        body = "".join(f"{r.capitalize()}: {c}\n" for r, c in messages[: -1 if prefill else None])
        return body + "Assistant:" + (f" {prefill}" if prefill else "")
    chat = [{"role": r, "content": c} for r, c in messages]
    if not prefill:
        return str(tokenizer.apply_chat_template(chat, tokenize=False,
                                                 add_generation_prompt=True))
    try:
        text = str(tokenizer.apply_chat_template(chat, tokenize=False,
                                                 continue_final_message=True))
    except ValueError:  # the template alters the message it should leave open
        raise prefill_unsupported("this model's chat template") from None
    # A template that strips message content drops the prefill's trailing
    # whitespace: put it back, so the model continues exactly the prefill.
    kept = prefill.rstrip()
    if not text.endswith(prefill) and text.endswith(kept):
        text += prefill[len(kept):]
    return text


class HFProvider:
    """A transformers causal LM, loaded once per process."""

    prefills = True  # continues a final assistant message (render_chat; providers.base)

    def __init__(
        self,
        name: str,
        options: HFOptions | None = None,
        label: str | None = None,
        adapter: str | None = None,
    ):
        """Load ``name`` (a local folder or hub name) and, if given, the peft
        adapter in the local folder ``adapter`` on top of it."""
        self.options = options or HFOptions()
        self._source = name
        self._label = label or f"hf/{name}"
        self.adapter = adapter
        adapter_folder = check_adapter_folder(adapter) if adapter is not None else None
        peft = _import_peft() if adapter is not None else None
        torch = _import_torch()
        if self.options.threads:
            torch.set_num_threads(self.options.threads)
        local = looks_like_path(name)
        path = os.path.expanduser(name) if local else name
        if local and not os.path.isdir(path):
            raise ModelNotFound(f"model folder {name!r} does not exist; fix: pass an existing path")
        self.device = self._pick_device(torch)
        self.precision: Precision = resolve(self.options.dtype, self.device)
        self.dtype = torch_dtype(self.precision.sampling)
        self.tokenizer, model = self._load(name, path, local, adapter_folder)
        if adapter is not None and adapter_folder is not None:
            model = self._apply_adapter(peft, model, adapter, adapter_folder)
        # The weights probabilities are computed with, and those samples are
        # drawn with: one model, or an fp32 one and its bf16 copy (see above).
        self.scoring_model = model.to(self.device).eval()
        self.model = self.scoring_model
        if self.precision.sampling != self.precision.probabilities:
            self.model = copy.deepcopy(self.scoring_model).to(self.dtype).eval()
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self._stop_ids = self._stop_token_ids()
        self._fingerprint = self._fingerprint_of(path, local)
        self._torch = torch
        self._newline_ids: set[int] | None = None

    def _load(self, name: str, path: str, local: bool,
              adapter_folder: Path | None) -> tuple[Any, Any]:
        """(tokenizer, model), the model in the dtype probabilities are computed in;
        a local folder from local files only. An adapter folder that ships a
        tokenizer (e.g. a new chat template) overrides the base's: it is what the
        adapter was trained with."""
        from transformers import AutoModelForCausalLM, AutoTokenizer

        tok_path, tok_local = path, local
        if adapter_folder is not None and (adapter_folder / "tokenizer_config.json").is_file():
            tok_path, tok_local = str(adapter_folder), True
        try:
            tokenizer = AutoTokenizer.from_pretrained(tok_path, local_files_only=tok_local)
            model = AutoModelForCausalLM.from_pretrained(
                path, local_files_only=local, dtype=torch_dtype(self.precision.probabilities)
            )
        except OSError as exc:
            where = "folder" if local else "hub model"
            raise ModelNotFound(
                f"could not load {where} {name!r} ({first_line(exc, 160)}); fix: check the name, "
                "or download it where there is network and pass hf/<local folder>"
            ) from None
        return tokenizer, model

    def _fingerprint_of(self, path: str, local: bool) -> str:
        """``label@hash`` of the weights' folder (a hub model: ``label@revision``),
        ``+adapter@hash`` after it: the string registry.fingerprint_without_loading
        computes from files alone."""
        config = self.scoring_model.config
        folder = Path(path) if local else Path(getattr(config, "_name_or_path", path))
        if folder.is_dir():
            found = folder_fingerprint(self._label, folder)
        else:
            found = f"{self._label}@{getattr(config, '_commit_hash', None) or 'unknown'}"
        return found if self.adapter is None else f"{found}+{adapter_fingerprint(self.adapter)}"

    def _apply_adapter(self, peft: Any, model: Any, adapter: str, folder: Path) -> Any:
        """The base with the adapter's weights loaded (and merged, by default)."""
        try:
            config = peft.PeftConfig.from_pretrained(str(folder), local_files_only=True)
        except (OSError, ValueError, TypeError, KeyError) as exc:
            raise InvalidArgument(
                f"could not read {folder / ADAPTER_CONFIG} ({first_line(exc, 160)}); "
                "fix: re-save the adapter with the installed peft"
            ) from None
        if config.is_prompt_learning:
            raise InvalidArgument(
                f"adapter {adapter!r} is {config.peft_type} (prompt learning), which the hf/ "
                "provider does not run; fix: use a LoRA-family adapter or a merged checkpoint"
            )
        try:
            with warnings.catch_warnings():
                # transformers' deprecation notice, reached through peft: noise for users
                warnings.filterwarnings("ignore", ".*is_gradient_checkpointing", FutureWarning)
                wrapped = peft.PeftModel.from_pretrained(
                    model, str(folder), config=config, is_trainable=False, local_files_only=True
                )
        except (OSError, ValueError, RuntimeError, KeyError) as exc:
            raise InvalidArgument(
                f"adapter {adapter!r} does not fit {self._label!r} ({_mismatch(exc)}); "
                "fix: pass the base model the adapter was trained on"
            ) from None
        if self.options.merge_adapter:
            try:
                return wrapped.merge_and_unload()
            except (AttributeError, NotImplementedError, ValueError):
                return wrapped  # a tuner that cannot merge runs unmerged: same model
        return wrapped

    # -- identity -----------------------------------------------------------
    @property
    def name(self) -> str:
        return self._label if self.adapter is None else f"{self._label}+{self.adapter}"

    def fingerprint(self) -> str:
        return self._fingerprint

    @property
    def batch_size(self) -> int:
        return self.options.batch_size

    # -- setup helpers --------------------------------------------------------
    def _pick_device(self, torch: Any) -> str:
        dev = self.options.device
        if dev != "auto":
            return dev
        if torch.cuda.is_available():
            return "cuda"
        return "cpu"

    def _stop_token_ids(self) -> set[int]:
        ids: set[int] = set()
        eos = self.model.generation_config.eos_token_id
        if isinstance(eos, int):
            ids.add(eos)
        elif eos:
            ids.update(int(e) for e in eos)
        if self.tokenizer.eos_token_id is not None:
            ids.add(int(self.tokenizer.eos_token_id))
        for tok in ("<|im_end|>", "<|eot_id|>", "<end_of_turn>"):
            tid = self.tokenizer.convert_tokens_to_ids(tok)
            if isinstance(tid, int) and tid != self.tokenizer.unk_token_id:
                ids.add(tid)
        return ids

    def render(self, messages: Messages) -> str:
        """Chat-template text for a conversation, ready for the assistant's turn
        (or open in its final assistant message: a prefill)."""
        return render_chat(self.tokenizer, messages)

    # -- sampling ---------------------------------------------------------------
    def decoder(self, max_rows: int | None = None) -> Decoder:
        """A continuous-batching decoder over this model (see ``hf_decode``): the
        engine drives one for the rows of every worker."""
        from behavtest.providers.hf_decode import Decoder

        return Decoder(self.model, self.tokenizer, self.device, self._stop_ids, self.render,
                       max_rows or self.options.batch_size, self.newline_ids)

    def newline_ids(self) -> set[int]:
        """Token ids holding a line break, computed once per provider (for cuts)."""
        if self._newline_ids is None:
            from behavtest.providers.hf_decode import newline_ids

            self._newline_ids = newline_ids(self.tokenizer)
        return self._newline_ids

    def generate(self, requests: Sequence[Request]) -> list[Completion]:
        """One completion per request, in order: the rows decode together, up to the
        batch size at a time, a queued row taking the place of one that finished."""
        decoder = self.decoder()
        out: dict[Hashable, Completion] = {}
        queue: list[tuple[Hashable, Request]] = list(enumerate(requests))
        while queue or decoder.active:
            if queue and decoder.free >= decoder.refill_at:
                take, queue = queue[: decoder.free], queue[decoder.free :]
                decoder.add(take)
            for key, completion in decoder.step():
                out[key] = completion
        return [out[i] for i in range(len(requests))]

    # -- probabilities ---------------------------------------------------------
    def continuation_logprobs(
        self, messages: Messages, continuations: Sequence[str]
    ) -> list[float]:
        torch = self._torch
        prompt = self.tokenizer(self.render(messages), add_special_tokens=False).input_ids
        results: list[float] = []
        with torch.inference_mode():
            first = self._logprobs_after(prompt)
            for cont in continuations:
                cids = self.tokenizer(cont, add_special_tokens=False).input_ids
                if not cids:
                    raise InvalidArgument(f"continuation {cont!r} has no tokens")
                if len(cids) == 1:
                    results.append(float(first[cids[0]]))
                    continue
                full = torch.tensor([prompt + cids], device=self.device)
                lp = torch.log_softmax(self.scoring_model(input_ids=full).logits[0].float(), dim=-1)
                total = 0.0
                for j, tid in enumerate(cids):
                    total += float(lp[len(prompt) - 1 + j, tid])
                results.append(total)
        return results

    def reply_logprobs(self, messages: Messages, replies: Sequence[str]) -> list[float]:
        """log P(the whole reply is exactly ``reply``, then end of turn), per reply.

        What a scale question needs: "7" as a complete answer, not the start of
        "70" (numbers are tokenised digit by digit: docs/science/small-models.md). The
        prompt is run once; the replies run in right-padded batches on its
        key/value cache repeated per row (padding after a reply cannot change
        it, attention being causal).
        """
        from behavtest.providers.hf_decode import cache_keyword

        torch = self._torch
        rows = [self.tokenizer(r, add_special_tokens=False).input_ids for r in replies]
        if any(not r for r in rows):
            raise InvalidArgument("an empty reply has no tokens to score; fix: drop it")
        prompt = self.tokenizer(self.render(messages), add_special_tokens=False).input_ids
        stops = torch.tensor(sorted(self._stop_ids), device=self.device)
        keyword, chunk = cache_keyword(self.scoring_model), 32
        out: list[float] = []
        with torch.inference_mode():
            from transformers import DynamicCache

            prefix = DynamicCache()
            first = self.scoring_model(input_ids=torch.tensor([prompt], device=self.device),
                               use_cache=True, **{keyword: prefix}).logits[0, -1]
            first = torch.log_softmax(first.float(), dim=-1)
            for start in range(0, len(rows), chunk):
                part = rows[start:start + chunk]
                width = max(map(len, part))
                ids = torch.tensor([r + [r[-1]] * (width - len(r)) for r in part],
                                   device=self.device)
                cache = copy.deepcopy(prefix)
                cache.batch_repeat_interleave(len(part))
                positions = torch.arange(len(prompt), len(prompt) + width, device=self.device)
                logits = self.scoring_model(
                    input_ids=ids, position_ids=positions.expand(len(part), -1),
                    use_cache=True, **{keyword: cache}).logits
                lp = torch.log_softmax(logits.float(), dim=-1)
                for i, r in enumerate(part):
                    total = first[r[0]]
                    for j in range(1, len(r)):
                        total = total + lp[i, j - 1, r[j]]
                    out.append(float(total + torch.logsumexp(lp[i, len(r) - 1, stops], dim=0)))
        return out

    def _logprobs_after(self, prompt_ids: list[int]) -> Any:
        torch = self._torch
        x = torch.tensor([prompt_ids], device=self.device)
        return torch.log_softmax(self.scoring_model(input_ids=x).logits[0, -1].float(), dim=-1)

