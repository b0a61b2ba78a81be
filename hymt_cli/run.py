"""Translate a set of inputs: discover, read, segment, translate, write.

`translate_inputs` is what `hymt translate` calls. It checks every input and
output path before any engine work, isolates failures per file and reports each
file's outcome through a callback as soon as it is known.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from hymt_cli import engines
from hymt_cli.document import Document
from hymt_cli.documents import (
    FORMATS,
    SegmentOptions,
    format_for_path,
    segment,
    sniff_format,
)
from hymt_cli.fileio import (
    Decoded,
    InputError,
    Source,
    check_encoding,
    check_pattern,
    decode,
    discover,
    output_path,
    read_source,
    write_atomic,
)
from hymt_cli.glossary import GlossaryError, load_all
from hymt_cli.languages import Language
from hymt_cli.pipeline import Job, Report, Settings, translate

log = logging.getLogger(__name__)


class UsageError(Exception):
    """The command line itself is wrong (exit code 2)."""


class EngineError(Exception):
    """The engine could not be started."""


@dataclass(frozen=True, slots=True)
class RunConfig:
    """Everything one `hymt translate` run needs, merged once and frozen."""

    paths: tuple[str, ...]
    """Path arguments: files, directories, globs or `-`."""
    target: Language
    source: Language | None = None
    engine: str = "hf"
    out: str | None = None
    """Output path pattern; None means beside the source."""
    format: str | None = None
    """Forced format (md, html, txt); None means by suffix, or sniffed on stdin."""
    encoding: str | None = None
    """Forced input encoding; None means UTF-8 or what a BOM says."""
    options: SegmentOptions = field(default_factory=SegmentOptions)
    batch_size: int = 16
    engine_options: tuple[tuple[str, str], ...] = ()
    """Options for the engine factory, e.g. (("model", "path/to/dir"),)."""
    glossaries: tuple[str, ...] = ()
    """Glossary files (.tsv, .csv, .json) whose terms are enforced."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one input."""

    name: str
    """The input as messages name it."""
    status: str
    """wrote, unchanged, stdout or failed."""
    output: str = ""
    """Where the translation went (empty for stdout and failures)."""
    report: Report | None = None
    error: InputError | None = None
    """Why it failed (status failed)."""
    cause: BaseException | None = None
    """The exception behind an unexpected failure, for `--debug`."""


@dataclass(slots=True)
class Summary:
    """The outcomes of a run, in the order they happened."""

    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def failed(self) -> int:
        """How many inputs failed."""
        return sum(o.status == "failed" for o in self.outcomes)

    def counts(self) -> Counter[str]:
        """Outcomes per status."""
        return Counter(o.status for o in self.outcomes)


@dataclass(frozen=True, slots=True)
class Planned:
    """An input with its output path (None for stdin)."""

    source: Source
    output: Path | None


Notify = Callable[[Outcome], None]
Loaded = tuple[Job, Decoded, Planned]
"""An input read and segmented, ready for the engine."""


def check_config(config: RunConfig) -> None:
    """Raise `UsageError` for an unknown engine, format, encoding or pattern."""
    if config.engine not in engines.engine_names():
        known = ", ".join(engines.engine_names())
        raise UsageError(f"unknown engine {config.engine!r} (known: {known})")
    check_options(config.format, config.encoding)
    if config.out is not None:
        try:
            check_pattern(config.out)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    if config.batch_size < 1:
        raise UsageError("--batch-size must be at least 1")


def check_options(format_name: str | None, encoding: str | None) -> None:
    """Raise `UsageError` for an unknown format or encoding."""
    if format_name is not None and format_name not in FORMATS:
        known = ", ".join(FORMATS)
        raise UsageError(f"unknown format {format_name!r} (known: {known})")
    if encoding is not None:
        try:
            check_encoding(encoding)
        except LookupError:
            raise UsageError(f"unknown encoding {encoding!r}") from None


def translate_inputs(
    config: RunConfig, stdin: BinaryIO, stdout: BinaryIO, notify: Notify
) -> Summary:
    """Translate every input of `config`; raises `UsageError` or `EngineError`."""
    check_config(config)
    settings = pipeline_settings(config)
    summary = Summary()

    def report(outcome: Outcome) -> None:
        summary.outcomes.append(outcome)
        notify(outcome)

    planned = plan(config, report)
    loaded = [one for p in planned if (one := _load(p, config, stdin, report))]
    if not loaded:
        return summary
    engine = _start_engine(config.engine, dict(config.engine_options))
    results = _translate_all(loaded, engine, settings)
    for (job, decoded, item), result in zip(loaded, results):
        report(_finish(job, decoded, item, result, stdout))
    return summary


def pipeline_settings(config: RunConfig) -> Settings:
    """The pipeline settings of a run; raises `UsageError` for a bad glossary."""
    try:
        glossary = load_all(Path(p) for p in config.glossaries)
    except GlossaryError as exc:
        raise UsageError(str(exc)) from None
    return Settings(batch_size=config.batch_size, glossary=glossary)


def plan(config: RunConfig, report: Notify) -> list[Planned]:
    """Discover the inputs and their outputs; refuse clashes before any work."""
    found = discover(list(config.paths), any_suffix=config.format is not None)
    sources = [s for s in found if isinstance(s, Source)]
    if sum(s.path is None for s in sources) > 1:
        raise UsageError("'-' (standard input) may be given only once")
    for error in found:
        if isinstance(error, InputError):
            report(Outcome(error.path, "failed", error=error))
    if not sources:
        raise UsageError("no inputs found")
    planned = [Planned(s, _output(s, config)) for s in sources]
    planned = _drop_own_outputs(planned)
    return _refuse_clashes(planned, report)


