"""YAML front matter: translatable top-level string values, re-quoted when needed."""

from __future__ import annotations

import json
import logging
import re
import tomllib
from collections.abc import Callable, Iterator

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from ruamel.yaml.nodes import MappingNode, ScalarNode

from hymt_cli.document import LOOKALIKE_RE, TAG_RE, Escape, Segment, SegmentBuilder

log = logging.getLogger(__name__)

STR_TAG = "tag:yaml.org,2002:str"
_PLAIN_SAFE = re.compile(r"[^\s\-?:,\[\]{}#&*!|>'\"%@`](?:[^:#]|:(?!\s)|(?<!\s)#)*")


def value_ranges(
    yaml_text: str, keys: tuple[str, ...]
) -> Iterator[tuple[int, int, str, str | None]]:
    """(start, end, value, style) of each top-level string value under `keys`."""
    try:
        root = YAML().compose(yaml_text)
    except YAMLError:
        return
    if not isinstance(root, MappingNode):
        return
    for key, value in root.value:
        if not isinstance(key, ScalarNode) or key.value not in keys:
            continue
        if isinstance(value, ScalarNode) and str(value.tag) == STR_TAG:
            if (why := _untranslatable(key, value)) is not None:
                log.warning("front matter %r (line %d): %s", key.value,
                            key.start_mark.line + 1, why)
                continue
            yield value.start_mark.index, value.end_mark.index, value.value, value.style


def _untranslatable(key: ScalarNode, value: ScalarNode) -> str | None:
    """Why a listed string value is left alone, or None when it is translated."""
    anchor = getattr(value, "anchor", None)
    if anchor is not None and value.start_mark.index < key.start_mark.index:
        return f"an alias (*{anchor}) of another value, left untranslated"
    if anchor is not None:
        return (f"has an anchor (&{anchor}) that aliases may share, "
                "left untranslated")
    if value.style in ("|", ">"):
        return ("a block scalar, left untranslated (write it as a quoted string "
                "to have it translated)")
    return None


def front_matter_segments(
    yaml_text: str,
    keys: tuple[str, ...],
    to_source: Callable[[int], int],
    source: str,
    next_id: Callable[[], str],
    syntax: str = "yaml",
) -> list[Segment]:
    """Segments for the translatable values of YAML (or `toml`, `json`) front
    matter; `to_source` maps front-matter to text offsets."""
    segments = []
    ranges = {"yaml": value_ranges, "toml": toml_value_ranges,
              "json": json_value_ranges}[syntax]
    escapes = {"yaml": yaml_escape, "toml": toml_escape,
               "json": lambda _, *edges: toml_escape('"', *edges)}[syntax]
    for start, end, value, style in ranges(yaml_text, keys):
        shown = " ".join(value.split("\n"))
        if LOOKALIKE_RE.search(shown) or TAG_RE.search(shown):
            continue
        # outer white space of the value is never sent, and put back on writing
        lead = value[: len(shown) - len(shown.lstrip())]
        trail = value[len(shown.rstrip()) :]
        shown = shown.strip()
        begin, finish = to_source(start), to_source(end)
        escape = escapes(style, lead, trail)
        if syntax == "yaml":
            escape = reparsed(escape, yaml_text, start, end)
        builder = SegmentBuilder("front_matter", begin, escape)
        builder.text(source[begin:finish], shown)
        if builder.has_words():
            segments.append(builder.build(next_id()))
    return segments


def yaml_escape(style: str | None, lead: str = "", trail: str = "") -> Escape:
    """Encode a translated value as a YAML scalar of `style` (plain falls back to
    '"'), between the source value's outer white space `lead` and `trail`."""

    def escape(text: str) -> str:
        text = lead + " ".join(text.split("\n")).strip() + trail
        if style == "'" and text.isprintable():
            return "'" + text.replace("'", "''") + "'"
        if style is None and is_plain_safe(text):
            return text
        return json.dumps(text, ensure_ascii=False)

    return escape


class FrontMatterError(ValueError):
    """A translated value would change what the front matter parses to."""


