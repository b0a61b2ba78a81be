"""Run a plan: open the engine and the memory, translate (or check, or count) every
job, write each output, prune.

`translate_inputs` is what `hymt translate` calls. It plans (`plan`), then starts
the engine only when some input needs it; its model loads lazily, on the first
segment the memory cannot answer. `--check` and `--dry-run` never call the
engine: they run the pipeline with a stand-in that carries the real engine's
fingerprint and token counter, so memory keys are the same, and answers come
from the memory alone (read-only). A segment the memory lacks makes a `--check`
output stale; rendering what the memory holds and comparing it with the file on
disk makes the check exact. Failures stay with their file.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, BinaryIO

from hymt_cli import engines
from hymt_cli.engines.base import (
    DEFAULT_BATCH_SIZE,
    Engine,
    EngineBase,
    Request,
    approximate_tokens,
    engine_down,
)
from hymt_cli.errors import FailedError, UsageError
from hymt_cli.fileio import InputError, write_atomic
from hymt_cli.glossary import GlossaryError, load_all
from hymt_cli.memory import Entry, MemoryReadOnlyError, TranslationMemory
from hymt_cli.outcome import Mode, Outcome, Status, Summary, Watcher
from hymt_cli.pipeline import Job, Report, Settings, translate
from hymt_cli.plan import (
    NO_MEMORY_ENGINES,
    Loaded,
    Planned,
    Reporter,
    RunConfig,
    check_config,
    load_all_inputs,
    plan,
)
from hymt_cli.prune import prune

log = logging.getLogger(__name__)

class EngineError(FailedError):
    """The engine could not be started."""


def translate_inputs(
    config: RunConfig, stdin: BinaryIO, stdout: BinaryIO, watcher: Watcher
) -> Summary:
    """Run `config` (translate, check or dry-run); raises `UsageError`/`EngineError`."""
    began = time.monotonic()
    check_config(config)
    glossary_settings = pipeline_settings(config)
    summary = Summary(mode=config.mode)

    def report(outcome: Outcome) -> None:
        summary.outcomes.append(outcome)
        watcher.outcome(outcome)

    planned = plan(config, report)
    loaded = load_all_inputs(planned, config, stdin, report)
    engine = None
    if loaded:
        engine = start_engine(config.engine, dict(config.engine_options))
    if engine is not None or config.prune:
        with open_memory(config, watcher, create=engine is not None) as memory:
            if engine is not None:
                settings = settings_for(glossary_settings, config, engine, memory)
                run_jobs(config, loaded, engine, settings, stdout, report, watcher)
            if config.prune:
                summary.pruned = prune(config, planned, memory, watcher)
    summary.elapsed = time.monotonic() - began
    return summary


def pipeline_settings(config: RunConfig) -> Settings:
    """The pipeline settings of a run (no memory yet); `UsageError` for a glossary."""
    try:
        glossary = load_all(Path(p) for p in config.glossaries)
    except GlossaryError as exc:
        raise UsageError(str(exc)) from None
    return Settings(
        batch_size=config.batch_size,
        context_tokens=config.context_tokens,
        glossary=glossary,
        max_segment_tokens=config.max_segment_tokens,
        gates=config.gates,
        strict=config.strict,
    )


@contextmanager
def open_memory(
    config: RunConfig, watcher: Watcher | None = None, create: bool = True
) -> Iterator[TranslationMemory | None]:
    """The run's memory, opened once; None when off, or not there to read.

    --check and --dry-run open it read-only. A translate run whose memory cannot
    be written uses it read-only and says so once, through `watcher`.
    """
    path = config.memory
    if path is None or config.engine in NO_MEMORY_ENGINES:
        yield None
        return
    if (config.mode != Mode.TRANSLATE or not create) and not path.is_file():
        log.info("no memory at %s: every segment counts as new", path)
        yield None
        return
    note = watcher.note if watcher is not None else log.warning
    memory = _open_for_run(path, config.mode != Mode.TRANSLATE, note)
    try:
        yield memory
    finally:
        if memory is not None:
            memory.close()


def _open_for_run(
    path: Path, readonly: bool, note: Any
) -> TranslationMemory | None:
    """Open the memory; fall back to reading it when it cannot be written."""
    if readonly:
        return TranslationMemory.open(path, readonly=True)
    try:
        memory = TranslationMemory.open(path)
    except MemoryReadOnlyError as exc:
        if not path.is_file():
            note(f"warning: cannot create translation memory {path} ({exc}): "
                 "answers are not stored")
            return None
        memory = TranslationMemory.open(path, readonly=True)
        note(f"warning: translation memory {path} is read-only: its answers are "
             "used, new answers and outputs are not stored")
    memory.notify = lambda text: note(f"warning: {text}")
    return memory


def start_engine(name: str, options: dict[str, Any]) -> engines.Engine:
    """Build engine `name`; it loads its model lazily, on the first batch."""
    try:
        return engines.create(name, **options)
    except UsageError:  # a model not found, an option the engine cannot use
        raise
    except Exception as exc:
        raise EngineError(f"cannot start engine {name!r}: {exc}") from exc


def settings_for(
    base: Settings, config: RunConfig, engine: Engine, memory: TranslationMemory | None
) -> Settings:
    """The run's pipeline settings: batch size and memory. `auto` (None) leaves
    sizing to the engine, asked by the pipeline only when it sends a batch: a run
    the memory answers never does (the hf engine imports torch for it), nor do
    --check and --dry-run, whose stand-in sizes as the default."""
    batch = config.batch_size
    if batch is None and config.mode != Mode.TRANSLATE:
        batch = DEFAULT_BATCH_SIZE
    gates = base.gates
    if config.mode != Mode.TRANSLATE:  # the stand-in answers with the source
        gates = gates - {"untranslated"}
        if memory is not None:
            memory = _ReadOnlyMemory(memory)  # type: ignore[assignment]
    return replace(base, batch_size=batch, memory=memory, gates=gates)


def run_jobs(
    config: RunConfig,
    loaded: list[Loaded],
    engine: Engine,
    settings: Settings,
    stdout: BinaryIO,
    report: Reporter,
    watcher: Watcher,
) -> None:
    """Translate, check or count every job of `loaded`, reporting each outcome."""
    pairs = [(job, item, one) for one in loaded for job, item in one.jobs]
    total = sum(len(job.document.segments()) for job, _, _ in pairs)
    watcher.start(len(pairs), total)
    try:
        if config.mode == Mode.TRANSLATE:
            _translate_jobs(config, pairs, engine, settings, stdout, report, watcher)
        else:
            _examine_jobs(config, pairs, engine, settings, report)
    finally:
        watcher.stop()


def _translate_jobs(
    config: RunConfig, pairs: list[tuple[Job, Planned, Loaded]], engine: Engine,
    settings: Settings, stdout: BinaryIO, report: Reporter, watcher: Watcher,
) -> None:
    """Translate every job, writing and reporting each output as it is done."""
    observed = _Observed(engine, watcher)
    try:
        results = _translate_all([job for job, _, _ in pairs], observed, settings)
        for (job, item, one), result in zip(pairs, results):
            report(_finish(job, one, item, result, stdout, config, settings.memory))
    finally:
        observed.close()


def _examine_jobs(
    config: RunConfig, pairs: list[tuple[Job, Planned, Loaded]], engine: Engine,
    settings: Settings, report: Reporter,
) -> None:
    """Check or count every job against the memory alone."""
    free = config.engine in NO_MEMORY_ENGINES  # cheap: run it instead of memory
    stand_in = _StandIn(engine)
    for job, item, one in pairs:
        report(_examine(job, one, item, engine if free else stand_in, stand_in.asked,
                        settings, config.mode))


# -- translating -------------------------------------------------------------------

Result = tuple[str, Report] | BaseException


def _translate_all(
    jobs: list[Job], engine: Engine, settings: Settings
) -> Iterator[Result]:
    """Each job's text and report, in order, as soon as it is done; documents share
    engine batches. If the engine fails, the documents not yet finished are
    retried one at a time, so an exception stays with the document that caused it
    (unless the engine is down: then all of them fail with it)."""
    done = 0
    try:
        for _, text, report in translate(jobs, engine, settings):
            done += 1
            yield text, report
    except Exception as exc:
        if engine_down(exc):  # every other document would fail the same way
            yield from itertools.repeat(exc, len(jobs) - done)
            return
        log.debug("a shared batch failed; retrying documents one by one", exc_info=True)
    for job in jobs[done:]:
        yield _translate_alone(job, engine, settings)


def _translate_alone(job: Job, engine: Engine, settings: Settings) -> Result:
    try:
        _, text, report = next(translate([job], engine, settings))
    except Exception as exc:
        log.debug("translating %s failed", job.name, exc_info=True)
        return exc
    return text, report


def _finish(
    job: Job, loaded: Loaded, item: Planned, result: Result, stdout: BinaryIO,
    config: RunConfig, memory: TranslationMemory | None = None,
) -> Outcome:
    """Encode and write one translated document, recording it in `memory` (for
    --prune); failures stay with this file."""
    code = job.target.code
    if isinstance(result, BaseException):
        error = InputError(job.name, f"translation failed: {result}")
        return Outcome(job.name, Status.FAILED, error=error, cause=result, target=code)
    text, report = result
    try:
        if config.strict_glossary and report.glossary_misses:
            raise _strict_error(job, report)
        if config.strict and report.gate_failures:
            raise _gate_error(job, report)
        data = encode(job, loaded, text)
        if item.output is None:
            stdout.write(data)
            stdout.flush()
            return Outcome(job.name, Status.STDOUT, report=report, target=code)
        status = _write(job.name, item.output, data)
        if memory is not None and item.source.path is not None:
            memory.record_output(item.output, item.source.path, code, data)
        return Outcome(job.name, status, str(item.output), report, target=code)
    except InputError as error:
        return Outcome(job.name, Status.FAILED, str(item.output or ""), report, error,
                       target=code)


def _strict_error(job: Job, report: Report) -> InputError:
    return _not_written(job, report.glossary_misses, "glossary term(s) not used", "",
                        "fix the glossary or the source, or drop --strict-glossary")


def _gate_error(job: Job, report: Report) -> InputError:
    return _not_written(job, report.gate_failures, "segment(s) failed an answer check",
                        " even after retry and fallback",
                        "see --verbose for each rejection, or drop --strict")


def _not_written(
    job: Job, problems: list[str], what: str, when: str, hint: str
) -> InputError:
    """The error of a document a strict setting keeps from being written."""
    return InputError(job.name, f"{len(problems)} {what} in {job.target.code}{when} "
                      f"(first: {problems[0]}); not written", hint)


def encode(job: Job, loaded: Loaded, text: str) -> bytes:
    """The bytes of a translated document, in its source's encoding."""
    decoded = loaded.decoded
    try:
        return decoded.encode(text)
    except UnicodeEncodeError as exc:
        if job.document.format == "html":
            return decoded.encode(text, "xmlcharrefreplace")
        raise InputError(
            job.name,
            f"the translation has characters {decoded.encoding} cannot encode "
            f"(first: {exc.object[exc.start]!r})",
            "convert the source to UTF-8 first",
        ) from exc