def _output(source: Source, config: RunConfig) -> Path | None:
    if source.path is None:
        return None
    return output_path(source, config.target.code, config.out)


def _drop_own_outputs(planned: list[Planned]) -> list[Planned]:
    """Drop walked inputs that this very run writes (e.g. `docs/{lang}/...`)."""
    outputs = {p.output.resolve() for p in planned if p.output is not None}
    kept = []
    for item in planned:
        path = item.source.path
        if item.source.walked and path is not None and path.resolve() in outputs:
            log.debug("skipping %s: it is an output of this run", path)
            continue
        kept.append(item)
    return kept


def _refuse_clashes(planned: list[Planned], report: Notify) -> list[Planned]:
    """Report and drop inputs whose output is an input or another one's output."""
    inputs = {p.source.path.resolve(): p for p in planned if p.source.path}
    writers: dict[Path, list[Planned]] = {}
    for item in planned:
        if item.output is not None:
            writers.setdefault(item.output.resolve(), []).append(item)
    kept = []
    for item in planned:
        if problem := _clash(item, inputs, writers):
            hint = "choose another --out pattern; sources are never overwritten"
            error = InputError(item.source.name, problem, hint)
            report(Outcome(item.source.name, "failed", error=error))
        else:
            kept.append(item)
    return kept


def _clash(
    item: Planned, inputs: dict[Path, Planned], writers: dict[Path, list[Planned]]
) -> str:
    if item.output is None:
        return ""
    key = item.output.resolve()
    if key in inputs:
        other = inputs[key]
        whose = "itself" if other is item else f"input {other.source.name}"
        return f"output {item.output} is {whose}"
    others = [p for p in writers[key] if p is not item]
    if others:
        return f"output {item.output} is also the output of {others[0].source.name}"
    return ""


def _load(
    item: Planned, config: RunConfig, stdin: BinaryIO, report: Notify
) -> Loaded | None:
    """Read and segment one input; report and return None when it fails."""
    name = item.source.name
    try:
        decoded, document = load_document(
            item.source, config.format, config.encoding, config.options, stdin
        )
    except InputError as error:
        report(Outcome(name, "failed", error=error))
        return None
    except Exception as exc:  # an adapter bug must not stop the other files
        log.debug("segmenting %s failed", name, exc_info=True)
        error = InputError(name, f"cannot parse: {exc}")
        report(Outcome(name, "failed", error=error, cause=exc))
        return None
    job = Job(name, document, config.target, config.source)
    return job, decoded, item


def load_document(
    source: Source,
    format_name: str | None,
    encoding: str | None,
    options: SegmentOptions,
    stdin: BinaryIO,
) -> tuple[Decoded, Document]:
    """Read, decode and segment one input (a file, or stdin when `path` is None)."""
    if source.path is None:
        decoded = decode(source.name, stdin.read(), encoding)
        format_name = format_name or sniff_format(decoded.text)
    else:
        decoded = read_source(source, encoding)
        format_name = format_name or format_for_path(source.path)
    if format_name is None:
        raise InputError(
            source.name, "unknown document type", "pass --format md, html or txt"
        )
    return decoded, segment(decoded.text, format_name, options)


def _start_engine(name: str, options: dict[str, str]) -> engines.Engine:
    try:
        return engines.create(name, **options)
    except Exception as exc:
        raise EngineError(f"cannot start engine {name!r}: {exc}") from exc


Result = tuple[str, Report] | BaseException


def _translate_all(
    loaded: list[Loaded], engine: engines.Engine, settings: Settings
) -> Iterator[Result]:
    """Each job's text and report, in order; an exception stays with its job.

    Documents share engine batches; when the engine fails, the documents not yet
    finished are retried one by one so that only the failing one is lost.
    """
    jobs = [job for job, _, _ in loaded]
    done = 0
    try:
        for _, text, report in translate(jobs, engine, settings):
            done += 1
            yield text, report
    except Exception as exc:
        log.debug("batched translation failed; retrying one by one", exc_info=exc)
        for job in jobs[done:]:
            yield _translate_alone(job, engine, settings)


def _translate_alone(job: Job, engine: engines.Engine, settings: Settings) -> Result:
    try:
        _, text, report = next(translate([job], engine, settings))
    except Exception as exc:
        log.debug("translating %s failed", job.name, exc_info=True)
        return exc
    return text, report


def _finish(
    job: Job, decoded: Decoded, item: Planned, result: Result, stdout: BinaryIO
) -> Outcome:
    """Encode and write one translated document; failures stay with this file."""
    if isinstance(result, BaseException):
        error = InputError(job.name, f"translation failed: {result}")
        return Outcome(job.name, "failed", error=error, cause=result)
    text, report = result
    try:
        data = _encode(job, decoded, text)
        if item.output is None:
            stdout.write(data)
            stdout.flush()
            return Outcome(job.name, "stdout", report=report)
        return Outcome(job.name, _write(job.name, item.output, data), str(item.output),
                       report)
    except InputError as error:
        return Outcome(job.name, "failed", error=error)


def _encode(job: Job, decoded: Decoded, text: str) -> bytes:
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
