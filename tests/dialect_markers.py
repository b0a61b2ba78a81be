"""Markers a translation must keep byte for byte, per Markdown dialect.

`markers(text, dialect)` lists, in source order, every piece of a page that is
syntax rather than prose: front-matter lines (but for the values of translated
keys), fenced code blocks, inline code, shortcodes, Liquid tags and raw regions,
mdBook includes, attribute lists, alert markers, ... A correct translation has
the same list, item for item. Patterns are alternatives of one regex, so the
earliest match wins and a region (a raw block, a fence) hides what it contains.
"""

from __future__ import annotations

import json
import re
import tomllib
from typing import Any

from ruamel.yaml import YAML

TRANSLATED_KEYS = ("title", "description", "summary")
"""Top-level front-matter keys whose values are translated (hymt's default)."""

_FENCE = (r"^(?P<fi>[ \t>]*)(?P<ff>`{3,}|~{3,})[^\n]*\n[\s\S]*?^(?P=fi)(?P=ff)[`~]*[ \t]*$",
          r"^[ \t>]*(?:`{3,}|~{3,})[^\n]*$")
_COMMON = (
    *_FENCE,
    r"<!--[\s\S]*?-->",
    r"^[ \t]*>[ \t]*\[!(?:NOTE|TIP|IMPORTANT|WARNING|CAUTION)\]",
    r"^[ \t]*(?:[-*+]|\d+[.)])[ \t]+\[[ xX]\](?=[ \t])",
    r"\[\^[^\]\s]+\]:?",
    r"`[^`\n]+`",
    r"</?(?:details|summary|picture|source|p|div|kbd|sup|sub|br|span)\b"
    r"(?![^<>]*\b(?:alt|title|aria-label)=)[^<>]*>",
)
_ATTR_LIST = r"\{[ \t]*[#.:][^{}\n]*\}"
_EMOJI = r"(?<![\w:]):[a-z0-9][a-z0-9_+-]*:(?![\w:])"
_DOLLARS = (r"\$\$[\s\S]+?\$\$", r"(?<![\\$\w])\$(?=\S)[^$\n]+?(?<=\S)\$(?!\w)")
_MATH = (*_DOLLARS, r"\\\([\s\S]+?\\\)", r"\\\[[\s\S]+?\\\]")
"""pymdownx.arithmatex: dollars, `\\(…\\)` and `\\[…\\]` (seen before Markdown)."""
_MDBOOK_MATH = (r"\\\\\([\s\S]+?\\\\\)", r"\\\\\[[\s\S]+?\\\\\]")
"""mdBook's MathJax: `\\\\(…\\\\)` and `\\\\[…\\\\]` (Markdown eats one backslash)."""
_CONTAINER = r"^[ \t]*:{3,}[ \t]*[\w-]*"

DIALECT_PATTERNS: dict[str, tuple[str, ...]] = {
    "commonmark": (),
    "mkdocs": (
        r"^[ \t]*(?:!!!|\?\?\?\+?)[ \t]+[\w-]+(?:[ \t]+(?!\")[\w-]+)*",
        r"^[ \t]*===[!+]?(?=[ \t]+\")",
        r"^[ \t]*///[ \t]*[\w-]*",
        r"^[ \t]*-{2,}8<-{2,}[^\n]*$",
        r"^\*\[[^\]\n]+\]:",
        r"\{\*[^*\n]*\*\}",
        r"\{(?:\+\+|--|~~|==|>>)|(?:\+\+|--|~~|==|<<)\}|~>",
        r"\+\+[\w+-]+\+\+",
        r"\(\d+\)!",
        _ATTR_LIST, _EMOJI, *_MATH,
    ),
    "vitepress": (
        r"\{\{[\s\S]*?\}\}", r"\[\[toc\]\]", r"^[ \t]*<<<[^\n]*$", _CONTAINER,
        _ATTR_LIST, _EMOJI, *_DOLLARS,
    ),
    "mdx": (
        r"^(?:import|export)\b[^\n]*(?:\n(?!\n)[^\n]*)*",
        r"\{/\*[\s\S]*?\*/\}",
        r"\{[^{}\n]*(?:\{[^{}\n]*\}[^{}\n]*)*\}",
        r"</?[A-Z][\w.]*(?:\s[^<>]*?)?/?>|<>|</>",
        _CONTAINER,
    ),
    "hugo": (
        r"\{\{<\s*(?P<hin>[\w-]+\.inline)\b[\s\S]*?>\}\}[\s\S]*?\{\{<\s*/(?P=hin)\s*>\}\}",
        r"\{\{<\s*highlight\b[\s\S]*?>\}\}[\s\S]*?\{\{<\s*/highlight\s*>\}\}",
        r"\{\{<[\s\S]*?>\}\}",
        r"\{\{%[\s\S]*?%\}\}",
        _ATTR_LIST,
    ),
    # `{{#title …}}` sets the page's <title>: its text is translated, its
    # delimiters are markers (see `plain_text_args`).
    "mdbook": (r"\{\{#title[ \t]+(?=[^{}\n]*\}\})", r"\}\}", r"\{\{#[\s\S]*?\}\}",
               *_MDBOOK_MATH),
    "jekyll": (
        r"\{%-?\s*raw\s*-?%\}[\s\S]*?\{%-?\s*endraw\s*-?%\}",
        r"\{%-?\s*comment\s*-?%\}[\s\S]*?\{%-?\s*endcomment\s*-?%\}",
        r"\{%-?\s*highlight\b[\s\S]*?%\}[\s\S]*?\{%-?\s*endhighlight\s*-?%\}",
        r"\{%[\s\S]*?%\}",
        r"\{\{[\s\S]*?\}\}",
        r"\{:[^{}\n]*\}",
        _DOLLARS[0],
    ),
    "myst": (r"\{[\w:-]+\}(?=`)", r"^\([\w-]+\)=[ \t]*$", _ATTR_LIST, *_DOLLARS),
}
"""Dialect name -> patterns beyond the common ones, in priority order."""

