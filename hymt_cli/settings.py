"""Every `hymt translate` setting, declared once, with its checks.

The start of the flow (command line → plan → pipeline → engines → validate →
render → write): the command line builds its options from `SETTINGS`
(`cli_options`), `project` its file keys, `cli_config` its defaults; each value,
whether from a flag, the project file or a default, passes its setting's check
once (`checked`) before `cli_config` freezes them into a `RunConfig`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from hymt_cli.documents import DEFAULT_FRONT_MATTER_KEYS, FORMATS
from hymt_cli.engines.auto import AUTO
from hymt_cli.engines.options import DEFAULT_CONCURRENCY, DEFAULT_REQUEST_TIMEOUT_S
from hymt_cli.errors import UsageError
from hymt_cli.fileio import (
    MAX_FILE_SIZE,
    check_encoding,
    check_pattern,
    format_size,
    parse_size,
)
from hymt_cli.gates import GATES
from hymt_cli.languages import Language, UnknownLanguage, resolve
from hymt_cli.memory import DEFAULT_RELATIVE_PATH, ENV_VAR

DTYPES = {"auto": "auto", "bf16": "bfloat16", "fp16": "float16", "fp32": "float32",
          "bfloat16": "bfloat16", "float16": "float16", "float32": "float32"}
"""`--dtype` values and the torch dtype names they stand for."""

DEVICES = ("auto", "cpu", "cuda", "mps")


@dataclass(frozen=True, slots=True)
class Setting:
    """One setting: project key, type, default, flag, help and check."""

    name: str
    """The project-file key, `RunConfig`/merge name and command parameter."""
    help: str
    """Help text; `{default}` stands for the declared default."""
    flags: tuple[str, ...] = ()
    """Flag spellings (`--a/--b` for a switch pair); () for the PATH argument."""
    kind: type = str
    """The type of one value, in the project file and after the check."""
    default: Any = None
    metavar: str | None = None
    many: bool = False
    """A list of values (in the file a single string is a one-item list)."""
    paths: bool = False
    """Values are paths, relative to the project file's folder."""
    project: bool = True
    """A project-file key; False: a command-line flag only."""
    given_as: str = "one"
    """How the flag gives it: `one` value, `csv` (comma-separated), `repeat`,
    `text` (a string even for an integer setting, e.g. `auto` or `100MB`)."""
    minimum: int | None = None
    check: Callable[[Any], Any] | None = None
    """Validates (and converts) the merged value; raises `UsageError`."""
    show: Callable[[Any], str] = str
    """How `{default}` is written in the help."""

    def __post_init__(self) -> None:
        if self.many and self.default is None:
            object.__setattr__(self, "default", ())  # a list setting starts empty

    @property
    def help_text(self) -> str:
        """The help with the declared default filled in."""
        return self.help.replace("{default}", self.show(self.default))

    @property
    def switch(self) -> bool:
        """Whether the flag is an on/off pair such as `--sampling/--greedy`."""
        return "/" in self.flags[0] if self.flags else False

    def from_flag(self, value: Any) -> Any:
        """The flag's value as a merge value; None (and empty): not given."""
        if not self.many or value is None:
            return value
        if not value:  # `--to ""`, no --skip: not given
            return None
        if self.given_as == "csv":
            return tuple(k.strip() for k in value.split(",") if k.strip())
        return (value,) if isinstance(value, str) else tuple(value)

    def checked(self, value: Any) -> Any:
        """`value` range-checked and passed through the check; `UsageError`."""
        if self.minimum is not None and isinstance(value, int) and value < self.minimum:
            raise UsageError(f"{self.flags[0]} is out of range: {value}")
        return self.check(value) if self.check is not None else value


def language(code: str) -> Language:
    """A language from a code or alias; `UsageError` when unknown."""
    try:
        return resolve(code)
    except UnknownLanguage as exc:
        raise UsageError(str(exc)) from None


def languages(codes: Iterable[str] | str) -> tuple[Language, ...]:
    """Target languages from codes, each possibly a comma-separated list."""
    items = [codes] if isinstance(codes, str) else list(codes)
    found: dict[str, Language] = {}
    for item in items:
        for code in (c.strip() for c in item.split(",")):
            if code:
                lang = language(code)
                found.setdefault(lang.code, lang)
    return tuple(found.values())


