"""The `hf` engine: HY-MT1.5 on transformers, batched, with a shrinking KV cache.

Constructing the engine, its fingerprint and its token counts import no torch;
the model is loaded on the first `translate_batch`, so a run that the translation
memory answers completely never loads it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from hymt_cli.engines.base import DEFAULT_MAX_NEW_TOKENS, Request, answer_budget
from hymt_cli.engines.hf_identity import TokenCounter, quantisation, read_config, revision
from hymt_cli.models import DEFAULT_MODEL, resolve_model
from hymt_cli.prompts import (
    Composer,
    build_prompt,
    check_template_choice,
    choose_composer,
    is_tagged,
    parse_answer,
)

if TYPE_CHECKING:
    import torch

    from hymt_cli.engines.hf_generate import StepObserver

logger = logging.getLogger(__name__)


class HFEngine:
    """HY-MT1.5 on transformers: greedy by default, HY-MT's sampling on request."""

    name = "hf"

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        device: str = "auto",
        dtype: str = "auto",
        sampling: bool = False,
        batch_size: int | None = None,
        max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
        threads: int | None = None,
        seed: int | None = None,
        compose: Composer | None = None,
        attn_implementation: str | None = None,
        template: str = "auto",
    ) -> None:
        self.resolved = resolve_model(model)  # fails fast, before any document work
        self.config = read_config(self.resolved.path)
        self.device_name, self.dtype_name = device, dtype
        self.sampling_on, self.seed = sampling, seed
        self.requested_batch_size = batch_size
        self.max_new_tokens = max_new_tokens
        self.threads = threads
        self.compose = compose or self._default_composer(template)
        self.template = template
        self.attn_implementation = attn_implementation
        self.count_tokens = TokenCounter(self.resolved.path)
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

    def load(self) -> None:
        """Load tokenizer and model once; later calls do nothing."""
        if self.model is not None:
            return
        from hymt_cli.engines.hf_generate import Sampling
        from hymt_cli.engines import hf_loading as hl

        threads = hl.set_threads(self.threads)
        self.device = hl.pick_device(self.device_name)
        self.dtype = hl.pick_dtype(self.dtype_name, self.device)
        self.sampling = Sampling(seed=self.seed) if self.sampling_on else None
        self.batch_size = self.requested_batch_size or hl.default_batch_size(
            self.device, self.config)
        path = self.resolved.path
        logger.info("loading %s on %s (%s, %s, %d threads)", path, self.device,
                    self.dtype, quantisation(self.config), threads)
        self.tokenizer = hl.load_tokenizer(path)
        self.model = hl.load_model(path, self.device, self.dtype, self.attn_implementation)
        self.stop_ids = hl.stop_token_ids(self.tokenizer, self.model.generation_config)
        self.pad_id = hl.pad_token_id(self.tokenizer)

    def prompt_text(self, request: Request) -> str:
        """The user-turn text for `request`."""
        return build_prompt(request, self.compose)

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

    def translate_batch(self, requests: Sequence[Request]) -> list[str]:
        """Translate every request; results in request order."""
        results = [r.text for r in requests]  # blank segments pass through unchanged
        todo = [i for i, r in enumerate(requests) if r.text.strip()]
        if not todo:
            return results
        self.load()
        prompts = {i: self.encode(requests[i]) for i in todo}
        # Similar lengths share a batch, so little compute goes to padding.
        todo.sort(key=lambda i: len(prompts[i]), reverse=True)
        for start in range(0, len(todo), self.batch_size):
            chunk = todo[start : start + self.batch_size]
            batch = [requests[i] for i in chunk]
            outputs = self._generate([prompts[i] for i in chunk], batch)
            for i, ids in zip(chunk, outputs):
                results[i] = self.decode(ids, requests[i])
        return results

    def _generate(
        self, prompts: list[list[int]], requests: list[Request]
    ) -> list[list[int]]:
        from hymt_cli.engines.hf_generate import generate

        assert self.model is not None
        return generate(
            self.model,
            prompts,
            pad_id=self.pad_id,
            stop_ids=sorted(self.stop_ids),
            max_new_tokens=[self.budget(r) for r in requests],
            sampling=self.sampling,
            observer=self.observer,
        )

    def decode(self, ids: list[int], request: Request) -> str:
        """The cleaned translation from generated ids."""
        raw = self.tokenizer.decode(ids, skip_special_tokens=True)
        return parse_answer(raw, tagged=is_tagged(request.text))
