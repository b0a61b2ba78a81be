"""The `openai` engine: HY-MT1.5 behind OpenAI-compatible servers (vLLM, SGLang,
llama.cpp's server), with many requests in flight so the server batches them.

Same behaviour as the local engines: HY-MT's prompts (`prompts.build_prompt`) as
one user turn through `/v1/chat/completions` (the server applies the model's chat
template), greedy by default (temperature 0), HY-MT's sampling on request and on
retries, `max_tokens` from the same answer budget. Source tokens for that budget
are counted by the server's tokenize endpoint where it has one (vLLM, llama.cpp's
server, llama-cpp-python's), else by the model's tokenizer when it is in the
local cache, else estimated (see `estimated_tokens`). Token counts for context and splitting never ask the server,
so a run's segments are the same whether or not it is reachable.
Requests that fail are retried (`remote_client`); answers received before the
servers go away are passed on (`PartialAnswers`) and end up in the memory.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Sequence
from functools import cached_property
from typing import Any

from hymt_cli.engines.base import PartialAnswers, Request, Sampling, answer_budget, approximate_tokens
from hymt_cli.engines.chat import TURN_END_TOKEN, ChatEngine
from hymt_cli.engines.hf_identity import TokenCounter
from hymt_cli.engines.options import OpenAIOptions
from hymt_cli.engines.remote_client import Completion, Replicas, ServerDown, api_key
from hymt_cli.models import ModelNotFound, expand_alias, resolve_model
from hymt_cli.prompts import TEMPLATE_VERSION, Composer, check_template_choice, choose_composer

log = logging.getLogger(__name__)

ESTIMATE_MARGIN = 1.5
"""Without a tokenizer, the answer budget assumes 1.5 times the estimated source
tokens, so a text the estimate undercounts is not cut short."""
STOP_IDS = {"1.8b": (120020,), "7b": (127960,)}
"""Each size's eos id (MODEL_FACTS); the 1.8B also stops on its turn end, whose id
the server's tokenizer gives."""
LOW_BIT_MARKS = ("int4", "gptq", "awq", "q4", "q3", "q2", "iq")


def model_size(model: str) -> str | None:
    """`1.8b` or `7b` when the served model id names an HY-MT size."""
    name = model.lower()
    return "1.8b" if "1.8b" in name else "7b" if "7b" in name else None


def estimated_tokens(text: str) -> int:
    """Source tokens for the answer budget when no tokenizer is at hand."""
    return int(approximate_tokens(text) * ESTIMATE_MARGIN) + 1