def targets(codes: Iterable[str] | str) -> tuple[Language, ...]:
    """`--to`/`targets`: at least one known language."""
    found = languages(codes)
    if not found:
        raise UsageError("no target language: pass --to or set targets in hymt.toml")
    return found


def source_language(code: str | None) -> Language | None:
    """`--from`/`source`: a known language, or None."""
    return language(code) if code else None


def engine_name(name: str) -> str:
    """`--engine`: `auto` or a registered engine."""
    from hymt_cli import engines

    if name != AUTO and name not in engines.engine_names():
        known = ", ".join([AUTO, *engines.engine_names()])
        raise UsageError(f"unknown engine {name!r} (known: {known})")
    return name


QUANTS = ("auto", "int4", "full")


def quant(name: str) -> str:
    """`--quant`: auto, int4 or full."""
    if name not in QUANTS:
        raise UsageError(f"unknown --quant {name!r} (known: {', '.join(QUANTS)})")
    return name


def base_urls(urls: Iterable[str]) -> tuple[str, ...]:
    """`--base-url`/`base_url`: http(s) URLs, each possibly a comma-separated list."""
    found = tuple(u.strip() for item in urls for u in item.split(",") if u.strip())
    for url in found:
        if not url.startswith(("http://", "https://")):
            raise UsageError(f"--base-url {url!r} is not an http(s) URL "
                             "(e.g. http://localhost:8000/v1)")
    return found


def out_pattern(pattern: str | None) -> str | None:
    """`--out`: an output pattern with known fields only."""
    if pattern is not None:
        try:
            check_pattern(pattern)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    return pattern


def format_name(name: str | None) -> str | None:
    """`--format`: a known format, or None (by suffix)."""
    if name is not None and name not in FORMATS:
        known = ", ".join(FORMATS)
        raise UsageError(f"unknown format {name!r} (known: {known})")
    return name


def encoding(name: str | None) -> str | None:
    """`--encoding`: a codec Python knows, or None."""
    if name is not None:
        try:
            check_encoding(name)
        except LookupError:
            raise UsageError(f"unknown encoding {name!r}") from None
    return name


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


def device(name: str) -> str | None:
    """`--device`: a known device or `cuda:N`; None for auto."""
    if name not in DEVICES and not str(name).startswith("cuda:"):
        raise UsageError(f"unknown device {name!r} (known: {', '.join(DEVICES)})")
    return None if name == "auto" else name


def dtype(name: str) -> str | None:
    """`--dtype`: the torch dtype name it stands for; None for auto."""
    if name not in DTYPES:
        raise UsageError(f"unknown dtype {name!r} (known: auto, bf16, fp16, fp32)")
    return None if name == "auto" else DTYPES[name]


def dialect_name(name: str) -> str:
    """`--dialect`: `auto` or a known dialect; `UsageError` otherwise."""
    from hymt_cli.documents.dialects import get_dialect

    if name.strip().lower() == "auto":
        return "auto"
    try:
        return get_dialect(name).name
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def protect_patterns(patterns: Iterable[str]) -> tuple[str, ...]:
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


def max_file_size(value: int | str) -> int:
    """`--max-file-size` (or `max_file_size`): bytes, or e.g. `100MB`; `UsageError`."""
    try:
        return parse_size(value)
    except ValueError as exc:
        raise UsageError(f"--max-file-size: {exc}") from None


def gate_names(names: Iterable[str]) -> frozenset[str]:
    """`--gates`/`gates`: known gate names (none: every gate off)."""
    unknown = sorted(set(names) - set(GATES))
    if unknown:
        raise UsageError(f"unknown gate {unknown[0]!r} (known: {', '.join(GATES)})")
    return frozenset(names)


def _size(size: int) -> str:
    return format_size(size).replace(" ", "")