def reparsed(escape: Escape, yaml_text: str, start: int, end: int) -> Escape:
    """`escape`, checked: the front matter with the escaped value at `start:end`
    must still parse, to the same top-level keys, with that value a string."""
    keys = _top_keys(yaml_text)

    def checked(text: str) -> str:
        written = escape(text)
        candidate = yaml_text[:start] + written + yaml_text[end:]
        if _top_keys(candidate) != keys or not _is_string_at(candidate, start):
            raise FrontMatterError(
                f"front matter would not parse the same with {written!r} at offset "
                f"{start}; not written")
        return written

    return checked


def _top_keys(yaml_text: str) -> list[str] | None:
    try:
        root = YAML().compose(yaml_text)
    except YAMLError:
        return None
    if not isinstance(root, MappingNode):
        return None
    return [str(k.value) for k, _ in root.value]


def _is_string_at(yaml_text: str, start: int) -> bool:
    root = YAML().compose(yaml_text)
    return any(isinstance(v, ScalarNode) and str(v.tag) == STR_TAG
               and v.start_mark.index == start for _, v in root.value)


def is_plain_safe(text: str) -> bool:
    """Whether `text` reads back as the same string when written as a plain scalar."""
    if not _PLAIN_SAFE.fullmatch(text) or text != text.strip():
        return False
    try:
        loaded = YAML(typ="safe", pure=True).load(f"k: {text}\n")
    except YAMLError:
        return False
    return isinstance(loaded, dict) and loaded.get("k") == text


_TOML_LINE = re.compile(
    r"[ \t]*(?P<key>[A-Za-z0-9_-]+|\"[^\"\n]*\")[ \t]*=[ \t]*"
    r"(?P<value>\"(?:[^\"\\\n]|\\.)*\"|'[^'\n]*')[ \t]*(?:#.*)?$"
)


def toml_value_ranges(
    toml_text: str, keys: tuple[str, ...]
) -> Iterator[tuple[int, int, str, str | None]]:
    """(start, end, value, quote) of each top-level one-line string under `keys`
    (values before the first `[table]`; multi-line strings are left alone)."""
    pos = 0
    for line in toml_text.splitlines(keepends=True):
        if line.lstrip().startswith("["):
            return
        match = _TOML_LINE.match(line.rstrip("\r\n"))
        if match and match.group("key").strip('"') in keys:
            raw = match.group("value")
            try:
                value = tomllib.loads(f"k = {raw}")["k"]
            except tomllib.TOMLDecodeError:
                value = None
            if isinstance(value, str):
                yield pos + match.start("value"), pos + match.end("value"), value, raw[0]
        pos += len(line)


def json_value_ranges(
    json_text: str, keys: tuple[str, ...]
) -> Iterator[tuple[int, int, str, str | None]]:
    """(start, end, value, '"') of each top-level string value under `keys`."""
    decoder = json.JSONDecoder()
    depth, i, expect_key, key = 0, 0, False, None
    while i < len(json_text):
        ch = json_text[i]
        if ch == '"':
            try:
                value, end = decoder.raw_decode(json_text, i)
            except ValueError:
                return
            if depth == 1 and expect_key:
                key, expect_key = value, False
            elif depth == 1 and key in keys and isinstance(value, str):
                yield i, end, value, '"'
            i = end
            continue
        if ch in "{[":
            depth += 1
            expect_key = depth == 1 and ch == "{"
        elif ch in "}]":
            depth -= 1
        elif ch == "," and depth == 1:
            expect_key, key = True, None
        i += 1


def toml_escape(quote: str | None, lead: str = "", trail: str = "") -> Escape:
    """Encode a translated value as a TOML string (literal when it can stay one),
    between the source value's outer white space `lead` and `trail`."""

    def escape(text: str) -> str:
        text = lead + " ".join(text.split("\n")).strip() + trail
        if quote == "'" and "'" not in text and text.isprintable():
            return f"'{text}'"
        return json.dumps(text, ensure_ascii=False)

    return escape
