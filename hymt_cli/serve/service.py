"""Translate one service request through the library, as `hymt translate` would.

A request's document is segmented by the format's adapter, translated by
`pipeline.translate` (context, glossary, memory, validation, gates, fallback,
structure check) with a `BatchingEngine`, and rendered; a file comes back in
its own encoding. `Service` owns what requests share: the engine behind the
`Batcher`, the memory, the server's glossary and settings, the metrics and the
admission count. Failures are `ServiceError`s carrying their HTTP status; this
module knows no web framework.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import PurePath

from hymt_cli import settings as settings_table
from hymt_cli.document import Document
from hymt_cli.documents import SegmentOptions, format_for_path, segment, with_dialect
from hymt_cli.documents.dialects import get_dialect
from hymt_cli.engines.base import engine_down
from hymt_cli.errors import HymtError
from hymt_cli.fileio import Decoded, InputError, decode
from hymt_cli.glossary import Glossary, GlossaryError, Term, parse
from hymt_cli.languages import Language, UnknownLanguage, resolve
from hymt_cli.pipeline import Job, Report, Settings, translate_document
from hymt_cli.plan import Loaded
from hymt_cli.run import encode, pipeline_settings, start_engine
from hymt_cli.serve.batcher import (
    Batcher,
    BatchingEngine,
    DeadlineExceeded,
    EngineUnavailable,
)
from hymt_cli.serve.metrics import Metrics
from hymt_cli.serve.options import ServeConfig
from hymt_cli.serve.shared_memory import SharedMemory

FORMATS = {"text": "txt", "txt": "txt", "markdown": "md", "md": "md", "html": "html"}
"""Request format names (HY-MT's `text`, and hymt's own) -> adapter names."""

RETRY_AFTER_S = 1
"""What a 503 for a full queue tells the client to wait, in seconds."""


class ServiceError(Exception):
    """A request that cannot be answered: one-line message, HTTP status, hint."""

    def __init__(self, status: int, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.status, self.hint = status, hint


def bad_request(message: str, hint: str = "") -> ServiceError:
    """422: the request is well-formed but its content cannot be used."""
    return ServiceError(422, message, hint)


@dataclass(frozen=True, slots=True)
class DocumentRequest:
    """One document to translate, as a client sent it (strings not yet checked)."""

    text: str
    target_lang: str
    source_lang: str | None = None
    context: str = ""
    glossary: Mapping[str, str] | None = None
    format: str = "text"
    dialect: str | None = None
    name: str = "request"
    """How messages name it (an upload's file name)."""


@dataclass(frozen=True, slots=True)
class Translated:
    """A translated document and what happened to it."""

    text: str
    report: Report
    target: Language
    source: Language | None
    format: str
    engine_calls: int
    """Engine calls the request's segments took part in (0: all from memory)."""


class Service:
    """What every request shares; `Service.start(config)`, then `close()`."""

    def __init__(self, config: ServeConfig, batcher: Batcher, base: Settings,
                 memory: SharedMemory | None, metrics: Metrics) -> None:
        self.config, self.batcher, self.metrics = config, batcher, metrics
        self.memory = memory
        self.settings = replace(base, memory=memory)  # type: ignore[arg-type]
        self._in_flight = 0
        self._lock = threading.Lock()
        self.pool = ThreadPoolExecutor(config.queue_size,
                                       thread_name_prefix="hymt-request")
        """Where requests run their pipelines: one thread per admitted request."""
        metrics.pending.read = batcher.pending

    @classmethod
    def start(cls, config: ServeConfig) -> Service:
        """Build the engine, read the glossaries, open the memory and start the
        batcher (which loads the model); `HymtError` for a bad setting."""
        run = config.run
        base = pipeline_settings(run)
        engine = start_engine(run.engine, dict(run.engine_options))
        metrics = Metrics()
        engine.on_tokens = lambda tokens: metrics.tokens.inc(tokens)
        memory = SharedMemory.open(run)
        batcher = Batcher(engine, config.batch_wait_ms / 1000, metrics, run.batch_size)
        batcher.start()
        return cls(config, batcher, base, memory, metrics)

    def close(self) -> None:
        """Stop the batcher (requests still waiting fail), then the request
        threads, and close the memory."""
        self.batcher.stop()
        self.pool.shutdown(wait=True, cancel_futures=True)
        if self.memory is not None:
            self.memory.close()

    def admit(self) -> None:
        """Count a translate request in; 503 when the queue is full (a client
        should retry after `RETRY_AFTER_S`). Each admission needs a `release`."""
        with self._lock:
            if self._in_flight >= self.config.queue_size:
                raise ServiceError(503, f"the service is busy ({self._in_flight} "
                                   "requests in progress); retry shortly")
            self._in_flight += 1
            self.metrics.queue_depth.set(self._in_flight)

    def release(self) -> None:
        """Count a finished translate request out (once its thread is done)."""
        with self._lock:
            self._in_flight -= 1
            self.metrics.queue_depth.set(self._in_flight)

    @property
    def in_flight(self) -> int:
        """Translate requests admitted and not yet finished."""
        return self._in_flight

    def deadline(self) -> float:
        """The `time.monotonic()` by which a request starting now must finish."""
        return time.monotonic() + self.config.timeout

    def translate(self, request: DocumentRequest, deadline: float) -> Translated:
        """Translate one document request; `ServiceError` when it cannot be."""
        target = language(request.target_lang, "target_lang")
        source = (language(request.source_lang, "source_lang") if request.source_lang
                  else self.config.run.source)
        format_name = adapter_name(request.format)
        document = self.segmented(request, format_name)
        engine = BatchingEngine(self.batcher, deadline)
        job = Job(request.name, document, target, source, context=request.context)
        settings = replace(self.settings, glossary=self.glossary_for(request.glossary))
        try:
            text, report = translate_document(job, engine, settings)
        except DeadlineExceeded:
            raise ServiceError(504, f"the translation took longer than "
                               f"{self.config.timeout:g} s") from None
        except EngineUnavailable as exc:
            raise ServiceError(503, str(exc)) from None
        except Exception as exc:
            if engine_down(exc):  # an inference server gone: the client may retry
                raise ServiceError(503, f"the engine cannot answer: {exc}") from None
            raise
        self.refuse_strict(report)
        self.metrics.segments.inc(report.segments)
        self.metrics.from_memory.inc(report.from_memory)
        return Translated(text, report, target, source, format_name, engine.calls)

    def translate_file(
        self, name: str, data: bytes, request: DocumentRequest, deadline: float
    ) -> tuple[Translated, bytes, str]:
        """Translate an uploaded file; its bytes come back in the upload's
        encoding (and byte-order mark), which is returned too."""
        decoded = decode_upload(name, data)
        request = replace(request, text=decoded.text, name=name)
        translated = self.translate(request, deadline)
        job = Job(name, Document((), translated.format), translated.target)
        try:
            data = encode(job, Loaded(decoded, ()), translated.text)
        except InputError as error:
            raise bad_request(_input_message(error), error.hint) from None
        return translated, data, decoded.encoding

    def segmented(self, request: DocumentRequest, format_name: str) -> Document:
        """The request's document; 413 past the segment limit."""
        options = self.segment_options(request, format_name)
        try:
            document = segment(request.text, format_name, options)
        except HymtError as exc:
            raise bad_request(str(exc), exc.hint) from None
        except Exception as exc:  # as `hymt translate` treats an adapter failure
            raise bad_request(f"{request.name}: cannot parse: {exc}") from None
        count = len(document.segments())
        if count > self.config.max_segments:
            raise ServiceError(413, f"the document has {count} segments; this "
                               f"service takes at most {self.config.max_segments}",
                               "split the document, or raise --max-segments")
        return document

    def segment_options(self, request: DocumentRequest, format_name: str
                        ) -> SegmentOptions:
        """The run's segmenting options with the request's Markdown dialect."""
        name = request.dialect or self.config.run.dialect
        try:
            name = settings_table.dialect_name(name)
        except HymtError as exc:
            raise bad_request(str(exc)) from None
        if name == "auto" and format_name == "md":
            # never look at the server's files: an upload's name is only a name
            mdx = PurePath(request.name).suffix.lower() == ".mdx"
            return replace(self.config.run.options,
                           dialect=get_dialect("mdx" if mdx else "commonmark"))
        return with_dialect(self.config.run.options, name, None, None)[0]

    def glossary_for(self, terms: Mapping[str, str] | None) -> Glossary:
        """The server's glossary plus the request's terms, which win over server
        terms with the same source."""
        if not terms:
            return self.settings.glossary
        for source, target in terms.items():
            if not source.strip() or not target.strip():
                raise bad_request(f"glossary term {source!r} -> {target!r}: "
                                  "both must be non-empty")
        mine = {source.casefold() for source in terms}
        kept = tuple(t for t in self.settings.glossary.terms
                     if t.source.casefold() not in mine)
        return Glossary(kept + tuple(Term(s, t) for s, t in terms.items()))

    def refuse_strict(self, report: Report) -> None:
        """422 for a document `--strict-glossary` or `--strict` refuses."""
        run = self.config.run
        if run.strict_glossary and report.glossary_misses:
            raise bad_request(f"{len(report.glossary_misses)} glossary term(s) not "
                              f"used (first: {report.glossary_misses[0]})",
                              "the service runs with --strict-glossary")
        if run.strict and report.gate_failures:
            raise bad_request(f"{len(report.gate_failures)} segment(s) failed an "
                              f"answer check (first: {report.gate_failures[0]})",
                              "the service runs with --strict")


def language(code: str, field: str) -> Language:
    """A language from a code or alias; 422 listing the supported ones."""
    try:
        return resolve(code)
    except UnknownLanguage as exc:
        raise bad_request(f"{field}: {exc}", "GET /languages lists them") from None


def adapter_name(name: str) -> str:
    """The adapter of a request format; 422 for an unknown one."""
    try:
        return FORMATS[name.strip().lower()]
    except KeyError:
        raise bad_request(f"unknown format {name!r} (known: text, markdown, "
                          "html)") from None


def upload_format(name: str, given: str | None) -> str:
    """An upload's format: as given, else from its file name's suffix."""
    if given:
        return given
    found = format_for_path(PurePath(name))
    if found is None:
        raise bad_request(f"{name}: unknown document type",
                          "name the file .md, .html or .txt, or send a format field")
    return found


def decode_upload(name: str, data: bytes) -> Decoded:
    """An upload's text (UTF-8 unless a byte-order mark says otherwise); 422 for
    an empty, binary or undecodable file."""
    try:
        return decode(name, data)
    except InputError as error:
        raise bad_request(_input_message(error), error.hint) from None


def parse_glossary(name: str, text: str, target: Language | None = None,
                   source: Language | None = None) -> dict[str, str]:
    """An uploaded glossary's terms, read by hymt's rules, as HY-MT's dict (narrowed
    to `target`/`source` when given); 422 for a malformed file."""
    try:
        glossary = parse(PurePath(PurePath(name).name or "glossary.tsv"), text)
    except GlossaryError as exc:
        raise bad_request(str(exc)) from None
    if target is not None:
        glossary = glossary.for_languages(target, source)
    return {term.source: term.target for term in glossary.terms}


def output_name(name: str, target: Language) -> str:
    """The translated file's name: `guide.md` -> `guide.de.md`."""
    path = PurePath(PurePath(name).name or "document.txt")
    return f"{path.stem}.{target.code}{path.suffix}"


def _input_message(error: InputError) -> str:
    return f"{error.path}: {error.problem}"