class OpenAIEngine(ChatEngine):
    """HY-MT1.5 on OpenAI-compatible servers, `concurrency` requests in flight."""

    name = "openai"

    def __init__(self, options: OpenAIOptions) -> None:
        super().__init__(options)
        self.options: OpenAIOptions = options
        self.replicas = Replicas(options.base_url, api_key(dict(os.environ)),
                                 options.request_timeout, options.concurrency)
        self.batch_size = options.batch_size or options.concurrency
        self.template = check_template_choice(options.template)
        self.requested = expand_alias(options.model) if options.model else None
        self.counts: dict[str, int] = {}
        """Source tokens by the server's tokenizer, for budgets."""
        self.server_tokenizes = True
        """False once the server showed it has no tokenize endpoint."""
        self.stop_ids: tuple[int, ...] = ()
        self.ready = False

    @cached_property
    def model(self) -> str:
        """The served model id: `--model` (aliases expanded), else the server's
        only model."""
        if self.requested:
            return self.requested
        served = self.replicas.run(self.replicas.models())
        if len(served) != 1:
            raise ServerDown(f"{self.replicas.base_urls[0]} serves "
                             f"{len(served)} models ({', '.join(served) or 'none'}); "
                             "pass --model with one of them")
        return served[0]

    @cached_property
    def compose(self) -> Composer:
        """Official templates, except English-first for a 4-bit 1.8B (as locally)."""
        if self.options.compose is not None:
            return self.options.compose
        name = self.model.lower()
        small_low_bit = model_size(name) == "1.8b" and any(m in name for m in LOW_BIT_MARKS)
        return choose_composer(self.template, small_low_bit)

    @cached_property
    def fingerprint(self) -> str:
        """The served model id, decoding and prompt template, for memory keys: a
        restarted server keeps the memory, another model does not."""
        decoding = f"sampling-{self.seed}" if self.sampling_on else "greedy"
        composer = getattr(self.compose, "__name__", "custom")
        return ":".join(("openai", self.model, decoding, composer, TEMPLATE_VERSION))

    @cached_property
    def local_counter(self) -> TokenCounter | None:
        """The model's own tokenizer when the model is in the local cache."""
        try:
            return TokenCounter(resolve_model(self.model, offline=True).path)
        except (ModelNotFound, OSError, ValueError):
            return None

    def count_tokens(self, text: str) -> int:
        """Tokens for context and splitting: the local tokenizer, else the estimate."""
        counter = self.local_counter
        return counter(text) if counter is not None else approximate_tokens(text)

    def load(self) -> None:
        """Check that the server serves the model and learn its stop ids; once."""
        if self.ready:
            return
        served = self.replicas.run(self.replicas.models())
        if self.model not in served:
            raise ServerDown(f"{self.replicas.base_urls[0]} does not serve "
                             f"{self.model!r} (it serves {', '.join(served) or 'none'});"
                             " pass --model with a served id")
        self.stop_ids = self._stop_ids()
        self.ready = True
        log.info("serving %s from %s (%d requests in flight)", self.model,
                 ", ".join(self.replicas.base_urls), self.replicas.concurrency)

    def _stop_ids(self) -> tuple[int, ...]:
        size = model_size(self.model)
        if size is None:
            return ()
        ids = STOP_IDS[size]
        if size == "1.8b":
            turn_end = self.replicas.run(self.replicas.tokens(self.model, TURN_END_TOKEN))
            if turn_end is not None and len(turn_end) == 1:
                ids += tuple(turn_end)
        return ids

    def translate_batch(self, requests: Sequence[Request]) -> list[str]:
        """Count the sources' tokens at the server all at once, then translate."""
        self.load()
        texts = {r.text for r in requests if r.text.strip()} - self.counts.keys()
        if texts and self.server_tokenizes:
            self.replicas.run(self._count_all(sorted(texts)))
        return super().translate_batch(requests)

    async def _count_all(self, texts: list[str]) -> None:
        found = await asyncio.gather(*(self.replicas.tokens(self.model, t) for t in texts))
        if all(ids is None for ids in found):
            self.server_tokenizes = False
        for text, ids in zip(texts, found):
            if ids is not None:
                self.counts[text] = len(ids)

    def encode(self, request: Request) -> str:
        """The user turn; the server wraps it in the model's chat template."""
        return self.prompt_text(request)

    def budget(self, request: Request) -> int:
        """max_tokens: the answer budget of the source's tokens."""
        if (count := self.counts.get(request.text)) is None:
            counter = self.local_counter
            count = counter(request.text) if counter else estimated_tokens(request.text)
        return answer_budget(count, self.max_new_tokens)

    def generate(self, prompts: list[str], budgets: list[int],
                 sampling: Sampling | None = None) -> list[Completion]:
        """One completion per prompt, all in flight together (up to concurrency)."""
        outcomes = self.replicas.run(self._ask_all(prompts, budgets, self._params(sampling)))
        failures = [o for o in outcomes if isinstance(o, BaseException)]
        if failures:
            cause = next((f for f in failures if isinstance(f, ServerDown)), failures[0])
            answers = [None if isinstance(o, BaseException) else o for o in outcomes]
            raise PartialAnswers(answers, cause)
        return outcomes

    async def _ask_all(self, prompts: list[str], budgets: list[int],
                       params: dict[str, Any]) -> list[Any]:
        async def one(prompt: str, budget: int) -> Completion:
            answer = await self.replicas.chat(self.model, prompt, budget, params)
            self.report_tokens(answer.tokens if answer.tokens is not None
                               else approximate_tokens(answer.text))
            return answer

        return await asyncio.gather(*(one(p, b) for p, b in zip(prompts, budgets)),
                                    return_exceptions=True)

    def _params(self, sampling: Sampling | None) -> dict[str, Any]:
        """Request fields: greedy, or HY-MT's sampling (`top_k` and the repetition
        penalty as vLLM and llama.cpp's server spell them). Every field is set, as
        vLLM and SGLang fill the ones a request leaves out from the checkpoint's
        generation config."""
        extra: dict[str, Any] = {"stop_token_ids": list(self.stop_ids)} if self.stop_ids else {}
        if sampling is None:  # explicit, so no server-side default applies
            extra |= {"repetition_penalty": 1.0, "repeat_penalty": 1.0}
            return {"temperature": 0.0, "top_p": 1.0, "extra_body": extra}
        extra |= {"top_k": sampling.top_k, "repetition_penalty": sampling.repetition_penalty,
                  "repeat_penalty": sampling.repetition_penalty}
        params: dict[str, Any] = {"temperature": sampling.temperature,
                                  "top_p": sampling.top_p, "extra_body": extra}
        if sampling.seed is not None:
            params["seed"] = sampling.seed
        return params

    def decode_text(self, output: Completion) -> str:
        """The answer text."""
        return output.text

    def close(self) -> None:
        """Close the connections."""
        self.replicas.close()
