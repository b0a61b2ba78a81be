"""The three things a run does with its loaded inputs: translate, check, dry-run.

`--check` and `--dry-run` never call the engine: they run the pipeline with a
stand-in that carries the real engine's fingerprint and token counter, so memory
keys are the same, and answers come from the memory alone (read-only). A segment
the memory lacks makes a `--check` output stale; rendering what the memory holds
and comparing it with the file on disk makes the check exact.
"""

from __future__ import annotations

import fnmatch
import hashlib
import logging
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import BinaryIO

from hymt_cli.engines.base import (
    DEFAULT_BATCH_SIZE,
    Engine,
    EngineBase,
    Request,
    approximate_tokens,
)
from hymt_cli.fileio import (
    DEFAULT_PATTERN,
    SKIPPED_DIRS,
    InputError,
    has_magic,
    pattern_base,
    pattern_regex,
    source_candidates,
    write_atomic,
)
from hymt_cli.memory import Entry, OutputRecord, TranslationMemory
from hymt_cli.pipeline import Job, Report, Settings, translate
from hymt_cli.run import (
    NO_MEMORY_ENGINES,
    Loaded,
    Outcome,
    Planned,
    RunConfig,
    Watcher,
)

log = logging.getLogger(__name__)

NO_RECORD = "hymt has no record of writing it"
"""Why --prune keeps a file: only outputs recorded in the memory are deleted."""


def settings_for(
    base: Settings, config: RunConfig, engine: Engine, memory: TranslationMemory | None
) -> Settings:
    """The run's pipeline settings: batch size (auto: the engine's) and memory.
    --check and --dry-run never call the engine, so they never ask it to size
    batches (the hf engine would import torch for that)."""
    own = engine.batch_size if config.mode == "translate" else DEFAULT_BATCH_SIZE
    batch = config.batch_size or own
    if memory is not None and config.mode != "translate":
        memory = _ReadOnlyMemory(memory)  # type: ignore[assignment]
    return replace(base, batch_size=int(batch), memory=memory)


