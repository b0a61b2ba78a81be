"""Inline runs of HTML: from a list of text and markup items to one segment.

A run is what the segmenter collects between two block boundaries (or inside one
attribute value). Turning it into pieces is shared by text flow and attributes:
pair inline tags, lock template syntax and tag lookalikes, keep edge whitespace in
the skeleton, collapse inner whitespace for the engine, and build the segment.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

from hymt_cli.document import (
    LOOKALIKE_RE,
    Escape,
    Markup,
    Piece,
    SegmentBuilder,
    markup_source,
)
from hymt_cli.documents import protected_matches

WHITESPACE = " \t\n\r\f"
"""ASCII whitespace as HTML defines it (U+00A0 is not whitespace)."""

_WS_RUN_RE = re.compile(r"[ \t\n\r\f]+")
TEMPLATE_RE = re.compile(r"\{\{[^<]*?\}\}|\{%[^<]*?%\}|\{#[^<]*?#\}")
"""Template syntax (Jinja, Liquid, Handlebars, Go templates) kept as is."""
_ABRUPT_COMMENT_RE = re.compile(r"<!---?>")
_REFERENCE_RE = re.compile(r"&(?:#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)")
"""A character reference as `html.unescape` finds it (used in attribute values)."""

NewId = Callable[[], str]


@dataclass(frozen=True, slots=True)
class Item:
    """One element of an inline run."""

    kind: str
    """text, open, close or atomic."""
    raw: Markup
    """Exact source (tag markup may hold nested attribute segments)."""
    start: int
    """Character offset of the item in the source."""
    shown: str = ""
    """Text as the engine sees it (text items, and the inside of atomic items)."""
    name: str = ""
    """Tag kind (link, em, image, code, ...) for markup items."""
    divisible: bool = False
    """Text whose raw source equals its shown text, so it can be cut anywhere."""
    element: str = ""
    """Lower-case element name, for open and close items (pairs them up)."""
    edge: bool = False
    """Markup that goes to the skeleton when it stands at either end of the run
    (comments, stray end tags, declarations)."""


def text_item(raw: str, start: int, shown: str | None = None) -> Item:
    """A run of text; `shown` defaults to `raw` (no references inside)."""
    if shown is None:
        return Item("text", raw, start, raw, divisible=True)
    return Item("text", raw, start, shown, divisible=shown == raw)


def value_items(raw: str, start: int) -> list[Item]:
    """Text items for an attribute value: literal runs and character references."""
    items, pos = [], 0
    for match in _REFERENCE_RE.finditer(raw):
        if match.start() > pos:
            items.append(text_item(raw[pos : match.start()], start + pos))
        ref = match.group()
        items.append(text_item(ref, start + match.start(), html.unescape(ref)))
        pos = match.end()
    if pos < len(raw):
        items.append(text_item(raw[pos:], start + pos))
    return items


def text_escape(text: str) -> str:
    """Encode translated text for HTML element content."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("\xa0", "&nbsp;")


def quoted_escape(quote: str) -> Escape:
    """The escape for an attribute value between `quote` characters."""
    entity = "&quot;" if quote == '"' else "&#39;"

    def escape(text: str) -> str:
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace("\xa0", "&nbsp;")
        return text.replace(quote, entity)

    return escape


_UNSAFE_UNQUOTED_RE = re.compile(r"""[\s&<>"'=`/]""")


def unquoted_escape(text: str) -> str:
    """Encode an unquoted attribute value: every character that would end or
    confuse it becomes a numeric reference."""
    return _UNSAFE_UNQUOTED_RE.sub(lambda m: f"&#{ord(m.group())};", text)


def run_pieces(
    items: list[Item], kind: str, escape: Escape, new_id: NewId,
    protect: tuple[re.Pattern[str], ...] = (),
) -> list[Piece]:
    """Skeleton and (at most one) segment for an inline run, in source order;
    `protect`: the `--protect` patterns, whose matches are locked."""
    items = _protect(_pair(items), protect)
    if not _has_words(items):
        return skeleton(items)
    lead, core, trail = _trim(items)
    builder = SegmentBuilder(kind, core[0].start, escape)
    for item in _collapse(core):
        _feed(builder, item)
    return [*skeleton(lead), builder.build(new_id()), *skeleton(trail)]


def skeleton(items: list[Item]) -> list[Piece]:
    """The items' source as pieces (nested attribute segments stay segments)."""
    pieces: list[Piece] = []
    for item in items:
        pieces.extend((item.raw,) if isinstance(item.raw, str) else item.raw)
    return pieces


def _feed(builder: SegmentBuilder, item: Item) -> None:
    if item.kind == "text":
        builder.text(markup_source(item.raw), item.shown)
    elif item.kind == "open":
        builder.open(item.raw, item.name)
    elif item.kind == "close":
        builder.close(item.raw)
    else:
        builder.atomic(item.raw, item.shown, kind=item.name)


def _pair(items: list[Item]) -> list[Item]:
    """Keep properly nested open/close pairs; other markup becomes atomic."""
    paired: set[int] = set()
    stack: list[int] = []
    for index, item in enumerate(items):
        if item.kind == "open":
            stack.append(index)
        elif item.kind == "close" and stack and _same(items[stack[-1]], item):
            paired.update((stack.pop(), index))
    return [
        replace(item, kind="atomic", shown="", name="html", edge=True)
        if item.kind in ("open", "close") and index not in paired
        else item
        for index, item in enumerate(items)
    ]


def _same(opening: Item, closing: Item) -> bool:
    return opening.element == closing.element


