"""The engine protocol and registry: one small interface every engine implements."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from hymt_cli.languages import Language


@dataclass(frozen=True, slots=True)
class Request:
    """One segment to translate, with everything its prompt may need."""

    text: str
    """Plain text with `<sN>…</sN>` format tags."""
    target: Language
    """The language to translate into."""
    source: Language | None = None
    """The source language when known (it only selects the prompt template)."""
    context: str = ""
    """Preceding source text of the same document; never part of the answer."""
    terms: tuple[tuple[str, str], ...] = ()
    """Glossary entries (source term, target term) found in `text`."""
    kind: str = "paragraph"
    """The segment kind (heading, alt, ...), for engines that care."""
    attempt: int = 0
    """0 for the first try; a retry after a rejected answer counts up (an engine
    may then vary its decoding)."""


DEFAULT_MAX_NEW_TOKENS = 2048
"""Hard cap on generated tokens per segment (HY-MT's README examples use 2048)."""


def answer_budget(source_tokens: int, cap: int = DEFAULT_MAX_NEW_TOKENS) -> int:
    """max_new_tokens for a segment: translations rarely run past twice the source;
    32 tokens of slack cover `<target>` markup. Bounds the KV cache per row."""
    return max(1, min(cap, 2 * source_tokens + 32))


@dataclass(frozen=True, slots=True)
class Sampling:
    """HY-MT's recommended sampling settings (README of HY-MT1.5), for any engine."""

    top_k: int = 20
    top_p: float = 0.6
    temperature: float = 0.7
    repetition_penalty: float = 1.05
    seed: int | None = None


class Engine(Protocol):
    """Translates batches of requests; results come back in request order."""

    name: str

    def translate_batch(self, requests: Sequence[Request]) -> list[str]:
        """Translate every request; one string per request, tags kept."""
        ...


EngineFactory = Callable[..., Engine]
_REGISTRY: dict[str, EngineFactory] = {}


def register(name: str, factory: EngineFactory) -> None:
    """Make `factory(**options)` available as engine `name` (plug-ins use this too)."""
    _REGISTRY[name] = factory


def engine_names() -> list[str]:
    """Names of the registered engines."""
    return sorted(_REGISTRY)


def create(name: str, **options: Any) -> Engine:
    """Build the engine registered as `name`."""
    try:
        factory = _REGISTRY[name]
    except KeyError:
        known = ", ".join(engine_names())
        raise ValueError(f"unknown engine {name!r} (known: {known})") from None
    return factory(**options)