def run(
    config: RunConfig,
    loaded: list[Loaded],
    engine: Engine,
    settings: Settings,
    stdout: BinaryIO,
    report: Callable[[Outcome], None],
    watcher: Watcher,
) -> None:
    """Translate, check or count every job of `loaded`, reporting each outcome."""
    pairs = [(job, item, one) for one in loaded for job, item in one.jobs]
    total = sum(len(job.document.segments()) for job, _, _ in pairs)
    watcher.start(len(pairs), total)
    if config.mode == "translate":
        observed = _Observed(engine, watcher)
        results = _translate_all([job for job, _, _ in pairs], observed, settings)
        for (job, item, one), result in zip(pairs, results):
            report(_finish(job, one, item, result, stdout, config.strict_glossary,
                           settings.memory))
        return
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
    retried one at a time, so an exception stays with the document that caused it."""
    done = 0
    try:
        for _, text, report in translate(jobs, engine, settings):
            done += 1
            yield text, report
    except Exception:
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
    strict: bool, memory: TranslationMemory | None = None,
) -> Outcome:
    """Encode and write one translated document, recording it in `memory` (for
    --prune); failures stay with this file."""
    code = job.target.code
    if isinstance(result, BaseException):
        error = InputError(job.name, f"translation failed: {result}")
        return Outcome(job.name, "failed", error=error, cause=result, target=code)
    text, report = result
    try:
        if strict and report.glossary_misses:
            raise _strict_error(job, report)
        data = encode(job, loaded, text)
        if item.output is None:
            stdout.write(data)
            stdout.flush()
            return Outcome(job.name, "stdout", report=report, target=code)
        status = _write(job.name, item.output, data)
        if memory is not None and item.source.path is not None:
            memory.record_output(item.output, item.source.path, code, data)
        return Outcome(job.name, status, str(item.output), report, target=code)
    except InputError as error:
        return Outcome(job.name, "failed", str(item.output or ""), report, error,
                       target=code)


def _strict_error(job: Job, report: Report) -> InputError:
    misses = report.glossary_misses
    return InputError(
        job.name,
        f"{len(misses)} glossary term(s) not used in {job.target.code} "
        f"(first: {misses[0]}); not written",
        "fix the glossary or the source, or drop --strict-glossary",
    )


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
        return "wrote" if write_atomic(output, data) else "unchanged"
    except OSError as exc:
        raise InputError(name, f"cannot write {output}: {exc.strerror or exc}") from exc


# -- checking and counting -----------------------------------------------------------


def _examine(
    job: Job, loaded: Loaded, item: Planned, engine: Engine, asked: list[int],
    settings: Settings, mode: str,
) -> Outcome:
    """Render `job` from memory alone: its --check status, or its --dry-run counts
    (`asked`: token counts the stand-in `engine` notes; empty for a free engine)."""
    assert item.output is not None
    code, output = job.target.code, str(item.output)
    asked.clear()
    _, text, report = next(translate([job], engine, settings))
    pending, tokens = len(asked), sum(asked)
    if mode == "dry-run":
        return Outcome(job.name, "planned", output, report, target=code,
                       pending=pending, tokens=tokens)
    if pending:
        status = "stale" if item.output.exists() else "missing"
    else:
        status = _compare(job, loaded, item.output, text)
    return Outcome(job.name, status, output, report, target=code, pending=pending)


def _compare(job: Job, loaded: Loaded, output: Path, text: str) -> str:
    """current when the file holds exactly the rendering, else stale or missing."""
    try:
        data = encode(job, loaded, text)
    except InputError:
        return "stale"
    try:
        return "current" if output.read_bytes() == data else "stale"
    except FileNotFoundError:
        return "missing"
    except OSError:
        return "stale"


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
    """An engine that tells the watcher about every batch it answers."""

    def __init__(self, engine: Engine, watcher: Watcher) -> None:
        super().__init__(engine)
        self._watcher = watcher

    def translate_batch(self, requests: Sequence[Request]) -> list[str]:
        """Translate through the real engine, then report the batch."""
        answers = self.engine.translate_batch(requests)
        tokens = sum(approximate_tokens(r.text) for r in requests)
        self._watcher.advance(len(requests), tokens)
        return answers


# -- pruning -------------------------------------------------------------------------


@dataclass(slots=True)
class PruneDecision:
    """What --prune does with each output it looked at (display paths)."""

    delete: list[str] = field(default_factory=list)
    """Recorded outputs whose source is gone and whose bytes are hymt's."""
    keep: list[tuple[str, str]] = field(default_factory=list)
    """Other candidates, each with why it is kept."""
    forget: list[str] = field(default_factory=list)
    """Records (resolved paths) whose output no longer exists."""
    paths: dict[str, Path] = field(default_factory=dict)
    """Display path -> file, for the outputs to delete."""


def prune(
    config: RunConfig, planned: list[Planned], memory: TranslationMemory | None,
    watcher: Watcher,
) -> list[str]:
    """Delete (in a dry run, list) outputs hymt recorded writing whose source is
    gone and whose bytes are still what it wrote; every other output of the
    pattern whose source is gone is listed as kept, never deleted."""
    candidates = orphans(config, planned)
    if memory is None:
        watcher.note(f"warning: --prune: {_why_no_records(config)}, so hymt cannot "
                     "tell which outputs it wrote; nothing is pruned")
        for path in candidates:
            watcher.note(f"keeping {path} ({NO_RECORD})")
        return []
    decision = decide_prune(config, planned, memory, candidates)
    for path, why in decision.keep:
        watcher.note(f"keeping {path} ({why})")
    if config.mode != "translate":
        for path in decision.delete:
            watcher.note(f"would prune {path} (its source is gone)")
        return decision.delete
    return _delete(decision, memory, watcher)


def _why_no_records(config: RunConfig) -> str:
    if config.memory is None:
        return "no translation memory (--no-memory)"
    if config.engine in NO_MEMORY_ENGINES:
        return f"the {config.engine} engine records no outputs"
    return f"no translation memory at {config.memory}"


def decide_prune(
    config: RunConfig, planned: list[Planned], memory: TranslationMemory,
    candidates: list[Path],
) -> PruneDecision:
    """Sort recorded outputs and pattern `candidates` into delete, keep, forget."""
    shown = {str(p.resolve()): str(p) for p in candidates}
    live = {str(p.output.resolve()) for p in planned if p.output is not None}
    live |= {str(p.source.path.resolve()) for p in planned if p.source.path}
    targets = {t.code for t in config.targets}
    decision = PruneDecision()
    recorded = set()
    for record in memory.outputs():
        recorded.add(record.path)
        if (record.path in live or record.target not in targets
                or not _chosen(Path(record.source), config.paths)
                or Path(record.source).exists()):
            continue
        name = shown.get(record.path) or _display(record.path)
        _judge(record, name, decision)
    decision.keep += [(name, NO_RECORD) for path, name in shown.items()
                      if path not in recorded]
    decision.keep.sort()
    return decision