def _write(name: str, output: Path, data: bytes) -> str:
    try:
        return Status.WROTE if write_atomic(output, data) else Status.UNCHANGED
    except OSError as exc:
        raise InputError(name, f"cannot write {output}: {exc.strerror or exc}") from exc


# -- checking and counting -----------------------------------------------------------


def _examine(
    job: Job, loaded: Loaded, item: Planned, engine: Engine, asked: list[int],
    settings: Settings, mode: Mode,
) -> Outcome:
    """Render `job` from memory alone: its --check status, or its --dry-run counts
    (`asked`: token counts the stand-in `engine` notes; empty for a free engine)."""
    assert item.output is not None
    code, output = job.target.code, str(item.output)
    asked.clear()
    unchecked = replace(settings, check_structure=False)
    _, text, report = next(translate([job], engine, unchecked))
    pending, tokens = len(asked), sum(asked)
    if mode == Mode.DRY_RUN:
        return Outcome(job.name, Status.PLANNED, output, report, target=code,
                       pending=pending, tokens=tokens)
    if pending:
        status = Status.STALE if item.output.exists() else Status.MISSING
    else:
        status = _compare(job, loaded, item.output, text)
    if status == Status.STALE and not pending:
        # a file written after the structure check kept some source text: check
        # too (only here, so an unchanged site costs no structure checks)
        _, text, report = next(translate([job], engine, settings))
        status = _compare(job, loaded, item.output, text)
    return Outcome(job.name, status, output, report, target=code, pending=pending)


