"""Plan a run: the inputs it reads, the outputs it writes and the settings it uses.

The first stage after the command line. `plan` discovers the inputs and their
outputs and refuses clashes before any work; `load_all_inputs` reads and segments
each input once (`documents`), with one pipeline `Job` per target. The run stage
(`run`) then translates, checks or counts those jobs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Callable
from typing import Any, BinaryIO

from hymt_cli import settings
from hymt_cli.document import Document
from hymt_cli.documents import (
    SegmentOptions,
    format_for_path,
    segment,
    sniff_format,
    with_dialect,
)
from hymt_cli.errors import UsageError
from hymt_cli.fileio import (
    MAX_FILE_SIZE,
    Decoded,
    InputError,
    Source,
    decode,
    discover,
    excluded,
    naming_input,
    output_path,
    read_source,
    read_stream,
)
from hymt_cli.languages import Language
from hymt_cli.outcome import Mode, Outcome, Status
from hymt_cli.pipeline import Job

log = logging.getLogger(__name__)

NO_MEMORY_ENGINES = frozenset({"identity"})
"""Engines whose answers are never looked up in nor written to the memory."""

Reporter = Callable[[Outcome], None]
"""Receives each outcome as soon as it is known."""


@dataclass(frozen=True, slots=True)
class RunConfig:
    """Everything one `hymt translate` run needs, merged once and frozen."""

    paths: tuple[str, ...]
    """Path arguments: files, directories, globs or `-`."""
    targets: tuple[Language, ...]
    """Target languages; each input gets one output per target."""
    source: Language | None = None
    engine: str = "hf"
    out: str | None = None
    """Output path pattern; None means beside the source."""
    format: str | None = None
    """Forced format (md, html, txt); None means by suffix, or sniffed on stdin."""
    encoding: str | None = None
    """Forced input encoding; None means UTF-8 or what a BOM says."""
    options: SegmentOptions = field(default_factory=SegmentOptions)
    dialect: str = "auto"
    """Markdown dialect name, or `auto`: detected per file from its project."""
    batch_size: int | None = None
    """Segments per engine call; None: the engine's own batch size."""
    engine_options: tuple[tuple[str, Any], ...] = ()
    """Typed options for the engine factory, e.g. (("model", "dir"), ("threads", 1))."""
    glossaries: tuple[str, ...] = ()
    """Glossary files (.tsv, .csv, .json) whose terms are enforced."""
    strict_glossary: bool = False
    """A glossary miss fails the document (not written)."""
    context_tokens: int = settings.default("context_tokens")
    max_segment_tokens: int = settings.default("max_segment_tokens")
    memory: Path | None = None
    """The translation memory file; None: no memory."""
    exclude: tuple[str, ...] = ()
    """Patterns of sources to leave out, relative to `root`."""
    root: Path | None = None
    """The project folder (the configuration file's); None: the working directory."""
    mode: Mode = Mode.TRANSLATE
    prune: bool = False
    """Delete outputs whose source is gone (listed first; dry-run only lists)."""
    out_root: Path | None = None
    """Outputs must lie inside this folder (the project's, when `out` comes from
    the project file and --allow-outside is not given); None: anywhere."""
    max_file_size: int = settings.default("max_file_size")
    """Inputs larger than this many bytes fail (see `fileio.read_source`)."""
    gates: frozenset[str] = frozenset(settings.default("gates"))
    """The answer gates on (`gates.GATES`)."""
    strict: bool = False
    """An answer failing a gate after retry and fallback fails the document."""

    @property
    def target(self) -> Language:
        """The first target language."""
        return self.targets[0]


@dataclass(frozen=True, slots=True)
class Planned:
    """An input with its target and output path (None for stdout)."""

    source: Source
    target: Language
    output: Path | None


@dataclass(frozen=True, slots=True)
class Loaded:
    """One input read and segmented, with one job per target."""

    decoded: Decoded
    jobs: tuple[tuple[Job, Planned], ...]


def check_config(config: RunConfig) -> None:
    """Raise `UsageError` for settings that clash; each alone is checked in
    `settings`."""
    if "-" in config.paths and (len(config.targets) > 1 or config.mode != Mode.TRANSLATE):
        raise UsageError("'-' (standard input) takes one --to and no --check/--dry-run")