def _judge(record: OutputRecord, name: str, decision: PruneDecision) -> None:
    """Put one orphaned recorded output where it belongs."""
    path = Path(record.path)
    try:
        data = path.read_bytes() if path.is_file() else None
    except OSError as exc:
        decision.keep.append((name, f"cannot read it: {exc.strerror or exc}"))
        return
    if data is None and not path.exists():
        decision.forget.append(record.path)
    elif data is None:
        decision.keep.append((name, "not a regular file"))
    elif hashlib.sha256(data).hexdigest() != record.sha256:
        decision.keep.append((name, "changed since hymt wrote it"))
    else:
        decision.delete.append(name)
        decision.paths[name] = path


def _delete(
    decision: PruneDecision, memory: TranslationMemory, watcher: Watcher
) -> list[str]:
    """Delete the decided outputs, forget their records; what was deleted."""
    deleted, forget = [], list(decision.forget)
    for name in decision.delete:
        watcher.note(f"pruning {name} (its source is gone)")
        path = decision.paths[name]
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:
            watcher.note(f"warning: cannot prune {name}: {exc.strerror or exc}")
            continue
        deleted.append(name)
        forget.append(str(path))
    memory.forget_outputs(forget)
    return deleted


def _display(resolved: str) -> str:
    """A recorded path as messages show it: relative to the working directory
    when it lies under it."""
    path, cwd = Path(resolved), Path.cwd().resolve()
    return str(path.relative_to(cwd)) if path.is_relative_to(cwd) else resolved


def _chosen(source: Path, args: tuple[str, ...]) -> bool:
    """Whether the path arguments would pick up the (resolved) `source`."""
    text = str(source)
    for arg in args:
        pattern = _absolute_arg(arg)
        if has_magic(arg) and fnmatch.fnmatchcase(text, pattern):
            return True
        if text == pattern or text.startswith(pattern.rstrip("/") + "/"):
            return True
    return False


def _absolute_arg(arg: str) -> str:
    """A path argument made absolute, its literal folders resolved (as the
    recorded paths are), any glob part kept as it is."""
    parts = Path(arg).parts
    literal = next((i for i, part in enumerate(parts) if has_magic(part)), len(parts))
    head = Path(*parts[:literal]) if literal else Path(".")
    return os.path.join(head.resolve(), *parts[literal:])


def orphans(config: RunConfig, planned: list[Planned]) -> list[Path]:
    """Files matching the output pattern for a target whose source no longer exists."""
    pattern = config.out or DEFAULT_PATTERN
    keep = {p.output.resolve() for p in planned if p.output is not None}
    keep |= {p.source.path.resolve() for p in planned if p.source.path is not None}
    roots = {p.source.root or p.source.path.parent for p in planned
             if p.source.path is not None}
    found: list[Path] = []
    for target in config.targets:
        regex = pattern_regex(pattern, target.code)
        for path in _files_under(pattern_base(pattern)):
            text = os.path.normpath(path)
            match = regex.fullmatch(text) or regex.fullmatch(f"./{text}")
            if match is None or path.resolve() in keep:
                continue
            sources = [s for s in source_candidates(match, roots)
                       if _selected(s, config.paths)]
            if sources and not any(s.exists() for s in sources):
                found.append(path)
    return sorted(set(found))


def _selected(path: Path, args: tuple[str, ...]) -> bool:
    """Whether the path arguments would pick `path` up, were it there."""
    text = os.path.normpath(path)
    for arg in args:
        norm = os.path.normpath(arg)
        if has_magic(arg) and fnmatch.fnmatchcase(text, norm):
            return True
        if text == norm or text.startswith(norm.rstrip("/") + "/"):
            return True  # the file itself, or under a directory argument
    return False


def _files_under(base: Path) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(base):
        dirnames[:] = sorted(d for d in dirnames
                             if not d.startswith(".") and d not in SKIPPED_DIRS)
        for name in sorted(filenames):
            yield Path(dirpath, name)
