"""Merge defaults, the project file and command-line flags into one `RunConfig`.

Precedence is defaults < `hymt.toml` (or `[tool.hymt]`) < flags, merged once here;
a flag left out is None and does not override. The memory file also heeds
`HYMT_MEMORY`, and the server URLs `HYMT_BASE_URL`, between the file and the flag.
`--engine auto` is resolved here (`engines.auto.choose`), so the run sees the
engine an explicit flag would name. Paths in the file are relative to
its folder (`project.load` makes sources, glossaries and memory absolute; the
output pattern is anchored here).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from hymt_cli import project, settings
from hymt_cli.documents import SegmentOptions
from hymt_cli.engines.auto import AUTO, choose
from hymt_cli.models import DEFAULT_GGUF_FILE, DEFAULT_MODEL, FULL_GGUF_FILE
from hymt_cli.errors import UsageError
from hymt_cli.memory import DEFAULT_RELATIVE_PATH, ENV_VAR
from hymt_cli.outcome import Mode
from hymt_cli.plan import RunConfig

log = logging.getLogger(__name__)

BASE_URL_ENV_VAR = "HYMT_BASE_URL"
"""Server URLs for the openai engine (and `--engine auto`), between the project
file and `--base-url`."""
DEFAULTS: dict[str, Any] = settings.defaults()
"""The value of every project field when neither the file nor a flag sets it."""


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
    no_memory, no_gates, mode, prune, allow_outside.
    """
    merged = merge(flags, proj)
    if not merged["sources"]:
        where = f" in {proj.path}" if proj.path else " (and no hymt.toml found)"
        raise UsageError(f"no inputs: pass paths or set sources{where}")
    if merged["engine"] in (AUTO, "openai") and not flags.get("base_url"):
        merged["base_url"] = env_base_urls() or merged["base_url"]
    values = settings.checked(merged)
    if values["engine"] == AUTO:
        choice = choose(values["model"], values["base_url"], values["device"])
        log.info("engine auto: %s, because %s", choice.engine, choice.reason)
        values["engine"] = choice.engine
    values.update(quantised(values["engine"], values["quant"], values["model"],
                            values["gguf_file"]))
    return RunConfig(
        paths=tuple(values["sources"]), targets=values["targets"],
        source=values["source"], engine=values["engine"], out=values["out"],
        format=values["format"], encoding=values["encoding"],
        options=SegmentOptions(front_matter_keys=values["front_matter_keys"],
                               skip_kinds=values["skip_kinds"],
                               protect=values["protect"],
                               keep_anchors=values["keep_anchors"]),
        dialect=values["dialect"], batch_size=values["batch_size"],
        engine_options=engine_options(values, extra),
        glossaries=values["glossaries"], strict_glossary=values["strict_glossary"],
        context_tokens=values["context_tokens"],
        max_segment_tokens=values["max_segment_tokens"],
        memory=memory_path(flags.get("memory"), proj, extra.get("no_memory", False)),
        exclude=values["exclude"], root=proj.root,
        mode=extra.get("mode", Mode.TRANSLATE), prune=bool(extra.get("prune", False)),
        out_root=out_root(flags, proj, bool(extra.get("allow_outside", False))),
        max_file_size=values["max_file_size"],
        gates=frozenset() if extra.get("no_gates") else values["gates"],
        strict=values["strict"],
    )


def out_root(
    flags: dict[str, Any], proj: project.ProjectConfig, allow_outside: bool
) -> Path | None:
    """The folder outputs must stay in: the project's when its file sets `out`
    (an untrusted file must not write elsewhere) and neither --out nor
    --allow-outside is given; None: no limit."""
    if allow_outside or flags.get("out") is not None or "out" not in proj.values:
        return None
    return proj.root


def engine_options(
    values: dict[str, Any], extra: dict[str, Any]
) -> tuple[tuple[str, Any], ...]:
    """Typed engine-factory options from checked values; only those set, so plug-ins
    get no surprises."""
    options: dict[str, Any] = {
        "model": values["model"],
        "device": values["device"],
        "dtype": values["dtype"],
        "sampling": True if values["sampling"] else None,
        "template": None if values["template"] == "auto" else values["template"],
        "gguf_file": values["gguf_file"],
        "offline": True if values["offline"] else None,
        "batch_size": values["batch_size"],
        "threads": extra.get("threads"),
        "max_new_tokens": extra.get("max_new_tokens"),
        "base_url": values["base_url"] or None,
        "concurrency": values["concurrency"],
        "request_timeout": values["request_timeout"],
    }
    return tuple((k, v) for k, v in options.items() if v is not None)


def quantised(engine: str, quant: str, model: str | None, gguf_file: str | None
              ) -> dict[str, Any]:
    """The model alias (hf) or GGUF file (llamacpp) `--quant` stands for; {} for
    `auto`, so an explicit `--model 1.8b-int4` and `--quant int4` are one setting."""
    if quant == "auto":
        return {}
    if engine == "llamacpp":
        if gguf_file:
            raise UsageError("--quant and --gguf-file both pick the GGUF file: "
                             "give one of them")
        return {"gguf_file": DEFAULT_GGUF_FILE if quant == "int4" else FULL_GGUF_FILE}
    if engine != "hf":
        raise UsageError(f"--quant picks the weights of the hf and llamacpp engines, "
                         f"not of {engine}")
    base = (model or DEFAULT_MODEL).strip().lower()
    if base.removesuffix("-int4") not in ("1.8b", "7b"):
        raise UsageError(f"--quant applies to the model aliases 1.8b and 7b, not "
                         f"{model!r}", "pass the checkpoint you want as --model")
    size = base.removesuffix("-int4")
    return {"model": f"{size}-int4" if quant == "int4" else size}


def env_base_urls() -> tuple[str, ...]:
    """Server URLs from $HYMT_BASE_URL (comma-separated); () when unset."""
    value = os.environ.get(BASE_URL_ENV_VAR, "").strip()
    return tuple(u for u in value.split(",") if u.strip())


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
