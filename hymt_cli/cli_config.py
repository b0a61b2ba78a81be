"""Merge defaults, the project file and command-line flags into one `RunConfig`.

Precedence is defaults < `hymt.toml` (or `[tool.hymt]`) < flags, merged once here;
a flag left out is None and does not override. The memory file alone also heeds
`HYMT_MEMORY`, between the file and `--memory`. Paths in the file are relative to
its folder (`project.load` makes sources, glossaries and memory absolute; the
output pattern is anchored here).
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import Any

from hymt_cli import project
from hymt_cli.documents import DEFAULT_FRONT_MATTER_KEYS, SegmentOptions
from hymt_cli.fileio import MAX_FILE_SIZE, parse_size
from hymt_cli.languages import Language, UnknownLanguage, resolve
from hymt_cli.memory import DEFAULT_RELATIVE_PATH, ENV_VAR
from hymt_cli.models import is_gguf_spec
from hymt_cli.errors import UsageError
from hymt_cli.outcome import Mode
from hymt_cli.plan import RunConfig

log = logging.getLogger(__name__)

DEFAULTS: dict[str, Any] = {
    "sources": (), "exclude": (), "targets": (), "source": None, "out": None,
    "format": None, "engine": None, "model": None, "device": "auto", "dtype": "auto",
    "glossaries": (), "strict_glossary": False,
    "front_matter_keys": DEFAULT_FRONT_MATTER_KEYS, "context_tokens": 128,
    "batch_size": None, "max_segment_tokens": 256, "memory": None,
    "sampling": False, "encoding": None, "template": "auto", "skip_kinds": (),
    "gguf_file": None, "dialect": "auto", "protect": (),
    "keep_anchors": False, "max_file_size": MAX_FILE_SIZE,
}
"""The value of every project field when neither the file nor a flag sets it."""

DTYPES = {"auto": "auto", "bf16": "bfloat16", "fp16": "float16", "fp32": "float32",
          "bfloat16": "bfloat16", "float16": "float16", "float32": "float32"}
"""`--dtype` values and the torch dtype names they stand for."""

DEVICES = ("auto", "cpu", "cuda", "mps")


def load_project(
    config_file: str | None, cwd: Path | None = None
) -> project.ProjectConfig:
    """The project configuration: `--config FILE`, else the nearest one, else none."""
    if config_file is not None:
        path = Path(config_file)
        if not path.is_file():
            raise UsageError(f"--config {config_file}: no such file")
        return project.load(path)
    return project.load(project.find(cwd or Path.cwd()))


def merge(flags: dict[str, Any], proj: project.ProjectConfig) -> dict[str, Any]:
    """defaults < file < flags: every FIELDS key, with file paths anchored."""
    values = DEFAULTS | proj.values
    if proj.root is not None and "out" in proj.values:
        values["out"] = _anchor(proj.root, proj.values["out"])
    given = {k: v for k, v in flags.items() if v is not None and v != ()}
    unknown = set(given) - set(DEFAULTS)
    if unknown:
        raise ValueError(f"not project fields: {sorted(unknown)}")
    return values | given


def _anchor(root: Path, pattern: str) -> str:
    return pattern if Path(pattern).is_absolute() else str(root / pattern)


def build(
    flags: dict[str, Any],
    proj: project.ProjectConfig,
    extra: dict[str, Any],
) -> RunConfig:
    """The frozen run configuration from flags, the project file and defaults.

    `extra` holds flags without a project field: threads, max_new_tokens,
    no_memory, mode, prune, allow_outside.
    """
    values = merge(flags, proj)
    paths = tuple(values["sources"])
    if not paths:
        where = f" in {proj.path}" if proj.path else " (and no hymt.toml found)"
        raise UsageError(f"no inputs: pass paths or set sources{where}")
    return RunConfig(
        paths=paths,
        targets=languages(values["targets"]),
        source=language(values["source"]) if values["source"] else None,
        engine=values["engine"] or default_engine(values["model"]),
        out=values["out"],
        format=values["format"],
        encoding=values["encoding"],
        options=SegmentOptions(front_matter_keys=tuple(values["front_matter_keys"]),
                               skip_kinds=frozenset(values["skip_kinds"]),
                               protect=protect_patterns(values["protect"]),
                               keep_anchors=bool(values["keep_anchors"])),
        dialect=dialect_name(values["dialect"]),
        batch_size=batch_size(values["batch_size"]),
        engine_options=engine_options(values, extra),
        glossaries=tuple(values["glossaries"]),
        strict_glossary=bool(values["strict_glossary"]),
        context_tokens=values["context_tokens"],
        max_segment_tokens=values["max_segment_tokens"],
        memory=memory_path(flags.get("memory"), proj, extra.get("no_memory", False)),
        exclude=tuple(values["exclude"]),
        root=proj.root,
        mode=extra.get("mode", Mode.TRANSLATE),
        prune=bool(extra.get("prune", False)),
        out_root=out_root(flags, proj, bool(extra.get("allow_outside", False))),
        max_file_size=max_file_size(values["max_file_size"]),
    )


def max_file_size(value: int | str) -> int:
    """`--max-file-size` (or `max_file_size`): bytes, or e.g. `100MB`; `UsageError`."""
    try:
        return parse_size(value)
    except ValueError as exc:
        raise UsageError(f"--max-file-size: {exc}") from None


def out_root(
    flags: dict[str, Any], proj: project.ProjectConfig, allow_outside: bool
) -> Path | None:
    """The folder outputs must stay in: the project's when its file sets `out`
    (an untrusted file must not write elsewhere) and neither --out nor
    --allow-outside is given; None: no limit."""
    if allow_outside or flags.get("out") is not None or "out" not in proj.values:
        return None
    return proj.root


def dialect_name(name: str) -> str:
    """`--dialect`: `auto` or a known dialect; `UsageError` otherwise."""
    from hymt_cli.documents.dialects import get_dialect

    if name.strip().lower() == "auto":
        return "auto"
    try:
        return get_dialect(name).name
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def protect_patterns(patterns: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """`--protect`: regular expressions that must compile and match text."""
    for pattern in patterns:
        try:
            compiled = re.compile(pattern)
        except re.error as exc:
            raise UsageError(f"--protect {pattern!r} is not a regular expression: {exc}"
                             ) from None
        if compiled.match(""):
            raise UsageError(f"--protect {pattern!r} matches empty text")
    return tuple(patterns)


def language(code: str) -> Language:
    """A language from a code or alias; `UsageError` when unknown."""
    try:
        return resolve(code)
    except UnknownLanguage as exc:
        raise UsageError(str(exc)) from None


def languages(codes: tuple[str, ...] | list[str] | str) -> tuple[Language, ...]:
    """Target languages from codes, each possibly a comma-separated list."""
    items = [codes] if isinstance(codes, str) else list(codes)
    found: dict[str, Language] = {}
    for item in items:
        for code in (c.strip() for c in item.split(",")):
            if code:
                lang = language(code)
                found.setdefault(lang.code, lang)
    return tuple(found.values())


def batch_size(value: int | str | None) -> int | None:
    """`--batch-size`: a positive integer, or `auto` (None: the engine decides)."""
    if value is None or value == "auto":
        return None
    try:
        number = int(value)
    except ValueError:
        raise UsageError(
            f"--batch-size must be a number or auto, not {value!r}"
        ) from None
    if number < 1:
        raise UsageError("--batch-size must be at least 1")
    return number


def default_engine(model: str | None) -> str:
    """`llamacpp` for a GGUF model (a `.gguf` file, a `-gguf` alias), else `hf`."""
    return "llamacpp" if model and is_gguf_spec(model) else "hf"


def engine_options(
    values: dict[str, Any], extra: dict[str, Any]
) -> tuple[tuple[str, Any], ...]:
    """Typed engine-factory options; only those set, so plug-ins get no surprises."""
    device, dtype = values["device"], values["dtype"]
    if device not in DEVICES and not str(device).startswith("cuda:"):
        raise UsageError(f"unknown device {device!r} (known: {', '.join(DEVICES)})")
    if dtype not in DTYPES:
        raise UsageError(f"unknown dtype {dtype!r} (known: auto, bf16, fp16, fp32)")
    options: dict[str, Any] = {
        "model": values["model"],
        "device": None if device == "auto" else device,
        "dtype": None if dtype == "auto" else DTYPES[dtype],
        "sampling": True if values["sampling"] else None,
        "template": None if values["template"] == "auto" else values["template"],
        "gguf_file": values["gguf_file"],
        "batch_size": batch_size(values["batch_size"]),
        "threads": extra.get("threads"),
        "max_new_tokens": extra.get("max_new_tokens"),
    }
    return tuple((k, v) for k, v in options.items() if v is not None)


def memory_path(
    flag: str | None, proj: project.ProjectConfig, off: bool = False
) -> Path | None:
    """The memory file: --memory > $HYMT_MEMORY > file > .hymt/ in project or cwd."""
    if off:
        return None
    if flag:
        return Path(flag).expanduser()
    if env := os.environ.get(ENV_VAR, "").strip():
        return Path(env).expanduser()
    if proj.values.get("memory"):
        return Path(proj.values["memory"])
    return (proj.root or Path.cwd()) / DEFAULT_RELATIVE_PATH
