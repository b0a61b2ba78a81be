"""Translate a set of inputs: discover, read, segment, translate, write.

`translate_inputs` is what `hymt translate` calls. It checks every input and
output path before any engine work, segments each input once for all targets,
isolates failures per file and reports each outcome to a `Watcher` as soon as it
is known. `--check` and `--dry-run` go through the same planning and render from
the translation memory alone (see `hymt_cli.run_modes`).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from hymt_cli import engines
from hymt_cli.document import Document
from hymt_cli.documents import (
    FORMATS,
    SegmentOptions,
    format_for_path,
    segment,
    sniff_format,
    with_dialect,
)
from hymt_cli.fileio import (
    MAX_FILE_SIZE,
    Decoded,
    InputError,
    Source,
    check_encoding,
    check_pattern,
    decode,
    discover,
    excluded,
    naming_input,
    output_path,
    read_source,
    read_stream,
)
from hymt_cli.engines.base import DEFAULT_BATCH_SIZE
from hymt_cli.errors import FailedError, UsageError
from hymt_cli.glossary import GlossaryError, load_all
from hymt_cli.languages import Language
from hymt_cli.memory import MemoryReadOnlyError, TranslationMemory
from hymt_cli.pipeline import Job, Report, Settings

log = logging.getLogger(__name__)

MODES = ("translate", "check", "dry-run")
"""What a run does: translate and write, compare outputs with memory, or count."""

NO_MEMORY_ENGINES = frozenset({"identity"})
"""Engines whose answers are never looked up in nor written to the memory."""


class EngineError(FailedError):
    """The engine could not be started."""


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
    context_tokens: int = 128
    max_segment_tokens: int = 256
    memory: Path | None = None
    """The translation memory file; None: no memory."""
    exclude: tuple[str, ...] = ()
    """Patterns of sources to leave out, relative to `root`."""
    root: Path | None = None
    """The project folder (the configuration file's); None: the working directory."""
    mode: str = "translate"
    """translate, check or dry-run (see MODES)."""
    prune: bool = False
    """Delete outputs whose source is gone (listed first; dry-run only lists)."""
    out_root: Path | None = None
    """Outputs must lie inside this folder (the project's, when `out` comes from
    the project file and --allow-outside is not given); None: anywhere."""
    max_file_size: int = MAX_FILE_SIZE
    """Inputs larger than this many bytes fail (see `fileio.read_source`)."""

    @property
    def target(self) -> Language:
        """The first target language."""
        return self.targets[0]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one input for one target."""

    name: str
    """The input as messages name it."""
    status: str
    """wrote, unchanged, stdout, failed; current, stale, missing (--check);
    planned (--dry-run)."""
    output: str = ""
    """Where the translation goes (empty for stdout and failures)."""
    report: Report | None = None
    error: InputError | None = None
    """Why it failed (status failed)."""
    cause: BaseException | None = None
    """The exception behind an unexpected failure, for `--debug`."""
    target: str = ""
    """The target language code ('' when the input failed before that)."""
    pending: int = 0
    """Segments not in the memory (--dry-run, --check)."""
    tokens: int = 0
    """Approximate source tokens of the pending segments."""


@dataclass(slots=True)
class Summary:
    """The outcomes of a run, in the order they happened."""

    outcomes: list[Outcome] = field(default_factory=list)
    elapsed: float = 0.0
    """Seconds the run took."""
    pruned: list[str] = field(default_factory=list)
    """Outputs deleted (or, in a dry run, that would be) by --prune."""
    mode: str = "translate"

    @property
    def failed(self) -> int:
        """How many outcomes are failures (stale or missing ones in --check)."""
        bad = {"failed", "stale", "missing"}
        return sum(o.status in bad for o in self.outcomes)

    def counts(self) -> Counter[str]:
        """Outcomes per status."""
        return Counter(o.status for o in self.outcomes)


class Watcher(Protocol):
    """Receives a run's progress (see `hymt_cli.progress`)."""

    def start(self, files: int, segments: int) -> None:
        """The run knows its work: outputs to make and segments in them."""

    def advance(self, segments: int, tokens: int) -> None:
        """The engine answered `segments` segments of about `tokens` tokens."""

    def outcome(self, outcome: Outcome) -> None:
        """One output is done (or failed)."""

    def note(self, text: str) -> None:
        """A line worth showing (e.g. an output pruned)."""


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
    if not config.targets:
        raise UsageError("no target language: pass --to or set targets in hymt.toml")
    if config.mode not in MODES:
        raise UsageError(f"unknown mode {config.mode!r}")
    if "-" in config.paths and (len(config.targets) > 1 or config.mode != "translate"):
        raise UsageError("'-' (standard input) takes one --to and no --check/--dry-run")
    for name in ("batch_size", "context_tokens", "max_segment_tokens"):
        value = getattr(config, name)
        if value is not None and value < (1 if name == "batch_size" else 0):
            raise UsageError(f"--{name.replace('_', '-')} is out of range: {value}")


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
    config: RunConfig, stdin: BinaryIO, stdout: BinaryIO, watcher: Watcher
) -> Summary:
    """Run `config` (translate, check or dry-run); raises `UsageError`/`EngineError`."""
    from hymt_cli import run_modes

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
                settings = run_modes.settings_for(glossary_settings, config, engine,
                                                  memory)
                run_modes.run(config, loaded, engine, settings, stdout, report, watcher)
            if config.prune:
                summary.pruned = run_modes.prune(config, planned, memory, watcher)
    summary.elapsed = time.monotonic() - began
    return summary


