"""A GGUF model in llama.cpp through llama-cpp-python's low-level C API.

Owns the model, vocabulary and (unless `vocab_only`) one context with a unified
KV cache shared by up to `n_seq` sequences. Imports llama_cpp: only engines and
tests import this module, never the CLI at start-up.
"""

from __future__ import annotations

import ctypes
import logging
from functools import cached_property
from pathlib import Path
from typing import Any

import llama_cpp

logger = logging.getLogger(__name__)

KV_TYPES = {"f16": llama_cpp.GGML_TYPE_F16, "f32": llama_cpp.GGML_TYPE_F32}
FLASH_ATTN = {"auto": llama_cpp.LLAMA_FLASH_ATTN_TYPE_AUTO,
              "on": llama_cpp.LLAMA_FLASH_ATTN_TYPE_ENABLED,
              "off": llama_cpp.LLAMA_FLASH_ATTN_TYPE_DISABLED}
_LOG_LEVELS = {2: logging.INFO, 3: logging.WARNING, 4: logging.ERROR}
"""ggml_log_level values (1 debug, 5 continuation) as logging levels."""


@llama_cpp.llama_log_callback
def _log(level: int, text: bytes, _user: ctypes.c_void_p) -> None:
    # llama.cpp logs every tensor at load; keep warnings and errors only.
    if _LOG_LEVELS.get(level, logging.DEBUG) >= logging.WARNING:
        logger.warning("llama.cpp: %s", text.decode("utf-8", "replace").rstrip())


_BACKEND: list[bool] = []


def init_backend() -> None:
    """Route llama.cpp's log to this module's logger and start its backend once."""
    if not _BACKEND:
        llama_cpp.llama_log_set(_log, ctypes.c_void_p(0))
        llama_cpp.llama_backend_init()
        _BACKEND.append(True)


class LlamaModel:
    """Model, vocabulary and an optional batched-decoding context."""

    def __init__(
        self,
        path: Path,
        *,
        vocab_only: bool = False,
        n_ctx: int = 8192,
        n_seq: int = 8,
        n_batch: int = 512,
        threads: int = 1,
        kv_type: str = "f16",
        flash_attn: str = "auto",
    ) -> None:
        init_backend()
        params = llama_cpp.llama_model_default_params()
        params.vocab_only = vocab_only
        params.n_gpu_layers = 0
        self.model = llama_cpp.llama_model_load_from_file(str(path).encode(), params)
        if not self.model:
            raise RuntimeError(f"llama.cpp could not load {path}")
        self.vocab = llama_cpp.llama_model_get_vocab(self.model)
        self.n_vocab = llama_cpp.llama_vocab_n_tokens(self.vocab)
        self.ctx: Any = None
        self.n_ctx, self.n_seq, self.n_batch = n_ctx, n_seq, n_batch
        if not vocab_only:
            self.ctx = self._context(threads, kv_type, flash_attn)
            self.memory = llama_cpp.llama_get_memory(self.ctx)

    def _context(self, threads: int, kv_type: str, flash_attn: str) -> Any:
        params = llama_cpp.llama_context_default_params()
        params.n_ctx = self.n_ctx
        params.n_batch = params.n_ubatch = self.n_batch
        params.n_seq_max = self.n_seq
        params.n_threads = params.n_threads_batch = threads
        params.type_k = params.type_v = KV_TYPES[kv_type]
        params.flash_attn_type = FLASH_ATTN[flash_attn]
        params.kv_unified = True  # one cell pool: freed cells serve any sequence
        params.no_perf = True
        ctx = llama_cpp.llama_init_from_model(self.model, params)
        if not ctx:
            raise RuntimeError("llama.cpp could not create a context")
        return ctx

    def close(self) -> None:
        """Free the context and the model (also done on garbage collection)."""
        if getattr(self, "ctx", None):
            llama_cpp.llama_free(self.ctx)
            self.ctx = None
        if getattr(self, "model", None):
            llama_cpp.llama_model_free(self.model)
            self.model = None

    def __del__(self) -> None:
        try:
            self.close()
        except (AttributeError, TypeError):  # interpreter shutdown: modules gone
            pass

    def meta(self, key: str) -> str | None:
        """A GGUF metadata string such as `tokenizer.chat_template`, or None."""
        size = 1 << 12
        while True:
            buffer = ctypes.create_string_buffer(size)
            length = llama_cpp.llama_model_meta_val_str(
                self.model, key.encode(), buffer, size)
            if length < 0:
                return None
            if length < size:
                return buffer.value.decode("utf-8")
            size = length + 1

    def tokenize(self, text: str, special: bool = False) -> list[int]:
        """Token ids of `text`; control-token text is parsed only when `special`."""
        data = text.encode("utf-8")
        size = len(data) + 8
        tokens = (llama_cpp.llama_token * size)()
        count = llama_cpp.llama_tokenize(self.vocab, data, len(data), tokens, size,
                                         False, special)
        if count < 0:
            raise RuntimeError(f"llama.cpp failed to tokenize {len(data)} bytes")
        return list(tokens[:count])

    def detokenize(self, ids: list[int], skip_special: bool = True) -> str:
        """Text of `ids`; special tokens dropped when `skip_special`."""
        if not ids:
            return ""
        tokens = (llama_cpp.llama_token * len(ids))(*ids)
        size = 16 * len(ids) + 16
        while True:
            buffer = ctypes.create_string_buffer(size)
            count = llama_cpp.llama_detokenize(self.vocab, tokens, len(ids), buffer,
                                               size, skip_special, False)
            if count >= 0:
                return buffer.raw[:count].decode("utf-8", "replace")
            size = -count + 1

    def token_text(self, token: int) -> str:
        """The vocabulary entry of `token`."""
        return llama_cpp.llama_vocab_get_text(self.vocab, token).decode("utf-8")

    @cached_property
    def control_texts(self) -> tuple[str, ...]:
        """Texts of the vocabulary's control tokens, longest first."""
        texts = {self.token_text(i) for i in range(self.n_vocab)
                 if llama_cpp.llama_vocab_is_control(self.vocab, i)}
        return tuple(sorted(texts - {""}, key=len, reverse=True))

    def single_token(self, text: str) -> int | None:
        """The id of control token `text`, or None when the vocabulary lacks it."""
        ids = self.tokenize(text, special=True)
        if len(ids) == 1 and llama_cpp.llama_vocab_is_control(self.vocab, ids[0]):
            return ids[0]
        return None

    @property
    def eos(self) -> int:
        """The vocabulary's eos id."""
        return int(llama_cpp.llama_vocab_eos(self.vocab))

    @property
    def bos(self) -> int:
        """The vocabulary's bos id (-1 when none)."""
        return int(llama_cpp.llama_vocab_bos(self.vocab))