def plan(config: RunConfig, report: Reporter) -> list[Planned]:
    """Discover the inputs and their outputs; refuse clashes before any work."""
    found = discover(list(config.paths), any_suffix=config.format is not None)
    root = config.root or Path.cwd()
    sources = [s for s in found if isinstance(s, Source)
               and not (s.path and excluded(s.path, config.exclude, root))]
    if sum(s.path is None for s in sources) > 1:
        raise UsageError("'-' (standard input) may be given only once")
    for error in found:
        if isinstance(error, InputError):
            report(Outcome(error.path, Status.FAILED, error=error))
    if not sources:
        raise UsageError("no inputs found")
    planned = [Planned(s, t, _output(s, t, config)) for s in sources
               for t in config.targets]
    _refuse_bad_pattern(planned, config.out_root)
    planned = _drop_own_outputs(planned)
    return _refuse_clashes(planned, report)


def _output(source: Source, target: Language, config: RunConfig) -> Path | None:
    if source.path is None:
        return None
    return output_path(source, target.code, config.out)


def _refuse_bad_pattern(planned: list[Planned], out_root: Path | None) -> None:
    """`UsageError` for a pattern that maps a found input onto itself, or (with
    `out_root`) an output outside that folder; no input could be written then."""
    root = out_root.resolve() if out_root is not None else None
    for item in planned:
        path, output = item.source.path, item.output
        if path is None or output is None:
            continue
        if item.source.walked and output.resolve() == path.resolve():
            raise UsageError(f"{item.source.name}: output {output} is itself",
                             "choose another --out pattern; sources are never "
                             "overwritten")
        if root is not None and not output.resolve().is_relative_to(root):
            raise UsageError(
                f"output {output} of {item.source.name} leaves the project folder "
                f"{out_root}", "an out pattern in a project file must stay inside "
                "it: pass --allow-outside, or give --out on the command line")


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


def _refuse_clashes(planned: list[Planned], report: Reporter) -> list[Planned]:
    """Report and drop outputs that are an input or another input's output."""
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
            report(Outcome(item.source.name, Status.FAILED, error=error,
                           target=item.target.code))
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
        same = other.source == item.source
        whose = "itself" if same else f"input {other.source.name}"
        return f"output {item.output} is {whose}"
    others = [p for p in writers[key] if p is not item]
    if others:
        return f"output {item.output} is also the output of {others[0].source.name}"
    return ""


def load_all_inputs(
    planned: list[Planned], config: RunConfig, stdin: BinaryIO, report: Reporter
) -> list[Loaded]:
    """Read and segment each input once, with a job for each of its targets."""
    by_source: dict[Source, list[Planned]] = {}
    for item in planned:
        by_source.setdefault(item.source, []).append(item)
    loaded = []
    for source, items in by_source.items():
        if (one := _load(source, items, config, stdin, report)) is not None:
            loaded.append(one)
    return loaded


def _load(
    source: Source, items: list[Planned], config: RunConfig, stdin: BinaryIO,
    report: Reporter,
) -> Loaded | None:
    """Read and segment one input; report and return None when it fails."""
    name = source.name
    try:
        options = _dialect_options(config, source)
        with naming_input(name):
            decoded, document = load_document(
                source, config.format, config.encoding, options, stdin,
                config.max_file_size,
            )
    except InputError as error:
        report(Outcome(name, Status.FAILED, error=error))
        return None
    except Exception as exc:  # an adapter bug must not stop the other files
        log.debug("segmenting %s failed", name, exc_info=True)
        error = InputError(name, f"cannot parse: {exc}")
        report(Outcome(name, Status.FAILED, error=error, cause=exc))
        return None
    jobs = tuple((Job(name, document, i.target, config.source), i) for i in items)
    return Loaded(decoded, jobs)


def _dialect_options(config: RunConfig, source: Source) -> SegmentOptions:
    """The segmenting options of one input, its Markdown dialect resolved."""
    try:
        return with_dialect(config.options, config.dialect, source.path, config.root)[0]
    except ValueError as exc:  # an unreadable mkdocs.yml, say
        raise InputError(source.name, str(exc)) from None


def load_document(
    source: Source,
    format_name: str | None,
    encoding: str | None,
    options: SegmentOptions,
    stdin: BinaryIO,
    max_size: int = MAX_FILE_SIZE,
) -> tuple[Decoded, Document]:
    """Read, decode and segment one input (a file, or stdin when `path` is None);
    inputs over `max_size` bytes fail."""
    if source.path is None:
        decoded = decode(source.name, read_stream(source.name, stdin, max_size),
                         encoding)
        format_name = format_name or sniff_format(decoded.text)
    else:
        decoded = read_source(source, encoding, max_size)
        format_name = format_name or format_for_path(source.path)
    if format_name is None:
        raise InputError(
            source.name, "unknown document type", "pass --format md, html or txt"
        )
    return decoded, segment(decoded.text, format_name, options)
