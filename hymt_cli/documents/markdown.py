"""Markdown adapter: CommonMark + GFM tables/strikethrough + front matter, footnotes,
definition lists, admonitions and heading anchors.

Segments are the inline content of leaf blocks; everything else (code, raw HTML
blocks, reference definitions, markers, `<!-- hymt:off -->` regions) is skeleton.
Which blocks are translated is the `EXTRACTORS` table, switchable by kind name.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace

from markdown_it.token import Token

from hymt_cli.document import TAG_RE, Document, Markup, Piece, Segment, Tag
from hymt_cli.structure import Event, html_events, same_events
from hymt_cli.documents import SegmentOptions
from hymt_cli.documents.md_context import Rules
from hymt_cli.documents.md_escape import plain_line, plain_run
from hymt_cli.documents.md_front_matter import front_matter_segments
from hymt_cli.documents.md_inline import MdContext, Span, build_inline
from hymt_cli.documents.md_lines import CMAP
from hymt_cli.documents.dialects import COMMONMARK, Dialect
from hymt_cli.documents.md_anchors import (
    Heading,
    anchor_suffixes,
    heading_text,
    syntax_for,
    with_anchor,
)
from hymt_cli.documents.md_blocks import JSX, TITLE_OPEN
from hymt_cli.documents.md_html import html_block, jsx_block
from hymt_cli.documents.md_parser import (
    ANCHOR,
    make_parser,
    parse_chunks,
    parser_for,
    render_html,
)
from hymt_cli.documents.md_protect import gap_patterns
from hymt_cli.documents.md_source import Located, locate

__all__ = ["NAME", "SUFFIXES", "EXTRACTORS", "KINDS", "segment", "segment_markdown",
           "make_parser", "render_html", "same_structure", "structure_events"]

NAME = "md"
SUFFIXES = (".md", ".markdown", ".mdown", ".mkd")

_OFF_REGION = re.compile(r"<!--\s*hymt:off\s*-->.*?(?:<!--\s*hymt:on\s*-->|\Z)", re.DOTALL)
_CONTAINERS = {
    "list_item_open": "list_item",
    "bullet_list_open": "list_item",
    "blockquote_open": "blockquote",
    "footnote_open": "footnote",
    "footnote_reference_open": "footnote",
    "dd_open": "definition",
    "admonition_open": "admonition",
}
_LEAVES = {
    "heading_open": "heading",
    "th_open": "table_cell",
    "td_open": "table_cell",
    "admonition_title_open": "admonition_title",
    "dt_open": "term",
}


Extractor = Callable[[MdContext, Located, Token, str, SegmentOptions], list[Segment]]


def dialect_terms(text: str, dialect: Dialect) -> tuple[str, ...]:
    """Patterns for the abbreviations a page defines (`*[HTML]: …`): the terms
    are locked in its prose, or pymdownx would no longer find them."""
    if not dialect.has("abbr"):
        return ()
    terms = re.findall(r"^[ \t]*\*\[([^\]\n]+)\]:", text, re.MULTILINE)
    return tuple(rf"(?<!\w){re.escape(term)}(?!\w)" for term in dict.fromkeys(terms))


def inline_block(
    ctx: MdContext, doc: Located, token: Token, kind: str, options: SegmentOptions
) -> list[Segment]:
    """Segments of a leaf block's inline content (paragraph, cell, term, ...)."""
    cmap = token.meta.get(CMAP)
    if cmap is None:
        return []
    span = Span(token.content, doc.to_orig_all(cmap), doc.text)
    escape, rules = plain_run, _rules_for(ctx.rules, kind, doc.text, span.cmap[0])
    if kind == "book_title":
        escape, rules = plain_line, None
    built = build_inline(ctx, span, token.children or [], kind, escape,
                         token.meta.get(ANCHOR), rules)
    if built is None:
        return []
    if not isinstance(built, Segment):
        return _segments_of(built)
    if kind == "blockquote":
        return _without_alert_marker(built)
    if kind == "list_item":
        return _without_task_marker(built)
    return [built]


_BLOCK_TEXT = frozenset({"paragraph", "list_item", "blockquote", "footnote",
                         "definition", "admonition", "term"})
_ATX = re.compile(r"#[ \t]*$")


def _rules_for(rules: Rules, kind: str, text: str, start: int) -> Rules:
    """The escaping rules of a segment of `kind` starting at `start` in `text`."""
    atx = kind == "heading" and bool(_ATX.search(text, text.rfind("\n", 0, start) + 1,
                                                  start))
    line_start = kind in _BLOCK_TEXT or (kind == "heading" and not atx)
    brackets = kind not in _BLOCK_TEXT and kind not in ("heading", "table_cell")
    return replace(rules, line_start=line_start, atx=atx, cell=kind == "table_cell",
                   brackets=brackets)


def dialect_rules(dialect: Dialect, env: dict[str, object]) -> Rules:
    """The escaping rules of `dialect`; reference labels come from the parse `env`."""
    references = env.setdefault("references", {})
    assert isinstance(references, dict)
    return Rules(math=dialect.has("math"), mdx=dialect.has("mdx"),
                 tilde=dialect.has("tilde"), references=references)


