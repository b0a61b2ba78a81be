"""The document model: skeleton text, translatable segments and their inline tags.

A `Document` is a flat tuple of pieces, each either verbatim skeleton text or a
`Segment`. Joining the pieces' source text gives back the input exactly; rendering
replaces each segment by its translation, re-encoded for the spot it stands in.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace

Escape = Callable[[str], str]
"""Encodes plain translated text for the place a segment stands in (e.g. HTML text)."""

RenderedPart = tuple[str, int, str]
"""One part of a rendered translation: role (`text`, `open`, `close`, `locked`),
tag number (0 for text) and the source text emitted."""

Finish = Callable[["Segment", list[RenderedPart]], str]

TAG_RE = re.compile(r"<(/?)s(\d+)>")
"""An HY-MT format tag as it appears in segment text: `<s1>` or `</s1>`."""

LOOKALIKE_RE = re.compile(r"</?\s*(?:s\s*\d+|target|source)\s*/?>", re.IGNORECASE)
"""Source text that an engine or our tag parser could mistake for markup."""


def keep(text: str) -> str:
    """The escape for spots where any text is safe as it is."""
    return text


@dataclass(frozen=True, slots=True)
class Tag:
    """One piece of inline markup, shown to the engine as `<sN>…</sN>`."""

    id: int
    """The N of `<sN>`, unique within its segment, numbered from 1."""
    kind: str
    """What the markup is: em, strong, link, code, image, html, break, ..."""
    open: Markup
    """Source emitted where `<sN>` comes back (may hold segments, e.g. a link title)."""
    close: Markup
    """Source emitted where `</sN>` comes back."""
    locked: tuple[Piece, ...] | None = None
    """For atomic items, the source emitted for the whole tag, whatever the engine
    returned inside it (nested segments such as image alt text are allowed)."""

    @property
    def is_locked(self) -> bool:
        """Whether the content between the tags is restored from the source."""
        return self.locked is not None


@dataclass(frozen=True, slots=True)
class Segment:
    """A run of translatable text, with its inline markup replaced by tags."""

    id: str
    """Stable within its document, e.g. `s12`."""
    kind: str
    """Which rule of the format table produced it: paragraph, heading, alt, ..."""
    text: str
    """What the engine sees: plain text with `<sN>…</sN>` tags."""
    source: str
    """The exact source text the segment replaces."""
    start: int
    """Character offset of `source` in the decoded input."""
    tags: tuple[Tag, ...] = ()
    """The tags of `text`, in order of id."""
    escape: Escape = field(default=keep, compare=False)
    """Encodes translated plain text for this spot."""
    finish: Finish | None = field(default=None, compare=False)
    """Joins the rendered parts of a translation, when the format needs to adjust
    markup to its new neighbours (Markdown emphasis); None joins them as they are."""

    @property
    def end(self) -> int:
        """Character offset just past `source` in the decoded input."""
        return self.start + len(self.source)

    def tag(self, number: int) -> Tag:
        """The tag numbered `number`."""
        if 0 < number <= len(self.tags) and self.tags[number - 1].id == number:
            return self.tags[number - 1]
        return next(tag for tag in self.tags if tag.id == number)


Piece = str | Segment
"""Skeleton text (kept byte for byte) or a segment."""

Markup = str | tuple[Piece, ...]
"""Tag markup: plain source text, or pieces when it holds nested segments."""


@dataclass(frozen=True, slots=True)
class Document:
    """A parsed input: reassembly is concatenation of its pieces."""

    pieces: tuple[Piece, ...]
    """Skeleton strings and segments, in source order."""
    format: str = "txt"
    """The adapter that produced it: md, html or txt."""
    structure: Callable[[str], Iterable[tuple[str, str, tuple[tuple[str, str], ...]]]] \
        | None = field(default=None, compare=False)
    """The structure of a text in this document's format, as `hymt_cli.structure`
    events; a rendering must keep the source's (None: nothing to keep)."""

    @property
    def source(self) -> str:
        """The input text, rebuilt from the pieces (the identity law)."""
        return "".join(source_of(p) for p in self.pieces)

    def segments(self) -> list[Segment]:
        """Every segment, including those nested in locked tags, in source order."""
        return list(iter_segments(self.pieces))

    def render(self, translations: Mapping[str, str]) -> str:
        """The document with each segment replaced by its translation.

        Segments missing from `translations` keep their source text.
        """
        return "".join(render_piece(p, translations) for p in self.pieces)


