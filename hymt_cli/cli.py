"""The `hymt` command line: parse options, build a frozen config, call the library.

Exit codes: 0 success, 1 some inputs failed (the others are still written) or
`--check` found missing or stale outputs, 2 usage error (bad option, unknown
language, engine or format, bad project file, glossary or memory file, model not
found, no inputs found).
Documents go to stdout, diagnostics to stderr; tracebacks only with `--debug`.
"""

from __future__ import annotations

import io
import json
import logging
import os
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any, BinaryIO, cast

import typer

from hymt_cli import __version__, cli_config, cli_options, progress, settings
from hymt_cli.cli_memory import memory_app
from hymt_cli.cli_models import models_app
from hymt_cli.documents import SegmentOptions, with_dialect
from hymt_cli.errors import EXIT_FAILED, EXIT_OK, FailedError, HymtError, UsageError
from hymt_cli.fileio import STDIN, InputError, Source
from hymt_cli.languages import LANGUAGES
from hymt_cli.outcome import Mode
from hymt_cli.plan import load_document
from hymt_cli.run import translate_inputs
from hymt_cli.serve import options as serve_options
from hymt_cli.settings import SETTINGS

log = logging.getLogger(__name__)


EXIT_CODES = (
    "Exit codes: 0 success; 1 some inputs failed (the others are still written) or "
    "--check found missing or stale outputs; 2 usage error (bad option, language, "
    "engine, format, project file, glossary or memory file; model not found; no "
    "inputs found)."
)

