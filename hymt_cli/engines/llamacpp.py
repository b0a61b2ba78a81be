"""The `llamacpp` engine: HY-MT1.5 GGUF files on llama.cpp, batched, for CPUs.

Same behaviour as the `hf` engine: official prompts (`prompts.build_prompt`) in
the model's own chat template (GGUF `tokenizer.chat_template`, rendered with
jinja2), stop on eos and the 1.8B turn end, greedy by default or HY-MT sampling,
per-segment budget min(cap, 2 * source tokens + 32); the chat half is `ChatEngine`.
Constructing it, its fingerprint and token counts import no torch; the weights
are loaded on the first `translate_batch`.
"""

from __future__ import annotations

import importlib.util
import logging
import re
from functools import cached_property
from typing import TYPE_CHECKING, Any

from hymt_cli.engines.base import Request, Sampling, answer_budget
from hymt_cli.engines.chat import TURN_END_TOKEN, ChatEngine
from hymt_cli.engines.llamacpp_model import header_digest, physical_cores
from hymt_cli.engines.options import LlamaCppOptions
from hymt_cli.models import resolve_gguf
from hymt_cli.prompts import Composer, check_template_choice, choose_composer

if TYPE_CHECKING:
    from hymt_cli.engines.llamacpp_decode import BatchDecoder, StepObserver
    from hymt_cli.engines.llamacpp_runtime import LlamaModel

logger = logging.getLogger(__name__)

DEFAULT_SEQUENCES = 16
"""Sequences decoded together: on 2 cores Q4_K_M decodes ~50 tok/s at 16, ~33 at 8
(benchmarks/results/llamacpp_cpu.md); they share the `n_ctx` KV cells."""
USER, ASSISTANT = "<｜hy_User｜>", "<｜hy_Assistant｜>"
FALLBACK_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}"
    "{% if message['role'] == 'user' %}" + USER + "{{ message['content'] }}"
    "{% elif message['role'] == 'assistant' %}" + ASSISTANT
    + "{{ message['content'] }}" + TURN_END_TOKEN + "{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}" + ASSISTANT + "{% endif %}"
)
"""HY-MT1.5-1.8B's turn format, used only when the GGUF carries no template and its
vocabulary has these markers."""
LOW_BIT_FILE_TYPES = frozenset({2, 3, 10, 11, 12, 13, 14, 15, *range(19, 32)})
"""llama.cpp `general.file_type` values of 4 bits per weight or fewer (Q4_0, Q4_1,
Q2_K, Q3_K_*, Q4_K_*, IQ*)."""
_CONTENT = "\x00HYMT-CONTENT\x00"
"""Stands in for the user text while rendering, so the text is tokenized apart."""


