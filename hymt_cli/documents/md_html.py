"""Raw HTML blocks and MDX JSX tags inside Markdown.

An HTML block goes through the HTML adapter, so its markup stays byte-exact
while its text and readable attributes (alt, title, aria-label, placeholder)
are translated, exactly as in an `.html` file. A JSX flow tag keeps every byte
but the string literals of its prose props (`title="…"`, `alt="…"`,
`label="…"`, `caption="…"`): those become segments.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from markdown_it.token import Token

from hymt_cli.document import (
    Escape,
    Markup,
    Segment,
    SegmentBuilder,
    Tag,
    markup_source,
)
from hymt_cli.documents import SegmentOptions
from hymt_cli.documents.md_inline import MdContext
from hymt_cli.documents.md_scan import PROSE_PROPS, JsxAttr, scan_jsx_tags

if TYPE_CHECKING:
    from hymt_cli.documents.md_source import Located



def block_region(doc: Located, token: Token) -> tuple[int, int] | None:
    """Original-text offsets of a block token's lines, when they are its content
    verbatim (not inside a container whose prefixes markdown-it stripped)."""
    if not token.map:
        return None
    begin, end = doc.line_start(token.map[0]), doc.line_start(token.map[1])
    if doc.norm[begin:end] != token.content:
        return None
    return doc.to_orig(begin), doc.to_orig(end)


def html_block(
    ctx: MdContext, doc: Located, token: Token, kind: str, options: SegmentOptions
) -> list[Segment]:
    """Segments of a raw HTML block, found by the HTML adapter."""
    from hymt_cli.documents import html  # imported late: html imports documents

    region = block_region(doc, token)
    if region is None:
        return []
    start, end = region
    found = html.segment(doc.text[start:end], options)
    # A `<` left in text means html.parser gave up on a tag the browser would
    # still read as one (an HTML block may end mid-tag): keep such text as it is.
    # A segment may not begin the block either: what starts its first line is
    # what makes it an HTML block at all.
    segments = [shift(p, start, ctx.next_id) for p in found.pieces
                if isinstance(p, Segment) and p.start > 0
                and "<" not in _plain_source(p)]
    if options.dialect.has("mdx"):  # `{expressions}` in JSX text are code
        segments = [s for s in segments if "{" not in s.text]
    return [s for s in segments if s.kind not in ("lang", "dir")]


def _plain_source(segment: Segment) -> str:
    """The segment's source outside its tags' markup."""
    text = segment.source
    for tag in segment.tags:
        for markup in (tag.open, tag.close, tag.locked):
            part = markup_source(markup) if markup is not None else ""
            if part:
                text = text.replace(part, "", 1)
    return text


def jsx_block(
    ctx: MdContext, doc: Located, token: Token, kind: str, options: SegmentOptions
) -> list[Segment]:
    """Segments of the prose props of JSX flow tags."""
    if not token.map or "jsx_prop" not in ctx.kinds:
        return []
    begin = doc.line_start(token.map[0])
    attrs: list[JsxAttr] = []
    scan_jsx_tags(doc.norm, doc.norm.index("<", begin), attrs)
    return [seg for attr in attrs if (seg := _prop(ctx, doc, attr)) is not None]


def _prop(ctx: MdContext, doc: Located, attr: JsxAttr) -> Segment | None:
    if attr.name not in PROSE_PROPS:
        return None
    start, end = doc.to_orig(attr.start), doc.to_orig(attr.end)
    raw = doc.text[start:end]
    lead = len(raw) - len(raw.lstrip())
    raw = raw.strip()
    builder = SegmentBuilder("jsx_prop", start + lead, jsx_string_escape(attr.quote))
    builder.text(raw, " ".join(raw.split()))
    return builder.build(ctx.next_id()) if builder.has_words() else None


def jsx_string_escape(quote: str) -> Escape:
    """Encode text for a JSX string literal delimited by `quote` (entities, as JSX
    strings have no backslash escapes)."""
    entity = {"\"": "&quot;", "'": "&apos;"}[quote]

    def escape(text: str) -> str:
        text = " ".join(text.split())
        return text.replace("&", "&amp;").replace(quote, entity)

    return escape


def shift(segment: Segment, offset: int, new_id: Callable[[], str]) -> Segment:
    """`segment` (and those nested in its tags) moved `offset` characters on, with
    fresh ids from `new_id` (the HTML adapter numbers each block from s1)."""
    tags = tuple(_shift_tag(tag, offset, new_id) for tag in segment.tags)
    return replace(segment, id=new_id(), start=segment.start + offset, tags=tags)


def _shift_tag(tag: Tag, offset: int, new_id: Callable[[], str]) -> Tag:
    def markup(value: Markup | None) -> Markup | None:
        if not isinstance(value, tuple):
            return value
        return tuple(p if isinstance(p, str) else shift(p, offset, new_id)
                     for p in value)

    return replace(tag, open=markup(tag.open), close=markup(tag.close),
                   locked=markup(tag.locked))