def _compare(job: Job, loaded: Loaded, output: Path, text: str) -> str:
    """current when the file holds exactly the rendering, else stale or missing."""
    try:
        data = encode(job, loaded, text)
    except InputError:
        return Status.STALE
    try:
        return Status.CURRENT if output.read_bytes() == data else Status.STALE
    except FileNotFoundError:
        return Status.MISSING
    except OSError:
        return Status.STALE


class _Delegate(EngineBase):
    """An engine that answers for `engine` with its identity: name, fingerprint,
    token counts and batch size are the real engine's."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.name = engine.name

    @property
    def fingerprint(self) -> str:
        """The real engine's fingerprint (memory keys stay the same)."""
        return self.engine.fingerprint

    @property
    def batch_size(self) -> int:  # type: ignore[override]
        """The real engine's batch size."""
        return self.engine.batch_size

    def count_tokens(self, text: str) -> int:
        """Tokens as the real engine counts them."""
        return self.engine.count_tokens(text)


class _StandIn(_Delegate):
    """The real engine's identity (fingerprint, tokenizer) without its model.

    Asked to translate, it notes each request's token count and answers with the
    source text, so the rest of the document still renders.
    """

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        self.asked: list[int] = []
        """Token counts of the requests asked since the last `clear()`."""

    def translate_batch(self, requests: Sequence[Request]) -> list[str]:
        """Note what would have to be translated; answer with the source text."""
        if all(r.attempt == 0 for r in requests):
            self.asked.extend(self.count_tokens(r.text) for r in requests)
        return [r.text for r in requests]