def source_of(piece: Piece) -> str:
    """The source text of a piece."""
    return piece if isinstance(piece, str) else piece.source


def markup_source(markup: Markup) -> str:
    """The source text of tag markup."""
    return markup if isinstance(markup, str) else "".join(map(source_of, markup))


def nested_segments(segment: Segment) -> Iterator[Segment]:
    """Segments held inside the tags of `segment` (alt text, link titles...)."""
    for tag in segment.tags:
        for markup in (tag.open, tag.close, tag.locked):
            if isinstance(markup, tuple):
                yield from iter_segments(markup)


def iter_segments(pieces: tuple[Piece, ...]) -> Iterator[Segment]:
    """Segments of `pieces` in source order, nested ones before their holder."""
    for piece in pieces:
        if isinstance(piece, Segment):
            yield from nested_segments(piece)
            yield piece


def render_piece(piece: Piece, translations: Mapping[str, str]) -> str:
    """Render one piece; see `Document.render`."""
    if isinstance(piece, str):
        return piece
    text = translations.get(piece.id)
    if text is None or text == piece.text:
        if not _nested_changed(piece, translations):
            return piece.source
        text = piece.text
    return render_segment(piece, text, translations)


def _nested_changed(segment: Segment, translations: Mapping[str, str]) -> bool:
    return any(
        translations.get(s.id, s.text) != s.text for s in nested_segments(segment)
    )


def render_markup(markup: Markup, translations: Mapping[str, str]) -> str:
    """Render tag markup, translating any segments it holds."""
    if isinstance(markup, str):
        return markup
    return "".join(render_piece(p, translations) for p in markup)


def render_segment(
    segment: Segment, text: str, translations: Mapping[str, str] | None = None
) -> str:
    """Encode tagged `text` (already validated against `segment`) as source text."""
    parts = rendered_parts(segment, text, translations or {})
    if segment.finish is not None:
        return segment.finish(segment, parts)
    return "".join(part for _, _, part in parts)


def rendered_parts(
    segment: Segment, text: str, translations: Mapping[str, str]
) -> list[RenderedPart]:
    """The source text each run and tag of `text` renders to, in order."""
    text = text.strip(" \t\n\r\f\v")  # outer (ASCII) white space is skeleton
    parts: list[RenderedPart] = []
    pos = 0
    skip_until: int | None = None
    for match in TAG_RE.finditer(text):
        closing, number = match.group(1) == "/", int(match.group(2))
        if skip_until is None:
            parts.append(("text", 0, segment.escape(text[pos : match.start()])))
        pos = match.end()
        if skip_until is not None:
            skip_until = None if closing and number == skip_until else skip_until
            continue
        tag = segment.tag(number)
        if tag.locked is not None and not closing:
            parts.append(("locked", number, render_markup(tag.locked, translations)))
            skip_until = number
        else:
            markup = render_markup(tag.close if closing else tag.open, translations)
            parts.append(("close" if closing else "open", number, markup))
    parts.append(("text", 0, segment.escape(text[pos:])))
    return parts


Run = tuple[str, str]
"""A run of plain text: its exact source and the text the engine sees."""


def strip_lead(runs: list[Run]) -> tuple[str, list[Run]]:
    """Split the leading white space (as `str.strip` sees it, so U+00A0 too) off
    `runs`: the source it covers, for the skeleton, and the runs left.

    A run shown as white space only (`&nbsp;`, `&#32;`) goes whole; a run is cut
    where its source and shown text start with as much white space; anything else
    stops the cut, so the source stays exact.
    """
    skeleton: list[str] = []
    runs = list(runs)
    while runs:
        raw, shown = runs[0]
        space = len(shown) - len(shown.lstrip())
        if not space:
            break
        if space == len(shown):
            skeleton.append(raw)
            runs.pop(0)
            continue
        if len(raw) - len(raw.lstrip()) == space:
            skeleton.append(raw[:space])
            runs[0] = (raw[space:], shown[space:])
        break
    return "".join(skeleton), runs


