"""The `hymt` command line: parse options, build a frozen config, call the library.

Exit codes: 0 success, 1 some inputs failed (the others are still written),
2 usage error (bad option, unknown language, engine or format, no inputs found).
Documents go to stdout, diagnostics to stderr; tracebacks only with `--debug`.
"""

from __future__ import annotations

import json
import logging
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from hymt_cli import __version__
from hymt_cli.documents import DEFAULT_FRONT_MATTER_KEYS, SegmentOptions
from hymt_cli.fileio import STDIN, InputError, Source
from hymt_cli.languages import LANGUAGES, Language, UnknownLanguage, resolve
from hymt_cli.run import (
    EngineError,
    Outcome,
    RunConfig,
    Summary,
    UsageError,
    check_options,
    load_document,
    translate_inputs,
)

log = logging.getLogger(__name__)

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

EXIT_CODES = (
    "Exit codes: 0 success; 1 some inputs failed (the others are still written); "
    "2 usage error (bad option, unknown language, engine or format, no inputs found)."
)

app = typer.Typer(
    name="hymt",
    help="Translate Markdown, HTML and text documents with Tencent's HY-MT1.5 models.",
    epilog=EXIT_CODES,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

OUT_HELP = (
    "Output pattern with {dir} {stem} {lang} {suffix} {relpath} "
    "(default: {dir}/{stem}.{lang}{suffix})."
)
FORMAT_HELP = "Input format: md, html or txt (default: by suffix; sniffed on stdin)."
ENCODING_HELP = "Input encoding (default: UTF-8, or what a byte-order mark says)."
KEYS_HELP = "Front-matter keys whose values are translated, comma-separated."
GLOSSARY_HELP = "Glossary file (.tsv, .csv, .json); may be repeated."


def _opt(*names: str, metavar: str, help: str) -> typer.models.OptionInfo:
    return typer.Option(*names, metavar=metavar, help=help)


Paths = Annotated[
    list[str], typer.Argument(metavar="PATH", help="Files, directories, globs or -.")
]
Path1 = Annotated[
    str, typer.Argument(metavar="PATH", help="A document, or - for stdin.")
]
To = Annotated[str, _opt("--to", metavar="LANG", help="Target language code.")]
From = Annotated[
    str | None, _opt("--from", metavar="LANG", help="Source language (optional).")
]
EngineName = Annotated[
    str, _opt("--engine", metavar="NAME", help="Engine: hf, pseudo or identity.")
]
Out = Annotated[str | None, _opt("--out", metavar="PATTERN", help=OUT_HELP)]
Format = Annotated[str | None, _opt("--format", metavar="FORMAT", help=FORMAT_HELP)]
Encoding = Annotated[str | None, _opt("--encoding", metavar="ENC", help=ENCODING_HELP)]
Keys = Annotated[str, _opt("--front-matter-keys", metavar="KEYS", help=KEYS_HELP)]
BatchSize = Annotated[
    int, typer.Option("--batch-size", min=1, metavar="N", help="Segments per batch.")
]
Model = Annotated[
    str | None,
    _opt("--model", metavar="MODEL", help="hf engine: model id, alias or directory."),
]
Device = Annotated[
    str | None,
    _opt("--device", metavar="DEVICE", help="hf engine: auto, cpu, cuda or mps."),
]
Glossaries = Annotated[
    list[str] | None, _opt("--glossary", metavar="FILE", help=GLOSSARY_HELP)
]
Debug = Annotated[bool, typer.Option("--debug", help="Show tracebacks and debug logs.")]
Quiet = Annotated[bool, typer.Option("--quiet", help="Print errors only.")]
DEFAULT_KEYS = ",".join(DEFAULT_FRONT_MATTER_KEYS)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"hymt {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version."
        ),
    ] = False,
) -> None:
    """Batch document translator on Tencent's HY-MT1.5 models."""


@app.command(epilog=EXIT_CODES)
def translate(
    paths: Paths,
    to: To,
    source: From = None,
    engine: EngineName = "hf",
    out: Out = None,
    format_name: Format = None,
    encoding: Encoding = None,
    keys: Keys = DEFAULT_KEYS,
    batch_size: BatchSize = 16,
    model: Model = None,
    device: Device = None,
    glossary: Glossaries = None,
    debug: Debug = False,
    quiet: Quiet = False,
) -> int:
    """Translate documents; each is written beside its source unless --out says."""
    with _logging(debug):
        config = RunConfig(
            paths=tuple(paths),
            target=_language(to),
            source=_language(source) if source else None,
            engine=engine,
            out=out,
            format=format_name,
            encoding=encoding,
            options=_options(keys),
            batch_size=batch_size,
            engine_options=_engine_options(model=model, device=device),
            glossaries=tuple(glossary or ()),
        )
        printer = Printer(debug=debug, quiet=quiet)
        stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
        summary = translate_inputs(config, stdin, stdout, printer.outcome)
        printer.summary(summary)
        return EXIT_FAILED if summary.failed else EXIT_OK


@app.command()
def segments(
    path: Path1,
    format_name: Format = None,
    encoding: Encoding = None,
    keys: Keys = DEFAULT_KEYS,
    debug: Debug = False,
) -> int:
    """Print a document's segments as JSON lines (id, kind, text)."""
    with _logging(debug):
        check_options(format_name, encoding)
        source = Source(None) if path == STDIN else _existing(path)
        try:
            _, document = load_document(
                source, format_name, encoding, _options(keys), sys.stdin.buffer
            )
        except InputError as error:
            Printer(debug=debug).error(error)
            return EXIT_FAILED
        for seg in document.segments():
            row = {"id": seg.id, "kind": seg.kind, "text": seg.text}
            sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")
        return EXIT_OK