def _has_words(items: list[Item]) -> bool:
    return any(i.kind == "text" and any(c.isalpha() for c in i.shown) for i in items)


def _trim(items: list[Item]) -> tuple[list[Item], list[Item], list[Item]]:
    """Split edge whitespace and edge comments/stray markup off into skeleton.

    Edge whitespace is what `str.strip` removes (U+00A0, `&nbsp;` and `&#160;`
    included): the answer cleaner strips that much, so a segment must not hold it.
    """
    core = list(items)
    lead: list[Item] = []
    while _is_edge(core[0]):
        lead.append(core.pop(0))
    if core[0].kind == "text" and core[0].divisible:
        space, core[0] = _cut_text(core[0], _lead_length(core[0].shown))
        lead += [space] if space.shown else []
    trail: list[Item] = []
    while _is_edge(core[-1]):
        trail.insert(0, core.pop())
    if core[-1].kind == "text" and core[-1].divisible:
        core[-1], space = _cut_text(core[-1], len(core[-1].shown.rstrip()))
        trail = ([space] if space.shown else []) + trail
    return lead, core, trail


def _lead_length(text: str) -> int:
    return len(text) - len(text.lstrip())


def _is_edge(item: Item) -> bool:
    if item.kind == "text":
        return not item.shown.strip()
    return item.edge


def _cut_text(item: Item, at: int) -> tuple[Item, Item]:
    """Cut a divisible text item in two at `at`."""
    raw = markup_source(item.raw)
    return text_item(raw[:at], item.start), text_item(raw[at:], item.start + at)


def _collapse(items: list[Item]) -> Iterator[Item]:
    """Show each whitespace run inside the run as one space."""
    after_space = False
    for item in items:
        if item.kind != "text":
            after_space = False
            yield item
            continue
        shown = _WS_RUN_RE.sub(" ", item.shown)
        if after_space and shown.startswith(" "):
            shown = shown[1:]
        after_space = shown.endswith(" ") or (after_space and not shown)
        yield replace(item, shown=shown)


def _protect(items: list[Item], protect: tuple[re.Pattern[str], ...]) -> list[Item]:
    """Lock template syntax, tag lookalikes and `protect` matches found in text,
    as atomic items."""
    out: list[Item] = []
    group: list[Item] = []
    for item in items:
        if item.kind == "text":
            group.append(item)
            continue
        out += _protect_group(group, protect)
        out.append(item)
        group = []
    return out + _protect_group(group, protect)


Span = tuple[int, int, str]


def _protect_group(group: list[Item], protect: tuple[re.Pattern[str], ...]
                   ) -> list[Item]:
    spans = _spans(group, protect)
    if not spans:
        return group
    out: list[Item] = []
    bucket: list[Item] = []
    current: int | None = None
    for position, part in _parts(group, spans):
        which = _span_at(spans, position)
        if which != current and bucket:
            out.append(_locked(bucket, spans[current][2]))  # type: ignore[index]
            bucket = []
        current = which
        (out if which is None else bucket).append(part)
    if bucket:
        out.append(_locked(bucket, spans[current][2]))  # type: ignore[index]
    return out


def _span_at(spans: list[Span], position: int) -> int | None:
    return next((k for k, (s, e, _) in enumerate(spans) if s <= position < e), None)


def _locked(parts: list[Item], kind: str) -> Item:
    raw = "".join(markup_source(p.raw) for p in parts)
    shown = "".join(p.shown for p in parts) if kind == "template" else ""
    shown = _WS_RUN_RE.sub(" ", shown)
    return Item("atomic", raw, parts[0].start, shown, kind)


def _spans(group: list[Item], protect: tuple[re.Pattern[str], ...]) -> list[Span]:
    """Protected spans of the group's shown text, widened to whole references."""
    shown = "".join(i.shown for i in group)
    found = [(m.start(), m.end(), "literal") for m in LOOKALIKE_RE.finditer(shown)]
    found += [(start, end, "protected") for start, end in protected_matches(shown, protect)]
    found += [(m.start(), m.end(), "template") for m in TEMPLATE_RE.finditer(shown)]
    # `<!-->` that html.parser left as text is an (empty) comment to a browser
    found += [(m.start(), m.end(), "literal") for m in _ABRUPT_COMMENT_RE.finditer(shown)]
    bounds = list(_bounds(group))
    spans: list[Span] = []
    for start, end, kind in sorted(found):
        for a, b, divisible in bounds:
            if not divisible:
                start = a if a < start < b else start
                end = b if a < end < b else end
        if spans and start < spans[-1][1]:
            last = spans.pop()
            kind = "template" if "template" in (kind, last[2]) else kind
            start, end = min(start, last[0]), max(end, last[1])
        spans.append((start, end, kind))
    return spans


def _bounds(group: list[Item]) -> Iterator[tuple[int, int, bool]]:
    position = 0
    for item in group:
        yield position, position + len(item.shown), item.divisible
        position += len(item.shown)


def _parts(group: list[Item], spans: list[Span]) -> Iterator[tuple[int, Item]]:
    """The group's items, divisible ones cut at span edges, with their positions."""
    edges = sorted({x for s, e, _ in spans for x in (s, e)})
    for (a, b, divisible), item in zip(_bounds(group), group):
        cuts = [a, *(x for x in edges if a < x < b and divisible), b]
        if a == b:
            yield a, item
            continue
        raw = markup_source(item.raw)
        for lo, hi in zip(cuts, cuts[1:]):
            if (lo, hi) == (a, b):
                yield a, item
            else:
                yield lo, text_item(raw[lo - a : hi - a], item.start + lo - a)