_COMPILED = {name: re.compile("|".join(f"(?:{p})" for p in (*_COMMON[:2], *extra, *_COMMON[2:])),
                              re.MULTILINE)
             for name, extra in DIALECT_PATTERNS.items()}
_BOM = "\ufeff"


def dialect_name(dialect: Any) -> str:
    """The name of `dialect`, given as a name or as a `Dialect`."""
    return str(getattr(dialect, "name", dialect))


def split_front_matter(text: str, dialect: Any = "commonmark") -> tuple[str | None, str, str]:
    """(kind, block, body): kind is yaml, toml, json or None; `block` holds the
    delimiters; TOML and JSON are recognised for Hugo only."""
    lead = _BOM if text.startswith(_BOM) else ""
    rest = text[len(lead):]
    kinds = [("yaml", r"---[ \t]*\r?\n[\s\S]*?^(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)")]
    if dialect_name(dialect) == "hugo":
        kinds += [("toml", r"\+\+\+[ \t]*\r?\n[\s\S]*?^\+\+\+[ \t]*(?:\r?\n|\Z)"),
                  ("json", r"\{[ \t]*\r?\n[\s\S]*?^\}[ \t]*(?:\r?\n|\Z)")]
    for kind, pattern in kinds:
        match = re.match(pattern, rest, re.MULTILINE)
        if match:
            return kind, lead + match.group(), rest[match.end():]
    return None, "", text


def front_matter_data(text: str, dialect: Any = "commonmark") -> tuple[str, dict] | None:
    """The parsed front matter of `text` (tomllib, json or ruamel), with its kind."""
    kind, block, _ = split_front_matter(text, dialect)
    if kind is None:
        return None
    inner = block.lstrip(_BOM)
    if kind == "json":
        return kind, json.loads(inner)
    inner = inner.split("\n", 1)[1].rstrip()
    inner = inner[: inner.rfind("\n") + 1] if "\n" in inner else ""
    if kind == "toml":
        return kind, tomllib.loads(inner)
    data = YAML(typ="safe", pure=True).load(inner)
    return kind, dict(data or {})


def front_matter_markers(kind: str | None, block: str) -> list[str]:
    """Each front-matter line, or just the `key =` part of a translated key's line."""
    key = "|".join(TRANSLATED_KEYS)
    prefix = {"yaml": rf"^(?:{key})[ \t]*:", "toml": rf"^(?:{key})[ \t]*=",
              "json": rf"^[ \t]*\"(?:{key})\"[ \t]*:"}.get(kind or "")
    found, depth, top = [], 0, True
    for line in block.splitlines(keepends=True):
        if kind == "toml" and line.startswith("["):
            top = False
        match = re.match(prefix, line) if prefix and top and depth <= 1 else None
        found.append(match.group() if match else line)
        if kind == "json":
            depth += _brace_balance(line)
    return found


def _brace_balance(line: str) -> int:
    """`{` minus `}` outside JSON strings."""
    balance, quoted, escaped = 0, False, False
    for ch in line:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = quoted
        elif ch == '"':
            quoted = not quoted
        elif not quoted:
            balance += {"{": 1, "}": -1}.get(ch, 0)
    return balance


def marker_spans(text: str, dialect: Any) -> list[tuple[int, int]]:
    """(start, end) of each body marker of `text`, front matter excluded."""
    _, block, body = split_front_matter(text, dialect)
    pattern = _COMPILED[dialect_name(dialect)]
    return [(m.start() + len(block), m.end() + len(block)) for m in pattern.finditer(body)]


def markers(text: str, dialect: Any) -> list[str]:
    """Every marker of `text` in `dialect` (a name or a `Dialect`), in order."""
    kind, block, _ = split_front_matter(text, dialect)
    return front_matter_markers(kind, block) + [text[a:b] for a, b in marker_spans(text, dialect)]


_TITLE = re.compile(r"\{\{#title[ \t]+([^{}\n]*)\}\}")
_ESCAPE = re.compile(r"&#?\w+;|\\[!-/:-@\[-`{-~]")


def plain_text_args(text: str, dialect: Any) -> list[str]:
    """Arguments that the site reads as plain text, not Markdown (mdBook's
    `{{#title …}}`): a translation must put no Markdown escapes or entities in."""
    if dialect_name(dialect) != "mdbook":
        return []
    return [m.group(1) for m in _TITLE.finditer(text)]


def escaped(arg: str) -> bool:
    """Whether `arg` holds a Markdown backslash escape or an HTML entity."""
    return _ESCAPE.search(arg) is not None


_PROSE_LINE = re.compile(r"(?:#{1,6} |[-*+] |\d+\. |> )?([A-Za-z][A-Za-z ,.;'’()!?-]{14,})")


def prose_lines(text: str, dialect: Any) -> list[str]:
    """Lines of plain prose (letters, spaces, light punctuation; after a heading,
    list or quote marker) outside front matter, code and multi-line markers: a
    translation changes each one."""
    _, block, _ = split_front_matter(text, dialect)
    hidden = [(a, b) for a, b in marker_spans(text, dialect) if "\n" in text[a:b]]
    found, offset = [], 0
    for line in text.splitlines(keepends=True):
        start, offset = offset, offset + len(line)
        if start < len(block) or any(a <= start < b for a, b in hidden):
            continue
        if _PROSE_LINE.fullmatch(line.rstrip("\r\n")):
            found.append(line.rstrip("\r\n"))
    return found
