"""Format adapters: text -> `Document` (skeleton + segments), and back by rendering.

Each adapter is a module with `NAME`, `SUFFIXES` and `segment(text, options)`.
`Document.render` does the way back, so every format obeys the same identity law.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib import import_module
from pathlib import PurePath
from types import ModuleType

from hymt_cli.document import Document, without_kinds
from hymt_cli.documents.dialects import COMMONMARK, Dialect

DEFAULT_FRONT_MATTER_KEYS = ("title", "description", "summary")


@dataclass(frozen=True, slots=True)
class SegmentOptions:
    """Per-run choices that change what is translatable."""

    front_matter_keys: tuple[str, ...] = DEFAULT_FRONT_MATTER_KEYS
    """Front-matter keys whose values are translated; all others are kept."""
    skip_kinds: frozenset[str] = frozenset()
    """Segment kinds to keep untranslated (e.g. `table_cell`, `alt`)."""
    dialect: Dialect = COMMONMARK
    """The Markdown dialect (see `dialects`); other formats ignore it."""
    protect: tuple[str, ...] = ()
    """User regular expressions whose matches are locked wherever they occur."""
    keep_anchors: bool = False
    """Translated headings get the explicit id their source generated, where the
    dialect has a syntax for one (`md_anchors`)."""


@lru_cache(maxsize=64)
def protect_patterns(patterns: tuple[str, ...]) -> tuple[re.Pattern[str], ...]:
    """`SegmentOptions.protect` compiled (the settings checked them already)."""
    return tuple(re.compile(p) for p in patterns)


def protected_matches(text: str, patterns: tuple[re.Pattern[str], ...]
                      ) -> list[tuple[int, int]]:
    """Non-overlapping, non-empty (start, end) spans of `patterns` in `text`."""
    found = sorted((m.start(), m.end()) for p in patterns for m in p.finditer(text)
                   if m.end() > m.start())
    spans: list[tuple[int, int]] = []
    for start, end in found:
        if not spans or start >= spans[-1][1]:
            spans.append((start, end))
    return spans


FORMATS: dict[str, str] = {
    "md": "hymt_cli.documents.markdown",
    "html": "hymt_cli.documents.html",
    "txt": "hymt_cli.documents.text",
}
"""Format name -> adapter module, imported on first use."""

SUFFIXES: dict[str, str] = {
    ".md": "md",
    ".markdown": "md",
    ".mdown": "md",
    ".mkd": "md",
    ".mdx": "md",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".txt": "txt",
    ".text": "txt",
}


def adapter(format_name: str) -> ModuleType:
    """The adapter module for `format_name` (md, html or txt)."""
    try:
        return import_module(FORMATS[format_name])
    except KeyError:
        known = ", ".join(FORMATS)
        raise ValueError(f"unknown format {format_name!r} (known: {known})") from None


def format_for_path(path: PurePath) -> str | None:
    """The format a file's suffix implies, or None when it implies none."""
    return SUFFIXES.get(path.suffix.lower())


_MARKDOWN_LINE = re.compile(r"^(?:#{1,6}\s|[-*+]\s|>|```|~~~|\d+[.)]\s)", re.MULTILINE)


def sniff_format(text: str) -> str:
    """Guess the format of text read from stdin: a page, or a fragment of markup
    with no Markdown block syntax, is HTML; anything else is Markdown."""
    body = text.lstrip("\ufeff \t\r\n")
    head = body[:1000].lower()
    if head.startswith(("<!doctype html", "<html", "<?xml")) or "<body" in head:
        return "html"
    fragment = body.startswith("<") and body.rstrip().endswith(">")
    return "html" if fragment and not _MARKDOWN_LINE.search(body) else "md"


def with_dialect(
    options: SegmentOptions, name: str, path: PurePath | None, root: PurePath | None
) -> tuple[SegmentOptions, str]:
    """`options` with the dialect `name` (`auto`: detected from the project around
    `path`), and a phrase saying why that dialect."""
    from hymt_cli.documents.dialects import get_dialect

    if name != "auto":
        return replace(options, dialect=get_dialect(name)), "chosen by --dialect or dialect ="
    if path is None:
        return replace(options, dialect=get_dialect("commonmark")), "standard input"
    from pathlib import Path

    from hymt_cli.documents.dialect_detect import detect_dialect

    found = detect_dialect(Path(path), Path(root) if root else None)
    return replace(options, dialect=found.dialect), found.reason


def segment(
    text: str, format_name: str, options: SegmentOptions | None = None
) -> Document:
    """Parse `text` in `format_name` into a `Document`."""
    options = options or SegmentOptions()
    document = adapter(format_name).segment(text, options)
    if not options.skip_kinds:
        return document
    return replace(document, pieces=without_kinds(document.pieces, options.skip_kinds))