def pipeline_settings(config: RunConfig) -> Settings:
    """The pipeline settings of a run (no memory yet); `UsageError` for a glossary."""
    try:
        glossary = load_all(Path(p) for p in config.glossaries)
    except GlossaryError as exc:
        raise UsageError(str(exc)) from None
    return Settings(
        batch_size=config.batch_size or DEFAULT_BATCH_SIZE,
        context_tokens=config.context_tokens,
        glossary=glossary,
        max_segment_tokens=config.max_segment_tokens,
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
    if (config.mode != "translate" or not create) and not path.is_file():
        log.info("no memory at %s: every segment counts as new", path)
        yield None
        return
    note = watcher.note if watcher is not None else log.warning
    memory = _open_for_run(path, config.mode != "translate", note)
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


def plan(config: RunConfig, report: Any) -> list[Planned]:
    """Discover the inputs and their outputs; refuse clashes before any work."""
    found = discover(list(config.paths), any_suffix=config.format is not None)
    root = config.root or Path.cwd()
    sources = [s for s in found if isinstance(s, Source)
               and not (s.path and excluded(s.path, config.exclude, root))]
    if sum(s.path is None for s in sources) > 1:
        raise UsageError("'-' (standard input) may be given only once")
    for error in found:
        if isinstance(error, InputError):
            report(Outcome(error.path, "failed", error=error))
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


def _refuse_clashes(planned: list[Planned], report: Any) -> list[Planned]:
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
            report(Outcome(item.source.name, "failed", error=error,
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
    planned: list[Planned], config: RunConfig, stdin: BinaryIO, report: Any
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
    report: Any,
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
        report(Outcome(name, "failed", error=error))
        return None
    except Exception as exc:  # an adapter bug must not stop the other files
        log.debug("segmenting %s failed", name, exc_info=True)
        error = InputError(name, f"cannot parse: {exc}")
        report(Outcome(name, "failed", error=error, cause=exc))
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


def start_engine(name: str, options: dict[str, Any]) -> engines.Engine:
    """Build engine `name`; it loads its model lazily, on the first batch."""
    try:
        return engines.create(name, **options)
    except UsageError:  # a model not found, an option the engine cannot use
        raise
    except Exception as exc:
        raise EngineError(f"cannot start engine {name!r}: {exc}") from exc