class _ReadOnlyMemory:
    """A memory that answers lookups and ignores stores (--check, --dry-run)."""

    def __init__(self, memory: TranslationMemory) -> None:
        self._memory = memory

    def lookup(self, keys: Sequence[str]) -> dict[str, str]:
        """Delegate to the real memory."""
        return self._memory.lookup(keys)

    def lookup_imported(
        self, target_lang: str, texts: Sequence[str], source_lang: str | None = None
    ) -> dict[str, str]:
        """Delegate to the real memory."""
        return self._memory.lookup_imported(target_lang, texts, source_lang)

    def store(self, entries: Sequence[Entry]) -> None:
        """Store nothing."""


class _Observed(_Delegate):
    """An engine that tells the watcher about every batch it answers, and routes
    the real engine's per-step token reports (`on_tokens`) to the watcher."""

    def __init__(self, engine: Engine, watcher: Watcher) -> None:
        super().__init__(engine)
        self._watcher = watcher
        engine.on_tokens = watcher.generating

    def translate_batch(self, requests: Sequence[Request]) -> list[str]:
        """Translate through the real engine, then report the batch (first tries
        only: a retry answers a segment already counted)."""
        answers = self.engine.translate_batch(requests)
        first = [r for r in requests if r.attempt == 0]
        self._watcher.advance(len(first), sum(approximate_tokens(r.text) for r in first))
        return answers

    def close(self) -> None:
        """Detach the watcher from the real engine."""
        self.engine.on_tokens = None


# -- pruning -------------------------------------------------------------------------