class LlamaCppEngine(ChatEngine):
    """HY-MT1.5 GGUF on llama.cpp: greedy by default, HY-MT's sampling on request."""

    name = "llamacpp"

    def __init__(self, options: LlamaCppOptions = LlamaCppOptions()) -> None:
        if importlib.util.find_spec("llama_cpp") is None:  # fail fast, import later
            raise RuntimeError("the llamacpp engine needs llama-cpp-python: "
                               "pip install llama-cpp-python")
        super().__init__(options)
        self.options: LlamaCppOptions = options
        self.resolved = resolve_gguf(options.model, options.gguf_file,
                                     offline=options.offline)
        self.threads = options.threads or physical_cores()
        self.batch_size = options.batch_size or DEFAULT_SEQUENCES
        self.template = check_template_choice(options.template)
        self.observer: StepObserver | None = None
        """Optional hook called before every decode (tests, benchmarks)."""
        self.llm: LlamaModel | None = None
        self.decoder: BatchDecoder | None = None
        self.stop_ids: frozenset[int] = frozenset()

    @cached_property
    def compose(self) -> Composer:
        """The prompt composer: official templates, except for 4-bit (or smaller)
        1.8B files under `auto`, where the Chinese template is known to yield the
        wrong target language (as for the hf engine's int4 checkpoints)."""
        if self.options.compose is not None:
            return self.options.compose
        return choose_composer(self.template, self._small_low_bit())

    def _small_low_bit(self) -> bool:
        file_type = int(self.vocab.meta("general.file_type") or 0)
        width = int(self.vocab.meta("hunyuan-dense.embedding_length") or 0)
        return file_type in LOW_BIT_FILE_TYPES and 0 < width <= 2048

    @cached_property
    def fingerprint(self) -> str:
        """Everything about this engine that shapes its answers, for memory keys."""
        decoding = f"sampling-{self.seed}" if self.sampling_on else "greedy"
        composer = getattr(self.compose, "__name__", "custom")
        return ":".join(("llamacpp", self.resolved.path.name,
                         header_digest(self.resolved.path), decoding, composer))

    @cached_property
    def vocab(self) -> LlamaModel:
        """The tokenizer: the loaded model, or a vocab-only load before that."""
        from hymt_cli.engines.llamacpp_runtime import LlamaModel

        return self.llm or LlamaModel(self.resolved.path, vocab_only=True)

    def count_tokens(self, text: str) -> int:
        """Tokens in `text` with llama.cpp's tokenizer (control-token text counts as
        one token, as in the hf engine's counts and budgets)."""
        return len(self.vocab.tokenize(text, special=True))

    def load(self) -> None:
        """Load the weights and a context once; later calls do nothing."""
        if self.llm is not None:
            return
        from hymt_cli.engines.llamacpp_decode import BatchDecoder
        from hymt_cli.engines.llamacpp_runtime import LlamaModel

        logger.info("loading %s (llama.cpp, %d threads, %d sequences)",
                    self.resolved.path, self.threads, self.batch_size)
        options = self.options
        self.llm = LlamaModel(
            self.resolved.path, n_ctx=options.n_ctx, n_seq=self.batch_size,
            threads=self.threads, kv_type=options.kv_type, flash_attn=options.flash_attn)
        self.__dict__["vocab"] = self.llm  # one tokenizer from now on
        self.decoder = BatchDecoder(self.llm)
        self.stop_ids = self._stop_ids(self.llm)

    @staticmethod
    def _stop_ids(llm: LlamaModel) -> frozenset[int]:
        stops = {llm.eos} if llm.eos >= 0 else set()
        turn_end = llm.single_token(TURN_END_TOKEN)
        if turn_end is not None:
            stops.add(turn_end)
        if not stops:
            raise ValueError("the GGUF vocabulary defines no eos token to stop on")
        return frozenset(stops)

    @cached_property
    def _template(self) -> Any:
        """The compiled chat template (GGUF metadata, else HY-MT's format)."""
        from jinja2.sandbox import ImmutableSandboxedEnvironment

        source = self.vocab.meta("tokenizer.chat_template")
        if not source:
            if self.vocab.single_token(USER) is None:
                raise ValueError(f"{self.resolved.path.name} has no chat template and "
                                 "no HY-MT turn markers")
            source = FALLBACK_TEMPLATE
        env = ImmutableSandboxedEnvironment(  # as transformers renders templates
            trim_blocks=True, lstrip_blocks=True,
            extensions=["jinja2.ext.loopcontrols"])
        env.globals["raise_exception"] = _raise
        return env.from_string(source)

    def encode(self, request: Request) -> list[int]:
        """Prompt ids: the chat template around `prompt_text`. Template markup is
        parsed for control tokens, the user text never (look-alikes stay text)."""
        vocab = self.vocab
        rendered = self._template.render(
            messages=[{"role": "user", "content": _CONTENT}],
            add_generation_prompt=True,
            bos_token=vocab.token_text(vocab.bos) if vocab.bos >= 0 else "",
            eos_token=vocab.token_text(vocab.eos),
        )
        before, found, after = rendered.partition(_CONTENT)
        if not found:
            raise ValueError("the chat template dropped the user message")
        return (vocab.tokenize(before, special=True) + self._user_ids(request)
                + vocab.tokenize(after, special=True))

    def _user_ids(self, request: Request) -> list[int]:
        """The prompt text as plain text; control-token look-alikes are tokenized
        on their own, as transformers' `sanitize_control_tokens` does."""
        ids: list[int] = []
        for piece in self._control_re.split(self.prompt_text(request)):
            if piece:
                ids += self.vocab.tokenize(piece)
        return ids

    @cached_property
    def _control_re(self) -> re.Pattern[str]:
        texts = self.vocab.control_texts
        return re.compile("(" + "|".join(map(re.escape, texts)) + ")" if texts
                          else "(?!)")

    def budget(self, request: Request) -> int:
        """max_new_tokens for `request`: bounded by its source length and the cap."""
        return answer_budget(self.count_tokens(request.text), self.max_new_tokens)

    def generate(self, prompts: list[list[int]], budgets: list[int],
                 sampling: Sampling | None = None) -> list[list[int]]:
        """Generated ids per prompt (stop token excluded), greedy unless `sampling`."""
        self.load()
        assert self.decoder is not None
        self.decoder.observer = self._step
        return self.decoder.generate(prompts, sorted(self.stop_ids), budgets, sampling)

    def _step(self, rows: int) -> None:
        """Each decode: the observer hook, then progress (a token per sampled row)."""
        if self.observer is not None:
            self.observer(rows)
        self.report_tokens(rows)

    def decode_text(self, output: list[int]) -> str:
        """The answer text of generated ids, special tokens dropped."""
        return self.vocab.detokenize(output, skip_special=True)


def _raise(message: str) -> None:
    from jinja2.exceptions import TemplateError

    raise TemplateError(message)
