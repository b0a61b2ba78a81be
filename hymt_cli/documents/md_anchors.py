"""`--keep-anchors`: translated headings keep the id their source generated.

A renderer derives a heading's id from its text, so translating the text
changes the id and every `#link` into the page breaks. Where the dialect lets a
heading carry an explicit id, each translated heading without one gets the id
its source heading had, computed with the renderer's own slug rules
(`slugs`), repeats numbered in page order as the renderer numbers them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from hymt_cli.document import TAG_RE, RenderedPart, Segment
from hymt_cli.documents.dialects import Dialect
from hymt_cli.documents.slugs import Slugger


@dataclass(frozen=True, slots=True)
class AnchorSyntax:
    """How a dialect writes an explicit heading id, and how it slugs headings."""

    style: str
    """A `slugs.STYLES` name."""
    template: str
    """The suffix written after the heading text, `{id}` standing for the id."""
    needs: str | None = None
    """The feature the syntax depends on (MkDocs: attr_list)."""


ANCHOR_SYNTAX: dict[str, AnchorSyntax] = {
    "mkdocs": AnchorSyntax("python-markdown", " {{ #{id} }}", "attr_list"),
    "vitepress": AnchorSyntax("vitepress", " {{#{id}}}"),
    "hugo": AnchorSyntax("github", " {{#{id}}}"),
    "mdx": AnchorSyntax("github", " {{/*{id}*/}}"),
}
"""Dialects whose headings can carry an explicit id (others: the option is a no-op)."""

_EXPLICIT_ID = re.compile(r"#([\w:.-]+)|/\*\s*(.*?)\s*\*/")


@dataclass(frozen=True, slots=True)
class Heading:
    """One heading of a page, in order: its segment (if any) and explicit id."""

    segment_id: str | None
    text: str
    """The heading's plain text as the renderer slugs it."""
    explicit: str | None
    """The source text of its explicit id attribute list, if it has one."""


def syntax_for(dialect: Dialect) -> AnchorSyntax | None:
    """The explicit-id syntax of `dialect`, when it has one."""
    syntax = ANCHOR_SYNTAX.get(dialect.name)
    if syntax is None or (syntax.needs and not dialect.has(syntax.needs)):
        return None
    return syntax


def heading_text(segment: Segment | None, source: str) -> str:
    """A heading's plain text: its segment's text without tags, else its source."""
    return TAG_RE.sub("", segment.text) if segment is not None else source.strip()


def anchor_suffixes(headings: list[Heading], syntax: AnchorSyntax) -> dict[str, str]:
    """Segment id -> the id suffix its translation gets, for headings without one."""
    slugger = Slugger(syntax.style)
    suffixes: dict[str, str] = {}
    for heading in headings:
        explicit = _EXPLICIT_ID.search(heading.explicit or "")
        if explicit is not None:
            slugger.reserve(explicit.group(1) or explicit.group(2))
            continue
        anchor = slugger.slug(heading.text)
        if heading.segment_id is not None and anchor:
            suffixes[heading.segment_id] = syntax.template.format(id=anchor)
    return suffixes


def with_anchor(segment: Segment, suffix: str) -> Segment:
    """`segment` whose translations end with `suffix` (its source is unchanged)."""
    return replace(segment, finish=_appending(segment.finish, suffix))


def _appending(
    finish: Callable[[Segment, list[RenderedPart]], str] | None, suffix: str
) -> Callable[[Segment, list[RenderedPart]], str]:
    def done(segment: Segment, parts: list[RenderedPart]) -> str:
        text = finish(segment, parts) if finish else "".join(p for _, _, p in parts)
        return text + suffix

    return done