def strip_trail(runs: list[Run]) -> tuple[list[Run], str]:
    """Split the trailing white space off `runs`; see `strip_lead`."""
    flipped = [(raw[::-1], shown[::-1]) for raw, shown in reversed(runs)]
    skeleton, left = strip_lead(flipped)
    return [(raw[::-1], shown[::-1]) for raw, shown in reversed(left)], skeleton[::-1]


class SegmentBuilder:
    """Collects the source and tagged text of one segment, run by run.

    Adapters feed it source runs in order; it numbers tags, keeps `source` exact
    and turns text that looks like a tag into a locked tag.
    """

    def __init__(self, kind: str, start: int, escape: Escape = keep) -> None:
        self.kind, self.start, self.escape = kind, start, escape
        self._source: list[str] = []
        self._text: list[str] = []
        self._tags: list[Tag | None] = []
        self._open: list[int] = []
        self._pending: dict[int, tuple[str, Markup]] = {}

    def text(self, raw: str, shown: str | None = None) -> None:
        """Add plain text: `raw` as in the source, `shown` as the engine sees it."""
        shown = raw if shown is None else shown
        if not LOOKALIKE_RE.search(shown):
            self._source.append(raw)
            self._text.append(shown)
        elif shown != raw:
            self.atomic(raw, "", kind="literal")
        else:
            pos = 0
            for match in LOOKALIKE_RE.finditer(raw):
                self.text(raw[pos : match.start()])
                self.atomic(match.group(), "", kind="literal")
                pos = match.end()
            self.text(raw[pos:])

    def open(self, raw: Markup, kind: str) -> int:
        """Open a paired tag whose opening markup is `raw`; returns its number."""
        self._tags.append(None)
        number = len(self._tags)
        self._open.append(number)
        self._source.append(markup_source(raw))
        self._text.append(f"<s{number}>")
        self._pending[number] = (kind, raw)
        return number

    def close(self, raw: Markup, number: int | None = None) -> None:
        """Close the innermost open tag (or `number`) with closing markup `raw`."""
        number = self._open.pop() if number is None else self._pop(number)
        kind, opening = self._pending.pop(number)
        self._tags[number - 1] = Tag(number, kind, opening, raw)
        self._source.append(markup_source(raw))
        self._text.append(f"</s{number}>")

    def _pop(self, number: int) -> int:
        self._open.remove(number)
        return number

    def atomic(
        self, raw: str | tuple[Piece, ...], shown: str = "", kind: str = "code"
    ) -> int:
        """Add a content-locked tag: `raw` is restored whatever comes back inside."""
        pieces = (raw,) if isinstance(raw, str) else raw
        number = len(self._tags) + 1
        self._tags.append(Tag(number, kind, "", "", locked=pieces))
        if LOOKALIKE_RE.search(shown) or TAG_RE.search(shown):
            shown = ""
        self._source.append(markup_source(pieces))
        self._text.append(f"<s{number}>{shown}</s{number}>")
        return number

    @property
    def empty(self) -> bool:
        """Whether nothing has been added yet."""
        return not self._source

    def has_words(self) -> bool:
        """Whether the plain text holds anything worth translating (a letter)."""
        plain = TAG_RE.sub("", "".join(self._text))
        return any(ch.isalpha() for ch in plain)

    def build(self, segment_id: str) -> Segment:
        """The finished segment; every opened tag must have been closed."""
        if self._open:
            raise ValueError(f"unclosed tags {self._open} in segment {segment_id}")
        return Segment(
            id=segment_id,
            kind=self.kind,
            text="".join(self._text),
            source="".join(self._source),
            start=self.start,
            tags=tuple(t for t in self._tags if t is not None),
            escape=self.escape,
        )


def without_kinds(pieces: tuple[Piece, ...], kinds: frozenset[str]) -> tuple[Piece, ...]:
    """`pieces` with segments of `kinds` turned back into skeleton text."""
    if not kinds:
        return pieces
    return tuple(_without(piece, kinds) for piece in pieces)


def _without(piece: Piece, kinds: frozenset[str]) -> Piece:
    if isinstance(piece, str):
        return piece
    if piece.kind in kinds:
        return piece.source
    tags = tuple(
        replace(tag, **{
            name: without_kinds(value, kinds)
            for name in ("open", "close", "locked")
            if isinstance(value := getattr(tag, name), tuple)
        })
        for tag in piece.tags
    )
    return replace(piece, tags=tags)