@app.command()
def languages() -> int:
    """List the 38 supported languages."""
    from rich.console import Console
    from rich.table import Table

    table = Table("code", "English", "Chinese", "direction")
    for lang in LANGUAGES.values():
        table.add_row(lang.code, lang.english, lang.chinese, "rtl" if lang.rtl else "")
    Console(file=sys.stdout).print(table)
    return EXIT_OK


def _language(code: str) -> Language:
    try:
        return resolve(code)
    except UnknownLanguage as exc:
        raise UsageError(str(exc)) from None


def _engine_options(**given: str | None) -> tuple[tuple[str, str], ...]:
    return tuple((k, v) for k, v in given.items() if v is not None)


def _options(keys: str) -> SegmentOptions:
    names = tuple(k.strip() for k in keys.split(",") if k.strip())
    return SegmentOptions(front_matter_keys=names)


def _existing(path: str) -> Source:
    if not Path(path).is_file():
        raise InputError(path, "no such file or directory")
    return Source(Path(path))


class Printer:
    """Writes per-file diagnostics to stderr."""

    def __init__(self, debug: bool = False, quiet: bool = False) -> None:
        self.debug, self.quiet = debug, quiet

    def outcome(self, outcome: Outcome) -> None:
        """Report one input's outcome: an error, or a summary line and warnings."""
        if outcome.error is not None:
            self.error(outcome.error, outcome.cause)
            return
        report = outcome.report
        if self.quiet or report is None:
            return
        for problem in report.problems:
            self.line(f"warning: {outcome.name}: {problem}")
        for miss in report.glossary_misses:
            self.line(f"warning: {outcome.name}: glossary term not used: {miss}")
        where = outcome.output or f"{outcome.name} to stdout"
        verb = "translated" if outcome.status == "stdout" else outcome.status
        self.line(
            f"{verb} {where} ({report.segments} segments, {report.translated} "
            f"translated, {report.fallbacks} fallbacks)"
        )

    def error(self, error: InputError, cause: BaseException | None = None) -> None:
        """Print `Error: <path>: <problem>`, a hint, and a traceback with --debug."""
        self.line(f"Error: {error.path}: {error.problem}")
        if error.hint:
            self.line(f"  hint: {error.hint}")
        if self.debug and cause is not None:
            traceback.print_exception(cause, file=sys.stderr)

    def summary(self, summary: Summary) -> None:
        """A closing line when several inputs were handled."""
        if self.quiet or len(summary.outcomes) < 2:
            return
        counts = summary.counts()
        labels = {"wrote": "written", "unchanged": "unchanged", "stdout": "to stdout",
                  "failed": "failed"}
        parts = [f"{counts[k]} {label}" for k, label in labels.items()]
        self.line("done: " + ", ".join(p for p in parts if not p.startswith("0 ")))

    @staticmethod
    def line(text: str) -> None:
        """Write one diagnostic line to stderr."""
        print(text, file=sys.stderr, flush=True)


@contextmanager
def _logging(debug: bool) -> Iterator[None]:
    """Route this package's log records to the current stderr for one command."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    package = logging.getLogger("hymt_cli")
    old_level = package.level
    package.addHandler(handler)
    package.setLevel(logging.DEBUG if debug else logging.WARNING)
    try:
        yield
    finally:
        package.removeHandler(handler)
        package.setLevel(old_level)


def run(argv: list[str]) -> int:
    """Run the command line in-process and return its exit code (never exits)."""
    command = typer.main.get_command(app)
    debug = "--debug" in argv
    try:
        result = command.main(args=argv, prog_name="hymt", standalone_mode=False)
    except UsageError as exc:
        return _usage(str(exc), "")
    except typer.Abort:
        Printer.line("Error: aborted")
        return EXIT_FAILED
    except InputError as error:
        Printer(debug=debug).error(error)
        return EXIT_FAILED
    except EngineError as exc:
        return _failure(str(exc), exc, debug)
    except Exception as exc:
        if _is_click_error(exc):
            return _click_error(exc)
        # a bug: one line, the traceback only with --debug
        return _failure(f"unexpected {type(exc).__name__}: {exc}", exc, debug)
    return int(result or 0)


def _is_click_error(exc: Exception) -> bool:
    """Whether `exc` is a click exception (typer may vendor click, so duck-type)."""
    return hasattr(exc, "format_message") and hasattr(exc, "exit_code")


def _click_error(exc: Any) -> int:
    ctx = getattr(exc, "ctx", None)
    path = ctx.command_path if ctx is not None else "hymt"
    if not exc.format_message():  # no arguments: the help was shown instead
        return int(exc.exit_code)
    Printer.line(f"Error: {exc.format_message()}")
    Printer.line(f"  hint: see '{path} --help'")
    return int(exc.exit_code)


def _failure(message: str, exc: BaseException, debug: bool) -> int:
    Printer.line(f"Error: {message}")
    if debug:
        traceback.print_exception(exc, file=sys.stderr)
    else:
        Printer.line("  hint: rerun with --debug for details")
    return EXIT_FAILED


def _usage(message: str, hint: str) -> int:
    Printer.line(f"Error: {message}")
    if hint:
        Printer.line(f"  hint: {hint}")
    return EXIT_USAGE


def main() -> None:
    """The `hymt` console entry point."""
    try:
        code = run(sys.argv[1:])
    except KeyboardInterrupt:
        code = 130
    sys.exit(code)
