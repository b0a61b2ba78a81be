"""`hymt serve` options: the translate settings a service shares, plus its own.

The engine, model, glossary, memory, context, gate, segmenting, project-file and
debug options come from `settings.SETTINGS` (one declaration for both commands):
the table minus `TRANSLATE_ONLY`, so an engine option added there (say a base
URL) is a serve option too. The service's own options (address, limits,
batching) are `SERVE_SETTINGS`, declared with the same `Setting` type. This
module imports no web framework: the command line reads it for every command.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hymt_cli import cli_config, project, settings
from hymt_cli.errors import UsageError
from hymt_cli.fileio import format_size, parse_size
from hymt_cli.plan import RunConfig
from hymt_cli.settings import Setting

TRANSLATE_ONLY = frozenset({
    "sources", "targets", "out", "format", "encoding", "exclude", "max_file_size",
    "check", "dry_run", "prune", "allow_outside", "json", "quiet", "verbose",
})
"""Translate settings about files, outputs and reports: each request brings its
own document, languages and format."""

PLACEHOLDERS: dict[str, Any] = {"sources": ("-",), "targets": ("en",)}
"""`cli_config.build` wants sources and targets; a service has none of its own
(each request names them), so these stand in and are never used."""

API_KEY_ENV = "HYMT_API_KEY"
"""Environment variable holding the API key; unset or empty: no key needed."""


def _size(value: int | str) -> int:
    try:
        return parse_size(value)
    except ValueError as exc:
        raise UsageError(f"--max-body-size: {exc}") from None


def _positive(flag: str, kind: type) -> Any:
    def check(value: Any) -> Any:
        number = kind(value)
        if number <= 0:
            raise UsageError(f"{flag} must be more than 0, not {value}")
        return number
    return check


SERVE_SETTINGS: tuple[Setting, ...] = (
    Setting("host", "Address to listen on (default {default}; 0.0.0.0: every "
            "interface).", ("--host",), default="127.0.0.1", metavar="ADDRESS",
            project=False),
    Setting("port", "Port to listen on (default {default}; 0: any free port).",
            ("--port",), int, 8080, metavar="N", project=False, minimum=0),
    Setting("max_body_size", "Largest request body: bytes, or e.g. 512K, 10MB "
            "(default {default}); larger ones get 413.", ("--max-body-size",), int,
            10 * 1024 * 1024, metavar="SIZE", project=False, given_as="text",
            check=_size, show=lambda n: format_size(n).replace(" ", "")),
    Setting("max_segments", "Most segments in one request's document (default "
            "{default}); more get 413.", ("--max-segments",), int, 5000, metavar="N",
            project=False, minimum=1),
    Setting("queue_size", "Translate requests taken at once, running or waiting "
            "for the engine (default {default}); more get 503 with Retry-After.",
            ("--queue-size",), int, 64, metavar="N", project=False, minimum=1),
    Setting("timeout", "Seconds a translate request may take (default {default}); "
            "slower ones get 504.", ("--timeout",), float, 300.0,
            metavar="SECONDS", project=False,
            check=_positive("--timeout", float)),
    Setting("batch_wait_ms", "Milliseconds the batcher waits for other requests' "
            "segments before calling a batch that is not full (default {default}).",
            ("--batch-wait-ms",), int, 5, metavar="MS", project=False, minimum=0),
)
"""The service's own options (address, limits, batching), each default once."""

SERVE_TABLE: tuple[Setting, ...] = tuple(
    s for s in settings.SETTINGS if s.name not in TRANSLATE_ONLY) + SERVE_SETTINGS
"""Every `hymt serve` option, in `--help` order."""

BY_NAME = {s.name: s for s in SERVE_SETTINGS}


@dataclass(frozen=True, slots=True)
class ServeConfig:
    """Everything `hymt serve` needs, merged once and frozen."""

    run: RunConfig
    """Engine, memory, glossaries, context, gates and segmenting, as translate
    builds them (its sources and targets are placeholders)."""
    host: str = BY_NAME["host"].default
    port: int = BY_NAME["port"].default
    max_body_size: int = BY_NAME["max_body_size"].default
    max_segments: int = BY_NAME["max_segments"].default
    queue_size: int = BY_NAME["queue_size"].default
    timeout: float = BY_NAME["timeout"].default
    batch_wait_ms: int = BY_NAME["batch_wait_ms"].default
    api_key: str | None = None
    """Requests must carry it (Bearer token or X-API-Key); None: open."""


def from_values(values: dict[str, Any], cwd: Path | None = None) -> ServeConfig:
    """The service configuration from `hymt serve`'s parameters, with the project
    file (`--config`, else the nearest `hymt.toml` from `cwd`)."""
    proj = cli_config.load_project(values.get("config"), cwd)
    # translate's flags without a project key (threads, no_memory...): all of
    # them, so an engine flag added to the table reaches `cli_config.build` too
    extra = {s.name: values.get(s.name) for s in settings.SETTINGS if not s.project}
    return build(values, proj, extra)


def build(
    values: dict[str, Any], proj: project.ProjectConfig, extra: dict[str, Any]
) -> ServeConfig:
    """The service configuration from command parameters, the project file and
    defaults (`extra`: translate's flags without a project key)."""
    flags = settings.from_flags(values) | PLACEHOLDERS
    run = cli_config.build(flags, proj, extra)
    own = {s.name: s.checked(s.default if values.get(s.name) is None
                             else values[s.name]) for s in SERVE_SETTINGS}
    key = os.environ.get(API_KEY_ENV, "").strip() or None
    return ServeConfig(run=run, api_key=key, **own)