SETTINGS: tuple[Setting, ...] = (
    Setting("sources", "Files, directories, globs or -; none: the project's sources.",
            metavar="PATH", many=True, paths=True, given_as="repeat"),
    Setting("targets", "Target language(s), comma-separated.", ("--to",),
            metavar="LANG[,LANG]", many=True, check=targets),
    Setting("source", "Source language (optional).", ("--from",), metavar="LANG",
            check=source_language),
    Setting("engine", "Engine: {default} (llamacpp on a CPU, hf on a GPU or for a "
            "transformers --model, openai when a --base-url is set; `hymt info` "
            "tells), hf, llamacpp, openai, pseudo or identity.", ("--engine",),
            default=AUTO, metavar="NAME", check=engine_name),
    Setting("base_url", "openai engine: server URL, e.g. http://gpu1:8000/v1; "
            "repeatable (replicas share the load); also $HYMT_BASE_URL.",
            ("--base-url",), metavar="URL", many=True, given_as="repeat",
            check=base_urls),
    Setting("concurrency", f"openai engine: requests in flight (default "
            f"{DEFAULT_CONCURRENCY}).", ("--concurrency",), int, metavar="N",
            minimum=1),
    Setting("request_timeout", f"openai engine: seconds per request before it is "
            f"retried (default {DEFAULT_REQUEST_TIMEOUT_S:g}).", ("--request-timeout",),
            int, metavar="S", minimum=1),
    Setting("out", "Output pattern with {dir} {stem} {lang} {suffix} {relpath} "
            "(default: {dir}/{stem}.{lang}{suffix}).", ("--out",), metavar="PATTERN",
            check=out_pattern),
    Setting("format", "Input format: md, html or txt (default: by suffix; sniffed on "
            "stdin).", ("--format",), metavar="FORMAT", check=format_name),
    Setting("encoding", "Input encoding (default: UTF-8, or what a byte-order mark "
            "says).", ("--encoding",), metavar="ENC", check=encoding),
    Setting("front_matter_keys", "Front-matter keys whose values are translated, "
            "comma-separated.", ("--front-matter-keys",), metavar="KEYS", many=True,
            given_as="csv", default=DEFAULT_FRONT_MATTER_KEYS, check=tuple),
    Setting("batch_size", "Segments per engine call; auto: the engine's default.",
            ("--batch-size",), int, metavar="N|auto", given_as="text",
            check=batch_size),
    Setting("model", "Model: alias, hub id, directory or .gguf file (openai engine: "
            "the served model id).", ("--model",),
            metavar="MODEL"),
    Setting("device", "hf engine: auto, cpu, cuda or mps.", ("--device",),
            default="auto", metavar="DEVICE", check=device),
    Setting("dtype", "hf engine: auto, bf16, fp16 or fp32.", ("--dtype",),
            default="auto", metavar="DTYPE", check=dtype),
    Setting("sampling", "hf engine: Tencent's recommended sampling (default greedy).",
            ("--sampling/--greedy",), bool, False, check=bool),
    Setting("template", "hf engine: prompt template choice ({default}: English "
            "template for int4 1.8B checkpoints, where the Chinese one misfires).",
            ("--template",), default="auto", metavar="auto|official|english"),
    Setting("gguf_file", "llamacpp engine: which .gguf file of a GGUF repo or folder "
            "(default: the Q4_K_M one).", ("--gguf-file",), metavar="NAME"),
    Setting("quant", "Weights: {default} (hf: bf16 1.8b/7b, llamacpp: Q4_K_M), "
            "int4 (hf: the GPTQ-Int4 checkpoint, llamacpp: Q4_K_M) or full (hf: "
            "bf16, llamacpp: Q8_0); picks the model alias or GGUF file.",
            ("--quant",), default="auto", metavar="auto|int4|full", check=quant),
    Setting("offline", "Never download a model: one missing from the Hugging Face "
            "cache is an error (as with HF_HUB_OFFLINE=1).", ("--offline",), bool,
            False, check=bool),
    Setting("skip_kinds", "Leave segments of this kind untranslated (e.g. table_cell, "
            "alt, front_matter); repeatable.", ("--skip",), metavar="KIND", many=True,
            given_as="repeat", check=frozenset),
    Setting("dialect", "Markdown dialect: {default} (default: from mkdocs.yml, "
            ".vitepress/, docusaurus.config.*, book.toml, Hugo or Jekyll config, "
            ".mdx), commonmark, mkdocs, vitepress, mdx, hugo, mdbook, jekyll, myst.",
            ("--dialect",), default="auto", metavar="NAME", check=dialect_name),
    Setting("protect", "Never translate text matching this regular expression; "
            "repeatable.", ("--protect",), metavar="REGEX", many=True,
            given_as="repeat", check=protect_patterns),
    Setting("keep_anchors", "Give each translated heading the id its source heading "
            "had (MkDocs attr_list, VitePress, Hugo, MDX), so #links still work.",
            ("--keep-anchors/--no-keep-anchors",), bool, False, check=bool),
    Setting("max_file_size", "Inputs larger than this fail: bytes, or e.g. 512K, "
            "100MB, 1G (default {default}).", ("--max-file-size",), int, MAX_FILE_SIZE,
            metavar="SIZE", given_as="text", check=max_file_size, show=_size),
    Setting("threads", "hf engine: CPU threads.", ("--threads",), int, metavar="N",
            project=False, minimum=1),
    Setting("max_new_tokens", "hf engine: cap on generated tokens per segment.",
            ("--max-new-tokens",), int, metavar="N", project=False, minimum=1),
    Setting("context_tokens", "Preceding text given as context, in tokens (default "
            "{default}).", ("--context-tokens",), int, 128, metavar="N", minimum=0),
    Setting("max_segment_tokens", "Split longer segments at sentences (default "
            "{default}; 0: never).", ("--max-segment-tokens",), int, 256, metavar="N",
            minimum=0),
    Setting("glossaries", "Glossary file (.tsv, .csv, .json); may be repeated.",
            ("--glossary",), metavar="FILE", many=True, paths=True, given_as="repeat",
            check=tuple),
    Setting("strict_glossary", "A glossary miss fails that document (not written).",
            ("--strict-glossary/--lenient-glossary",), bool, False, check=bool),
    Setting("gates", "Answer checks, comma-separated: echo, length, repetition, "
            "script (rejected answers are retried) and untranslated (only "
            "reported); default all.", ("--gates",), metavar="GATE[,GATE]",
            many=True, given_as="csv", default=GATES, check=gate_names),
    Setting("no_gates", "Turn every answer check off (as gates = [] does).",
            ("--no-gates",), bool, False, project=False),
    Setting("strict", "An answer that fails a check even after retry and fallback "
            "fails that document (not written).", ("--strict/--lenient",), bool,
            False, check=bool),
    Setting("exclude", "Leave out matching sources; repeatable.", ("--exclude",),
            metavar="PATTERN", many=True, given_as="repeat", check=tuple),
    Setting("memory", f"Translation memory (default {DEFAULT_RELATIVE_PATH}, or "
            f"${ENV_VAR}).", ("--memory",), metavar="PATH", paths=True),
    Setting("no_memory", "Neither read nor write the memory.", ("--no-memory",), bool,
            False, project=False),
    Setting("config", "Project file (default: nearest hymt.toml).", ("--config",),
            metavar="FILE", project=False),
    Setting("check", "Exit 1 when outputs are missing or stale.", ("--check",), bool,
            False, project=False),
    Setting("dry_run", "Count what would be translated; no writes.", ("--dry-run",),
            bool, False, project=False),
    Setting("prune", "Delete outputs hymt wrote whose source is gone (and that are "
            "unchanged since).", ("--prune",), bool, False, project=False),
    Setting("allow_outside", "Let the project file's out pattern write outside the "
            "project folder.", ("--allow-outside",), bool, False, project=False),
    Setting("json", "Print a JSON run summary on stdout.", ("--json",), bool, False,
            project=False),
    Setting("debug", "Show tracebacks and debug logs.", ("--debug",), bool, False,
            project=False),
    Setting("quiet", "Print errors only.", ("--quiet", "-q"), bool, False,
            project=False),
    Setting("verbose", "Also print every per-segment problem.", ("--verbose", "-v"),
            bool, False, project=False),
)
"""Every `hymt translate` option, in `--help` order."""

BY_NAME: dict[str, Setting] = {s.name: s for s in SETTINGS}
PROJECT: tuple[Setting, ...] = tuple(s for s in SETTINGS if s.project)
"""The settings a project file may set."""


def defaults() -> dict[str, Any]:
    """The value of every project setting when neither the file nor a flag sets it."""
    return {s.name: s.default for s in PROJECT}


def default(name: str) -> Any:
    """The declared default of setting `name`."""
    return BY_NAME[name].default


def from_flags(values: dict[str, Any]) -> dict[str, Any]:
    """The project settings among command parameters, as merge values."""
    return {s.name: s.from_flag(values.get(s.name)) for s in PROJECT}


def checked(values: dict[str, Any]) -> dict[str, Any]:
    """Every project setting's merged value through its check, in table order."""
    return {s.name: s.checked(values[s.name]) for s in PROJECT}
