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


DEFAULT_CONCURRENCY = 64
"""Requests in flight to inference servers: enough to fill a vLLM batch."""
DEFAULT_REQUEST_TIMEOUT_S = 300.0
"""Seconds one server request may take before it is retried."""


@dataclass(frozen=True)
class OpenAIOptions(ChatOptions):
    """The `openai` engine: OpenAI-compatible inference servers."""

    model: str | None = None  # type: ignore[assignment]
    """The served model id (aliases expanded); None: the server's only model."""
    base_url: tuple[str, ...] = ()
    """One URL per replica, e.g. `http://gpu1:8000/v1`; requests go round-robin."""
    concurrency: int = DEFAULT_CONCURRENCY
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT_S

    def __post_init__(self) -> None:
        if not self.base_url:
            raise UsageError("the openai engine needs a server: pass --base-url "
                             "(or set base_url in hymt.toml, or HYMT_BASE_URL)")
        for url in self.base_url:
            if not url.startswith(("http://", "https://")):
                raise UsageError(f"--base-url {url!r} is not an http(s) URL",
                                 "e.g. --base-url http://localhost:8000/v1")
