"""The `hf` engine: HY-MT1.5 on transformers, batched, with a shrinking KV cache.

Constructing the engine, its fingerprint and its token counts import no torch;
the model is loaded on the first `translate_batch`, so a run that the translation
memory answers completely never loads it. The batch size (`--batch-size auto`)
comes from config.json and the device's free memory, without loading weights.
"""

from __future__ import annotations

import logging
from functools import cached_property
from typing import TYPE_CHECKING, Any

from hymt_cli.engines.base import Request, Sampling, answer_budget
from hymt_cli.engines.chat import ChatEngine
from hymt_cli.engines.hf_identity import TokenCounter, quantisation, read_config, revision
from hymt_cli.engines.options import HFOptions
from hymt_cli.models import resolve_model
from hymt_cli.prompts import Composer, check_template_choice, choose_composer

if TYPE_CHECKING:
    import torch

    from hymt_cli.engines.hf_generate import StepObserver

logger = logging.getLogger(__name__)


class HFEngine(ChatEngine):
    """HY-MT1.5 on transformers: greedy by default, HY-MT's sampling on request."""

    name = "hf"

    def __init__(self, options: HFOptions = HFOptions()) -> None:
        super().__init__(options)
        self.options: HFOptions = options
        # fails fast, before document work (downloads a missing model unless offline)
        self.resolved = resolve_model(options.model, offline=options.offline)
        self.config = read_config(self.resolved.path)
        self.device_name, self.dtype_name = options.device, options.dtype
        self.compose = options.compose or self._default_composer(options.template)
        self.counter = TokenCounter(self.resolved.path)
        self.observer: StepObserver | None = None
        """Optional hook called at every decode step (tests, benchmarks)."""
        self.tokenizer: Any = None
        self.model: torch.nn.Module | None = None
        self.stop_ids: frozenset[int] = frozenset()
        self.pad_id = 0

    def _default_composer(self, template: str) -> Composer:
        """Official templates, except English-first for int4 1.8B checkpoints under
        `auto` (see `prompts.choose_composer`)."""
        small_int4 = quantisation(self.config).startswith("gptq") and self.config.get(
            "hidden_size", 0) <= 2048
        return choose_composer(check_template_choice(template), small_int4)

    @property
    def fingerprint(self) -> str:
        """Everything about this engine that shapes its answers, for memory keys."""
        model = self.resolved.repo_id or self.resolved.path.name
        decoding = f"sampling-{self.seed}" if self.sampling_on else "greedy"
        composer = getattr(self.compose, "__name__", "custom")
        return ":".join(("hf", model, revision(self.resolved), quantisation(self.config),
                         self.dtype_name, decoding, composer))

    def count_tokens(self, text: str) -> int:
        """Tokens in `text` with the checkpoint's tokenizer (no torch needed)."""
        return self.counter(text)

    @cached_property
    def device(self) -> torch.device:
        """The torch device (`auto`: CUDA, else MPS, else CPU); imports torch."""
        import hymt_cli.engines.hf_loading as hf_loading

        return hf_loading.pick_device(self.device_name)

    @cached_property
    def batch_size(self) -> int:  # type: ignore[override]
        """Rows per batch: as requested, else sized from config.json and the
        device's free memory (imports torch, loads no weights)."""
        import hymt_cli.engines.hf_loading as hf_loading

        requested = self.options.batch_size
        return requested or hf_loading.default_batch_size(self.device, self.config)

    def load(self) -> None:
        """Load tokenizer and model once; later calls do nothing."""
        if self.model is not None:
            return
        import hymt_cli.engines.hf_loading as hl

        threads = hl.set_threads(self.options.threads)
        self.dtype = hl.pick_dtype(self.dtype_name, self.device)
        path = self.resolved.path
        logger.info("loading %s on %s (%s, %s, %d threads)", path, self.device,
                    self.dtype, quantisation(self.config), threads)
        self.tokenizer = hl.load_tokenizer(path)
        self.model = hl.load_model(path, self.device, self.dtype,
                                   self.options.attn_implementation)
        self.stop_ids = hl.stop_token_ids(self.tokenizer, self.model.generation_config)
        self.pad_id = hl.pad_token_id(self.tokenizer)

    def encode(self, request: Request) -> list[int]:
        """Prompt ids: the tokenizer's chat template around `prompt_text`."""
        self.load()
        messages = [{"role": "user", "content": self.prompt_text(request)}]
        # Sanitizing keeps control-token look-alikes in documents as plain text.
        encoded = self.tokenizer.apply_chat_template(
            messages,
            add_generation_prompt=True,
            tokenize=True,
            return_dict=True,
            sanitize_control_tokens=True,
        )
        return list(encoded["input_ids"])

    def budget(self, request: Request) -> int:
        """max_new_tokens for `request`: bounded by its source length and the cap."""
        self.load()
        source = self.tokenizer(request.text, add_special_tokens=False)["input_ids"]
        return answer_budget(len(source), self.max_new_tokens)

    def generate(self, prompts: list[list[int]], budgets: list[int],
                 sampling: Sampling | None = None) -> list[list[int]]:
        """Generated ids per prompt (stop token excluded), `batch_size` at a time."""
        from hymt_cli.engines.hf_generate import generate

        self.load()
        assert self.model is not None
        outputs: list[list[int]] = []
        for start in range(0, len(prompts), self.batch_size):
            outputs += generate(
                self.model, prompts[start : start + self.batch_size],
                pad_id=self.pad_id, stop_ids=sorted(self.stop_ids),
                max_new_tokens=budgets[start : start + self.batch_size],
                sampling=sampling, observer=self._step)
        return outputs

    def _step(self, rows: int, cache: Any) -> None:
        """Each decode step: the observer hook, then progress (a token per row)."""
        if self.observer is not None:
            self.observer(rows, cache)
        self.report_tokens(rows)

    def decode_text(self, output: list[int]) -> str:
        """The answer text of generated ids, special tokens dropped."""
        return str(self.tokenizer.decode(output, skip_special_tokens=True))