app = typer.Typer(
    name="hymt",
    help="Translate Markdown, HTML and text documents with Tencent's HY-MT1.5 models.",
    epilog=EXIT_CODES,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(memory_app, name="memory")
app.add_typer(models_app, name="models")



def _opt(*names: str, metavar: str, help: str) -> typer.models.OptionInfo:
    return typer.Option(*names, metavar=metavar, help=help)


Path1 = Annotated[
    str, typer.Argument(metavar="PATH", help="A document, or - for stdin.")
]
Format = cli_options.annotation("format")
Encoding = cli_options.annotation("encoding")
Keys = cli_options.annotation("front_matter_keys")
DialectName = cli_options.annotation("dialect")
Protect = cli_options.annotation("protect")
Device = cli_options.annotation("device")
Debug = cli_options.annotation("debug")
DEFAULT_KEYS = ",".join(settings.default("front_matter_keys"))
RUN_FLAGS = ("threads", "max_new_tokens", "no_memory", "no_gates", "prune",
             "allow_outside")
"""Flags without a project key that still shape the `RunConfig`."""


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


def translate(**values: Any) -> int:
    """Translate documents (or the project's sources) into one or more languages."""
    with _logging(values["debug"]):
        if values["check"] and values["dry_run"]:
            raise UsageError("--check and --dry-run cannot be combined")
        extra = {name: values[name] for name in RUN_FLAGS} | {"mode": _mode(values)}
        proj = cli_config.load_project(values["config"])
        config = cli_config.build(settings.from_flags(values), proj, extra)
        if values["json"] and STDIN in config.paths:
            raise UsageError("--json cannot be combined with '-' (stdout is the "
                             "document)")
        watcher = progress.watcher(quiet=values["quiet"], verbose=values["verbose"],
                                   debug=values["debug"])
        stdin = sys.stdin.buffer if sys.stdin is not None else io.BytesIO()
        stdout = cast(BinaryIO, GuardedStdout())
        try:
            summary = translate_inputs(config, stdin, stdout, watcher)
        finally:
            watcher.stop()
        watcher.finish(summary)
        if values["json"]:
            data = progress.summary_json(summary)
            write_stdout(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        return EXIT_FAILED if summary.failed else EXIT_OK


app.command(epilog=EXIT_CODES)(cli_options.with_parameters(translate, SETTINGS))


def serve(**values: Any) -> int:
    """Serve translations over HTTP: JSON API, file uploads, a web page, metrics."""
    with _logging(values["debug"]):
        config = serve_options.from_values(values)
        from hymt_cli.serve import serve as run_service  # fastapi only from here on

        return run_service(config)


SERVE_EXIT_CODES = (
    "Exit codes: 0 stopped (Ctrl-C, SIGTERM); 2 usage error (bad option, engine, "
    "project file, glossary or memory file; model not found; address in use; the "
    "serve extra not installed). Endpoints and limits: README, Serving."
)

app.command(epilog=SERVE_EXIT_CODES)(cli_options.with_parameters(
    serve, serve_options.SERVE_TABLE))


def _mode(values: dict[str, Any]) -> Mode:
    if values["check"]:
        return Mode.CHECK
    return Mode.DRY_RUN if values["dry_run"] else Mode.TRANSLATE


@app.command()
def quantize(
    model: Annotated[str, typer.Argument(metavar="MODEL",
                                         help="Model alias, hub id or directory.")],
    out: Annotated[Path, typer.Argument(metavar="OUT", help="New output directory.")],
    bits: Annotated[int, typer.Option("--bits", min=2, max=8, help="Weight bits.")] = 4,
    group_size: Annotated[int, typer.Option("--group-size", metavar="N",
                                            help="Weights per scale.")] = 128,
    calibration: Annotated[list[Path] | None, _opt(
        "--calibration", metavar="FILE", help="Calibration text; repeatable.")] = None,
    desc_act: Annotated[bool, typer.Option(
        "--desc-act", help="Quantise columns by decreasing activation.")] = False,
    samples: Annotated[int | None, typer.Option(
        "--samples", min=1, metavar="N", help="Calibration sequences.")] = None,
    device: Device = None,
    to_format: Annotated[str, typer.Option(
        "--format", metavar="gptq|gguf",
        help="gptq: a checkpoint directory for --engine hf; gguf: a .gguf file for "
             "--engine llamacpp.")] = "gptq",
    gguf_type: Annotated[str, typer.Option(
        "--type", metavar="TYPE", help="gguf: Q4_K_M (default), Q8_0, F16, F32...")
    ] = "Q4_K_M",
    debug: Debug = False,
) -> int:
    """Quantise a model: GPTQ int4 checkpoint (default) or GGUF file, for --model OUT."""
    from hymt_cli import quantize as q

    with _logging(debug):
        if to_format == "gguf":
            Printer.line(f"wrote {_quantize_gguf(model, out, gguf_type)}")
            return EXIT_OK
        if to_format != "gptq":
            raise UsageError(f"unknown --format {to_format!r} (gptq or gguf)")
        options: dict[str, Any] = {"bits": bits, "group_size": group_size,
                                   "calibration": calibration or None,
                                   "device": device or "auto", "desc_act": desc_act}
        if samples is not None:
            options["samples"] = samples
        written = q.quantize(model, out, **options)
        Printer.line(f"wrote {written}")
        return EXIT_OK


def _quantize_gguf(model: str, out: Path, kind: str) -> Path:
    """HF checkpoint -> GGUF (F16/F32 as they are, other types via llama.cpp)."""
    import tempfile

    from hymt_cli import gguf_convert
    from hymt_cli.models import resolve_model

    if out.exists():
        raise UsageError(f"{out} exists; choose a new output file")
    source = resolve_model(model).path
    if kind.upper() in ("F16", "F32"):
        return gguf_convert.convert(source, out, kind.lower())
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        full = gguf_convert.convert(source, Path(tmp) / "f16.gguf", "f16")
        return gguf_convert.quantize_gguf(full, out, kind)


@app.command()
def segments(
    path: Path1,
    format_name: Format = None,
    encoding: Encoding = None,
    keys: Keys = DEFAULT_KEYS,
    dialect: DialectName = None,
    protect: Protect = None,
    debug: Debug = False,
) -> int:
    """Print a document's segments as JSON lines (id, kind, text).

    The dialect used, and why, goes to stderr."""
    with _logging(debug):
        settings.format_name(format_name)
        settings.encoding(encoding)
        source = Source(None) if path == STDIN else _existing(path)
        protected = settings.protect_patterns(protect or ())
        options = replace(_options(keys), protect=protected)
        dialect = settings.dialect_name(dialect or settings.default("dialect"))
        try:
            options, why = with_dialect(options, dialect, source.path, None)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        try:
            _, document = load_document(
                source, format_name, encoding, options, sys.stdin.buffer
            )
        except InputError as error:
            progress.Lines(debug=debug).error(error)
            return EXIT_FAILED
        if document.format == "md":
            sys.stderr.write(f"dialect: {options.dialect.name} ({why})\n")
        for seg in document.segments():
            row = {"id": seg.id, "kind": seg.kind, "text": seg.text}
            write_stdout(json.dumps(row, ensure_ascii=False) + "\n")
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


@app.command()
def info(
    engine: cli_options.annotation("engine") = None,  # type: ignore[valid-type]
    model: cli_options.annotation("model") = None,  # type: ignore[valid-type]
    base_url: cli_options.annotation("base_url") = None,  # type: ignore[valid-type]
    device: cli_options.annotation("device") = None,  # type: ignore[valid-type]
    config: cli_options.annotation("config") = None,  # type: ignore[valid-type]
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> int:
    """Show what --engine auto picks here and why, extras, device, memory, cache.

    Loads no model; reads the project file and HYMT_BASE_URL as translate does."""
    from hymt_cli import cli_info

    urls = settings.base_urls(base_url or ())
    if engine is not None:
        settings.engine_name(engine)
    if device is not None:
        settings.device(device)
    cli_info.show(cli_info.facts(model, urls, device, engine, config), as_json)
    return EXIT_OK


class StdoutError(FailedError):
    """Standard output cannot be written: closed, a full disk, a broken pipe."""


def _stdout_error(exc: OSError | None) -> StdoutError:
    if exc is None:
        return StdoutError("standard output is closed")
    return StdoutError(f"cannot write to standard output: {exc.strerror or exc}")


def write_stdout(text: str) -> None:
    """Write and flush text on stdout; `StdoutError` when that fails."""
    if sys.stdout is None:
        raise _stdout_error(None)
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except OSError as exc:
        raise _stdout_error(exc) from exc


class GuardedStdout(io.RawIOBase):
    """Binary stdout for documents (`-`) whose failures raise `StdoutError`."""

    def writable(self) -> bool:
        """Always: failures show on write."""
        return True

    def write(self, data: Any) -> int:
        """Write `data` to the real stdout's buffer."""
        buffer = getattr(sys.stdout, "buffer", None)
        if buffer is None:
            raise _stdout_error(None)
        try:
            return int(buffer.write(data))
        except OSError as exc:
            raise _stdout_error(exc) from exc

    def flush(self) -> None:
        """Flush the real stdout."""
        buffer = getattr(sys.stdout, "buffer", None)
        try:
            if buffer is not None:
                buffer.flush()
        except OSError as exc:
            raise _stdout_error(exc) from exc


def _options(keys: str) -> SegmentOptions:
    names = tuple(k.strip() for k in keys.split(",") if k.strip())
    return SegmentOptions(front_matter_keys=names)


def _existing(path: str) -> Source:
    if not Path(path).is_file():
        raise InputError(path, "no such file or directory")
    return Source(Path(path))


class Printer:
    """Diagnostics outside a translate run: one line to stderr."""

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
    except typer.Abort:
        Printer.line("Error: aborted")
        return EXIT_FAILED
    except InputError as error:
        progress.Lines(debug=debug).error(error)
        return error.exit_code
    except Exception as exc:
        return _known_error(exc, debug)
    return int(result or 0)


def _known_error(exc: Exception, debug: bool) -> int:
    """Map an exception to its one-line message and exit code."""
    if _is_click_error(exc):
        return _click_error(exc)
    if isinstance(exc, HymtError):
        return _one_line(exc, debug)
    # a bug: one line, the traceback only with --debug
    return _failure(f"unexpected {type(exc).__name__}: {exc}", exc, debug)


def _one_line(exc: HymtError, debug: bool) -> int:
    message = str(exc)
    Printer.line(f"Error: {message.splitlines()[0] if message else type(exc).__name__}")
    if exc.hint:
        Printer.line(f"  hint: {exc.hint}")
    if debug:
        traceback.print_exception(exc, file=sys.stderr)
    return exc.exit_code


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


def main() -> None:
    """The `hymt` console entry point."""
    # started with stdout closed (`>&-`), or writes may fail (/dev/full, a pipe)
    sys.stdout = _ClosedStdout() if sys.stdout is None else _GuardedText(sys.stdout)
    try:
        code = run(sys.argv[1:])
    except KeyboardInterrupt:
        code = 130
    sys.exit(_flushed(code))


class _ClosedStdout(io.TextIOBase):
    """Stands for a closed stdout: writing raises `StdoutError`."""

    def write(self, text: str) -> int:
        """Refuse: there is no stdout."""
        raise _stdout_error(None)


class _GuardedText:
    """The real text stdout, whose write failures raise `StdoutError`."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        """Write to the real stdout."""
        try:
            return int(self._stream.write(text))
        except OSError as exc:
            raise _stdout_error(exc) from exc

    def flush(self) -> None:
        """Flush the real stdout."""
        try:
            self._stream.flush()
        except OSError as exc:
            raise _stdout_error(exc) from exc

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _flushed(code: int) -> int:
    """Flush what is still buffered on stdout; a failure is one line, exit 1."""
    try:
        sys.stdout.flush()
    except StdoutError as exc:
        Printer.line(f"Error: {exc}")
        # nothing more can reach stdout; keep the interpreter's exit flush quiet
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return code or EXIT_FAILED
    return code
