"""Where Markdown source text lies: the text as markdown-it sees it, and the way back.

markdown-it reads a normalised copy of the input (no BOM, CRLF/CR -> LF, NUL ->
U+FFFD), with templates masked as the site's renderer sees them once expanded.
`Located` keeps both texts and maps normalised offsets back to the input's, so
segments keep exact offsets into the original bytes.
"""

from __future__ import annotations

import bisect
import functools
import re
from dataclasses import dataclass

from hymt_cli.documents.dialects import COMMONMARK, Dialect
from hymt_cli.documents.md_parser import BOM

_NEWLINE = re.compile(r"\r\n?|\n")


@dataclass(frozen=True)
class Located:
    """A parsed document: original text, normalised text and the offset table."""

    text: str
    norm: str
    """BOM-less text with CRLF/CR -> LF and NUL -> U+FFFD (what the parser sees)."""
    lead: int
    crlf: tuple[int, ...]
    """Normalised offsets of newlines that were CRLF in the source."""

    def to_orig(self, offset: int) -> int:
        """The original-text offset of a normalised-text offset."""
        return offset + self.lead + bisect.bisect_left(self.crlf, offset)

    def to_orig_all(self, offsets: list[int]) -> list[int]:
        """`to_orig` of each offset (without CRLF endings, one shift for all)."""
        if not self.crlf:
            lead = self.lead
            return [n + lead for n in offsets] if lead else list(offsets)
        return [self.to_orig(n) for n in offsets]

    @functools.cached_property
    def _line_starts(self) -> list[int]:
        return [0, *(m.end() for m in re.finditer("\n", self.norm))]

    def line_start(self, line: int) -> int:
        """The normalised offset where line `line` (0-based) begins."""
        starts = self._line_starts
        return starts[line] if line < len(starts) else len(self.norm)


_LINK_TEMPLATE = re.compile(
    r"\]\([ \t]*(\{\{[<%].*?[>%]\}\}|\{%.*?%\}|\{\{.*?\}\})")
TEMPLATE_FEATURES = ("shortcodes", "liquid", "mdbook", "vitepress")


_TEMPLATE = re.compile(r"\{\{.*?\}\}|\{%.*?%\}")


def mask_templates(norm: str) -> str:
    """`norm` as the site's Markdown renderer sees it once templates are expanded,
    offsets unchanged: blanks inside a template that stands for a link destination
    (`[it]({{< ref "a.md" >}})`) become `_`, so the parser sees a link, and a `|`
    inside a template (`{{ x | date }}`) becomes `¦`, so no table cell ends there."""
    def mask(match: re.Match[str]) -> str:
        head = match.group()[: match.start(1) - match.start()]
        return head + re.sub(r"[ \t]", "_", match.group(1))

    norm = _LINK_TEMPLATE.sub(mask, norm)
    if "|" not in norm:
        return norm
    return _TEMPLATE.sub(lambda m: m.group().replace("|", "\u00a6"), norm)


def locate(text: str, dialect: Dialect = COMMONMARK) -> Located:
    """Normalise `text` the way markdown-it does, keeping the way back."""
    lead = 1 if text.startswith(BOM) else 0
    body, crlf, parts, last = text[lead:], [], [], 0
    for match in _NEWLINE.finditer(body):
        parts.append(body[last : match.start()])
        parts.append("\n")
        last = match.end()
        if match.group() == "\r\n":
            crlf.append(match.start() - len(crlf))
    parts.append(body[last:])
    norm = "".join(parts).replace("\0", "\ufffd")
    if any(dialect.has(f) for f in TEMPLATE_FEATURES):
        norm = mask_templates(norm)
    return Located(text, norm, lead, tuple(crlf))