_TASK = re.compile(r"\[[ xX]\][ \t]+")


def _without_task_marker(segment: Segment) -> list[Segment]:
    """A task list item's `[ ]` / `[x]` stays in the skeleton (escaped, GitHub and
    pymdownx.tasklist would no longer draw a checkbox)."""
    text, source = _TASK.match(segment.text), _TASK.match(segment.source)
    if text is None or source is None or text.group() != source.group():
        return [segment]
    rest = segment.text[text.end():]
    if not any(ch.isalpha() for ch in TAG_RE.sub("", rest)):
        return []
    return [replace(segment, text=rest, source=segment.source[source.end():],
                    start=segment.start + source.end())]


_ALERT_TEXT = re.compile(r"\[!(?:NOTE|TIP|IMPORTANT|WARNING|CAUTION)\](?: |$)", re.I)
_ALERT_SOURCE = re.compile(r"\[![A-Za-z]+\][ \t]*(?:(?:\r\n|\r|\n)[ \t>]*)?")


def _without_alert_marker(segment: Segment) -> list[Segment]:
    """A GitHub alert's `[!NOTE]` line stays in the skeleton, untranslated: escaped
    or moved, GitHub would no longer render the quote as an alert."""
    text = _ALERT_TEXT.match(segment.text)
    source = _ALERT_SOURCE.match(segment.source)
    if text is None or source is None:
        return [segment]
    rest = segment.text[text.end():]
    if not any(ch.isalpha() for ch in rest):
        return []
    return [replace(segment, text=rest, source=segment.source[source.end():],
                    start=segment.start + source.end())]


def front_matter(
    ctx: MdContext, doc: Located, token: Token, kind: str, options: SegmentOptions
) -> list[Segment]:
    """Segments of the translatable front-matter values."""
    start = token.meta.get("start")
    if start is None or not token.content:
        return []
    return front_matter_segments(token.content, options.front_matter_keys,
                                 lambda i: doc.to_orig(start + i), doc.text,
                                 ctx.next_id, token.meta.get("syntax", "yaml"))


EXTRACTORS: dict[str, Extractor] = {
    "front_matter": front_matter,
    "heading": inline_block,
    "paragraph": inline_block,
    "list_item": inline_block,
    "blockquote": inline_block,
    "table_cell": inline_block,
    "footnote": inline_block,
    "term": inline_block,
    "definition": inline_block,
    "admonition": inline_block,
    "admonition_title": inline_block,
    "tab_title": inline_block,
    "abbr": inline_block,
    "book_title": inline_block,
    "html": html_block,
    "jsx": jsx_block,
}
"""Block kind -> extractor; all share one signature."""

NESTED_KINDS = ("alt", "title", "jsx_prop")
"""Kinds that live inside another segment's locked tags or link markup."""

KINDS = frozenset(EXTRACTORS) | frozenset(NESTED_KINDS)
"""Every segment kind this adapter produces."""


def segment(text: str, options: SegmentOptions) -> Document:
    """Parse Markdown `text` into skeleton and segments (all kinds translated)."""
    return segment_markdown(text, options)


def segment_markdown(
    text: str, options: SegmentOptions | None = None, kinds: Iterable[str] = KINDS
) -> Document:
    """Parse Markdown `text`, translating only segments of `kinds`."""
    options = options or SegmentOptions()
    protect = (*options.protect, *dialect_terms(text, options.dialect))
    env: dict[str, object] = {}
    ctx = MdContext(text, frozenset(kinds),
                    protect=gap_patterns(options.dialect, protect),
                    rules=dialect_rules(options.dialect, env))
    doc = locate(text, options.dialect)
    regions = off_regions(text)
    pieces: list[Piece] = []
    headings: list[Heading] = []
    cursor = numbered = 0
    # One run of blocks at a time: its tokens and provisional segments go before
    # the next run is parsed, so memory holds the finished pieces and one run.
    for tokens in parse_chunks(parser_for(options.dialect), doc.norm, env):
        found, found_headings = _extract(ctx, doc, tokens, options)
        part, cursor = assemble(text, drop_off_regions(regions, found), cursor)
        names = numbering(part, numbered)
        numbered += len(names)
        pieces.extend(_rename(piece, names) for piece in part)
        headings.extend(replace(h, segment_id=names.get(h.segment_id or ""))
                        for h in found_headings)
    if cursor < len(text):
        pieces.append(text[cursor:])
    syntax = syntax_for(options.dialect) if options.keep_anchors else None
    if syntax is not None:
        pieces = _with_anchors(pieces, anchor_suffixes(headings, syntax))
    structure = functools.partial(structure_events, dialect=options.dialect)
    return Document(tuple(pieces), format=NAME, structure=structure)


