"""Typed options of the built-in engines, checked by `engines.create` before any
model work: an option an engine cannot use is a usage error, not a silent no-op."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from hymt_cli.engines.base import DEFAULT_MAX_NEW_TOKENS
from hymt_cli.errors import UsageError
from hymt_cli.models import DEFAULT_GGUF_MODEL, DEFAULT_MODEL

if TYPE_CHECKING:
    from hymt_cli.prompts import Composer


@dataclass(frozen=True, slots=True)
class NoOptions:
    """Engines that take no options (identity, pseudo)."""


@dataclass(frozen=True)
class ChatOptions:
    """What every HY-MT chat engine takes."""

    model: str = DEFAULT_MODEL
    sampling: bool = False
    """HY-MT's sampling on every attempt; otherwise greedy, sampling on retries."""
    seed: int | None = None
    batch_size: int | None = None
    """None: the engine sizes its own batches."""
    max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS
    threads: int | None = None
    template: str = "auto"
    compose: Composer | None = None
    """Overrides the template choice (tests, plug-ins)."""
    offline: bool = False
    """Never download: a model missing from the cache is an error."""


@dataclass(frozen=True)
class HFOptions(ChatOptions):
    """The `hf` engine: a transformers checkpoint on a torch device."""

    device: str = "auto"
    dtype: str = "auto"
    attn_implementation: str | None = None


@dataclass(frozen=True)
class LlamaCppOptions(ChatOptions):
    """The `llamacpp` engine: a GGUF file on the CPU."""

    model: str = DEFAULT_GGUF_MODEL
    gguf_file: str | None = None
    n_ctx: int = 8192
    kv_type: str = "f16"
    flash_attn: str = "auto"
    device: str = "cpu"
    """Only `cpu` (or `auto`): llama.cpp here runs on the CPU."""

    def __post_init__(self) -> None:
        if self.device not in ("auto", "cpu"):
            raise UsageError(f"the llamacpp engine runs on the CPU, not {self.device!r}",
                             "drop --device, or use --engine hf")
