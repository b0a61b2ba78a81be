"""The engine protocol and registry: one small interface every engine implements."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from typing import Any, Protocol

from hymt_cli.errors import UsageError
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


DEFAULT_BATCH_SIZE = 16
"""Segments per engine call when neither the user nor the engine sizes batches."""


def approximate_tokens(text: str) -> int:
    """A tokenizer-free estimate: about one token per 4 characters (or CJK char)."""
    wide = sum(1 for ch in text if ord(ch) > 0x2E80)
    return wide + (len(text) - wide + 3) // 4


TokenSink = Callable[[int], None]
"""Receives the number of tokens an engine generated in one decode step."""


class Engine(Protocol):
    """Translates batches of requests; results come back in request order."""

    name: str
    on_tokens: TokenSink | None
    """Set by the run for progress; an engine that generates step by step calls it
    with each step's new tokens, during `translate_batch`. Others ignore it."""

    @property
    def fingerprint(self) -> str:
        """Everything about the engine that shapes its answers (memory keys)."""
        ...

    @property
    def batch_size(self) -> int:
        """The engine's own batch size (`--batch-size auto`); known before loading."""
        ...

    def count_tokens(self, text: str) -> int:
        """Tokens in `text` as the engine counts them (context and split budgets)."""
        ...

    def translate_batch(self, requests: Sequence[Request]) -> list[str]:
        """Translate every request; one string per request, tags kept."""
        ...


class EngineBase:
    """Defaults for the `Engine` protocol: fingerprint = name, estimated tokens,
    DEFAULT_BATCH_SIZE. Built-in engines and plug-ins subclass it."""

    name: str = "engine"
    batch_size: int = DEFAULT_BATCH_SIZE
    on_tokens: TokenSink | None = None

    def report_tokens(self, tokens: int) -> None:
        """Tell `on_tokens`, if set, about `tokens` newly generated tokens."""
        if self.on_tokens is not None:
            self.on_tokens(tokens)

    @property
    def fingerprint(self) -> str:
        """The engine's name: its answers depend on nothing else."""
        return self.name

    def count_tokens(self, text: str) -> int:
        """A tokenizer-free estimate (see `approximate_tokens`)."""
        return approximate_tokens(text)

    def translate_batch(self, requests: Sequence[Request]) -> list[str]:
        """Translate every request; one string per request, tags kept."""
        raise NotImplementedError


class EngineDown(RuntimeError):
    """The engine cannot answer anything now (a server gone, a key refused): the
    run fails its remaining documents at once instead of retrying each."""


def engine_down(exc: BaseException) -> bool:
    """Whether `exc` (or what it wraps) says the engine is down."""
    return isinstance(exc, EngineDown) or isinstance(exc.__cause__, EngineDown)


class PartialAnswers(RuntimeError):
    """An engine failed part way through a batch: `answers` holds the answers it
    got (None where it has none), so the pipeline can keep them (the translation
    memory stores them and a rerun resumes); the failure is `__cause__`."""

    def __init__(self, answers: list[str | None], cause: BaseException) -> None:
        super().__init__(str(cause))
        self.answers = answers
        self.__cause__ = cause


EngineFactory = Callable[..., Engine]
RUN_OPTIONS = frozenset({"batch_size", "offline"})
"""Run-wide options: passed to engines that take them, dropped for the others."""
_REGISTRY: dict[str, EngineFactory] = {}
_OPTIONS: dict[str, type] = {}


def register(name: str, factory: EngineFactory, options: type | None = None) -> None:
    """Make engine `name` available: `factory(options(**given))` when it has a typed
    `options` dataclass (checked by `create`), else `factory(**given)` (plug-ins)."""
    _REGISTRY[name] = factory
    if options is None:
        _OPTIONS.pop(name, None)
    else:
        _OPTIONS[name] = options


def engine_names() -> list[str]:
    """Names of the registered engines."""
    return sorted(_REGISTRY)


def create(name: str, **options: Any) -> Engine:
    """Build the engine registered as `name`; `UsageError` for an option it cannot
    use, `ValueError` for an unknown engine."""
    try:
        factory = _REGISTRY[name]
    except KeyError:
        known = ", ".join(engine_names())
        raise ValueError(f"unknown engine {name!r} (known: {known})") from None
    if name not in _OPTIONS:
        return factory(**options)
    return factory(typed_options(name, _OPTIONS[name], options))


def typed_options(name: str, kind: type, given: dict[str, Any]) -> Any:
    """`kind(**given)` without run-wide options `kind` lacks; `UsageError` for any
    other option `kind` has no field for."""
    known = {f.name for f in fields(kind)}
    for key in given:
        if key not in known and key not in RUN_OPTIONS:
            raise UsageError(f"the {name} engine takes no option {key!r}",
                             f"drop the {key} setting or choose another engine")
    return kind(**{k: v for k, v in given.items() if k in known})
