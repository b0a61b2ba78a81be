"""`hymt memory ...`: look into, move and trim the translation memory.

The file is found as `hymt translate` finds it: `--memory`, `$HYMT_MEMORY`, the
project file's `memory`, else `.hymt/memory.sqlite` beside the project file (or in
the working directory).
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

from hymt_cli.cli_config import load_project, memory_path
from hymt_cli.memory import MemoryStats, TranslationMemory
from hymt_cli.errors import UsageError

log = logging.getLogger(__name__)

memory_app = typer.Typer(
    help="Inspect, export, import and prune the translation memory.",
    no_args_is_help=True,
)

MemoryPath = Annotated[
    str | None,
    typer.Option("--memory", metavar="PATH",
                 help="Memory file (default: as `hymt translate` finds it)."),
]
ConfigFile = Annotated[
    str | None,
    typer.Option("--config", metavar="FILE",
                 help="Project file to read `memory` from."),
]
File = Annotated[Path, typer.Argument(metavar="FILE", help="A .jsonl or .tmx file.")]


def _path(flag: str | None, config_file: str | None) -> Path:
    path = memory_path(flag, load_project(config_file))
    assert path is not None
    return path


def _existing(
    flag: str | None, config_file: str | None, readonly: bool = False
) -> TranslationMemory:
    """The memory file that must already exist; `readonly` writes nothing to it."""
    path = _path(flag, config_file)
    if not path.is_file():
        raise UsageError(f"no translation memory at {path} (run hymt translate first, "
                         "or pass --memory PATH)")
    return TranslationMemory.open(path, readonly=readonly)


@memory_app.command()
def stats(
    memory: MemoryPath = None,
    config_file: ConfigFile = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> int:
    """Entries by target language, engine and origin, and the file size."""
    with _existing(memory, config_file, readonly=True) as tm:
        found = tm.stats()
        path = tm.path
    if json_out:
        data = {"path": str(path), "entries": found.entries,
                "by_target": found.by_target, "by_engine": found.by_engine,
                "by_origin": found.by_origin, "size_bytes": found.size_bytes}
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    else:
        _print_stats(path, found)
    return 0


def _print_stats(path: Path, found: MemoryStats) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table("", "entries", title=f"{path} ({found.size_bytes / 1024:.0f} KiB)")
    table.add_row("total", str(found.entries), style="bold")
    for label, counts in (("target", found.by_target), ("engine", found.by_engine),
                          ("origin", found.by_origin)):
        for key, count in counts.items():
            table.add_row(f"{label} {key or '(none)'}", str(count))
    Console(file=sys.stdout).print(table)


@memory_app.command("export")
def export_(
    file: File, memory: MemoryPath = None, config_file: ConfigFile = None
) -> int:
    """Write every entry to FILE (.jsonl keeps everything; .tmx for other tools)."""
    from hymt_cli.memory_io import export_memory

    with _existing(memory, config_file, readonly=True) as tm:
        count = export_memory(tm, file)
    print(f"exported {count} entries to {file}", file=sys.stderr)
    return 0


@memory_app.command("import")
def import_(
    file: File, memory: MemoryPath = None, config_file: ConfigFile = None
) -> int:
    """Add the entries of FILE (.jsonl or .tmx) in one transaction."""
    from hymt_cli.memory_io import import_memory

    if not file.is_file():
        raise UsageError(f"{file}: no such file")
    with TranslationMemory.open(_path(memory, config_file)) as tm:
        count = import_memory(tm, file)
        where = tm.path
    print(f"imported {count} entries into {where}", file=sys.stderr)
    return 0


@memory_app.command()
def prune(
    older_than: Annotated[float | None, typer.Option(
        "--older-than", metavar="DAYS", min=0,
        help="Created more than DAYS ago.")] = None,
    unused_since: Annotated[float | None, typer.Option(
        "--unused-since", metavar="DAYS", min=0,
        help="Not used for more than DAYS.")] = None,
    engine: Annotated[str | None, typer.Option(
        "--engine", metavar="GLOB",
        help="Engine fingerprint pattern, e.g. 'hf:*'.")] = None,
    memory: MemoryPath = None,
    config_file: ConfigFile = None,
) -> int:
    """Delete entries matching every given criterion, then compact the file."""
    if older_than is None and unused_since is None and engine is None:
        raise UsageError("memory prune needs --older-than, --unused-since or --engine")
    with _existing(memory, config_file) as tm:
        count = tm.prune(older_than_days=older_than, engine=engine,
                         unused_since_days=unused_since)
        tm.vacuum()
        where = tm.path
    print(f"pruned {count} entries from {where}", file=sys.stderr)
    return 0
