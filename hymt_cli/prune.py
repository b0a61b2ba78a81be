"""`--prune`, the last step of a run: delete outputs whose source is gone.

Only outputs hymt recorded writing (in the translation memory) and whose bytes are
unchanged since are deleted; every other file the output pattern matches for a
missing source is listed as kept.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from hymt_cli.fileio import (
    DEFAULT_PATTERN,
    has_magic,
    pattern_base,
    pattern_regex,
    source_candidates,
    walk_files,
)
from hymt_cli.memory import OutputRecord, TranslationMemory
from hymt_cli.outcome import Mode, Watcher
from hymt_cli.plan import NO_MEMORY_ENGINES, Planned, RunConfig

NO_RECORD = "hymt has no record of writing it"
"""Why --prune keeps a file: only outputs recorded in the memory are deleted."""


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
    if config.mode != Mode.TRANSLATE:
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
        for path in walk_files(pattern_base(pattern)):
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
