"""YAML front matter: translatable top-level string values, re-quoted when needed."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from ruamel.yaml.nodes import MappingNode, ScalarNode

from hymt_cli.document import LOOKALIKE_RE, TAG_RE, Escape, Segment, SegmentBuilder

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
            if value.style in (None, "'", '"'):
                yield value.start_mark.index, value.end_mark.index, value.value, value.style


def front_matter_segments(
    yaml_text: str,
    keys: tuple[str, ...],
    to_source: Callable[[int], int],
    source: str,
    next_id: Callable[[], str],
) -> list[Segment]:
    """Segments for the translatable values; `to_source` maps YAML to text offsets."""
    segments = []
    for start, end, value, style in value_ranges(yaml_text, keys):
        shown = " ".join(value.split("\n"))
        if LOOKALIKE_RE.search(shown) or TAG_RE.search(shown):
            continue
        begin, finish = to_source(start), to_source(end)
        builder = SegmentBuilder("front_matter", begin, yaml_escape(style))
        builder.text(source[begin:finish], shown)
        if builder.has_words():
            segments.append(builder.build(next_id()))
    return segments


def yaml_escape(style: str | None) -> Escape:
    """Encode a translated value as a YAML scalar of `style` (plain falls back to '"')."""

    def escape(text: str) -> str:
        text = " ".join(text.split("\n")).strip()
        if style == "'" and text.isprintable():
            return "'" + text.replace("'", "''") + "'"
        if style is None and is_plain_safe(text):
            return text
        return json.dumps(text, ensure_ascii=False)

    return escape


def is_plain_safe(text: str) -> bool:
    """Whether `text` reads back as the same string when written as a plain scalar."""
    if not _PLAIN_SAFE.fullmatch(text) or text != text.strip():
        return False
    try:
        loaded = YAML(typ="safe", pure=True).load(f"k: {text}\n")
    except YAMLError:
        return False
    return isinstance(loaded, dict) and loaded.get("k") == text