def _extract(
    ctx: MdContext, doc: Located, tokens: list[Token], options: SegmentOptions
) -> tuple[list[Segment], list[Heading]]:
    """The segments of one run of tokens, and its headings."""
    found: list[Segment] = []
    headings: list[Heading] = []
    for token, kind in classify(tokens):
        if kind in ctx.kinds:
            new = EXTRACTORS[kind](ctx, doc, token, kind, options)
            found.extend(new)
            if kind == "heading":
                headings.append(_heading(token, new))
    return found, headings


def _with_anchors(pieces: list[Piece], suffixes: dict[str, str]) -> list[Piece]:
    return [with_anchor(p, suffixes[p.id])
            if isinstance(p, Segment) and p.id in suffixes else p for p in pieces]


def _heading(token: Token, segments: list[Segment]) -> Heading:
    own = next((s for s in segments if s.kind == "heading"), None)
    anchor = token.meta.get(ANCHOR)
    explicit = token.content[anchor:] if anchor is not None else None
    return Heading(own.id if own else None, heading_text(own, token.content), explicit)


def classify(tokens: Iterable[Token]) -> Iterable[tuple[Token, str]]:
    """Each front-matter and inline token with the kind of block it belongs to."""
    containers: list[str] = []
    previous = title_kind = ""
    for token in tokens:
        if token.type == "front_matter":
            yield token, "front_matter"
        elif token.type == "html_block":
            yield token, "html"
        elif token.type == JSX:
            yield token, "jsx"
        elif token.type == "inline" and previous == TITLE_OPEN:
            yield token, title_kind
        elif token.type == "inline":
            leaf = _LEAVES.get(previous)
            yield token, leaf or next(
                (c for c in reversed(containers) if c), "paragraph")
        if token.type == TITLE_OPEN:
            title_kind = token.meta["kind"]
        if token.nesting == 1:
            containers.append(_CONTAINERS.get(token.type, ""))
        elif token.nesting == -1 and containers:
            containers.pop()
        previous = token.type


def off_regions(text: str) -> list[tuple[int, int]]:
    """Where `<!-- hymt:off -->` … `<!-- hymt:on -->` regions lie in `text`."""
    return [m.span() for m in _OFF_REGION.finditer(text)]


def drop_off_regions(
    regions: list[tuple[int, int]], segments: list[Segment]
) -> list[Segment]:
    """Segments outside the `off_regions`."""
    if not regions:
        return segments
    return [s for s in segments
            if not any(a < s.end and s.start < b for a, b in regions)]


def assemble(
    text: str, segments: list[Segment], cursor: int = 0
) -> tuple[list[Piece], int]:
    """Segments in source order with the skeleton before each, from `cursor`;
    and the offset just past the last one (the skeleton after it is not added)."""
    pieces: list[Piece] = []
    for seg in sorted(segments, key=lambda s: s.start):
        if seg.start < cursor or text[seg.start : seg.end] != seg.source:
            continue  # overlapping or misplaced: leave that text as skeleton
        if seg.start > cursor:
            pieces.append(text[cursor : seg.start])
        pieces.append(seg)
        cursor = seg.end
    return pieces, cursor


def numbering(pieces: list[Piece], numbered: int = 0) -> dict[str, str]:
    """Provisional id -> final id: s1, s2, … in order of start offsets, counting
    on from `numbered` segments before these pieces."""
    found: list[Segment] = []
    _collect(pieces, found)
    order = sorted(found, key=lambda s: s.start)
    return {seg.id: f"s{number}" for number, seg in enumerate(order, numbered + 1)}


def _collect(pieces: Iterable[Piece], found: list[Segment]) -> None:
    for piece in pieces:
        if isinstance(piece, Segment):
            found.append(piece)
            for tag in piece.tags:
                for markup in (tag.open, tag.close, tag.locked):
                    if isinstance(markup, tuple):
                        _collect(markup, found)


def _rename(piece: Piece, names: dict[str, str]) -> Piece:
    if isinstance(piece, str):
        return piece
    tags = tuple(_rename_tag(tag, names) for tag in piece.tags)
    return replace(piece, id=names[piece.id], tags=tags)


def _rename_tag(tag: Tag, names: dict[str, str]) -> Tag:
    def markup(value: Markup | None) -> Markup | None:
        if isinstance(value, tuple):
            return tuple(_rename(p, names) for p in value)
        return value

    return replace(tag, open=markup(tag.open), close=markup(tag.close),
                   locked=markup(tag.locked))


def _segments_of(pieces: list[Piece]) -> list[Segment]:
    return [piece for piece in pieces if isinstance(piece, Segment)]


def structure_events(text: str, dialect: Dialect = COMMONMARK) -> Iterator[Event]:
    """The structure of Markdown `text` as the site renders it (templates
    expanded), a run of blocks at a time (see `hymt_cli.structure`)."""
    md = parser_for(dialect)
    env: dict[str, object] = {}
    chunks = parse_chunks(md, locate(text, dialect).norm, env)
    return html_events(md.renderer.render(tokens, md.options, env) for tokens in chunks)


def same_structure(source: str, rendered: str, dialect: Dialect = COMMONMARK) -> bool:
    """Whether two Markdown texts render to the same HTML element structure."""
    return same_events(structure_events(source, dialect),
                       structure_events(rendered, dialect))
