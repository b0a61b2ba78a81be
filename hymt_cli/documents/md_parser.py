"""The one Markdown parser: markdown-it-py (CommonMark) with the plug-ins hymt reads.

Segmentation and structure validation both use `make_parser()`. The parser is
instrumented so every inline token records where it lies in its block's inline
content (`token.meta["range"]`, in content indices) and every inline token records
where its content lies in the source (`token.meta["cmap"]`, see `md_lines`).

`parse_chunks` parses a long document a run of top-level blocks at a time, so the
tokens (dozens of objects per line) of only one run are alive at once: memory per
document stays bounded by the chunk, not the file.
"""

from __future__ import annotations

import functools
import logging
import re
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.parser_inline import ParserInline
from markdown_it.rules_block import StateBlock
from markdown_it.rules_core import StateCore
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token
from markdown_it.utils import EnvType
from mdit_py_plugins.admon import admon_plugin
from mdit_py_plugins.deflist import deflist_plugin
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.footnote import footnote_plugin
from mdit_py_plugins.front_matter import front_matter_plugin

from hymt_cli.documents import md_blocks, md_protect
from hymt_cli.documents.dialects import COMMONMARK, Dialect
from hymt_cli.documents.md_lines import annotate

RANGE = md_protect.RANGE
"""Key of a token's `(start, end)` in its inline content, in `Token.meta`."""

ANCHOR = "anchor"
"""Key of the content index where a heading's trailing `{#id}` anchor begins."""

BOM = "\ufeff"

MAX_NESTING = 100
"""Block nesting markdown-it follows (its CommonMark preset stops at 20: about 9
list levels, 19 block quotes); deeper content is left as it is, with a warning.
Each level costs a few stack frames, so this stays well inside Python's limit."""

log = logging.getLogger(__name__)

_ANCHOR_RE = re.compile(r"(?:^|[ \t]+)\{:?[ \t]*((?:[#.][\w:.-]+[ \t]*)+)\}$")
_DIALECT_ANCHORS = {
    "attr_list": re.compile(r"(?:^|[ \t]+)" + md_protect._ATTR_LIST + "$"),
    "mdx": re.compile(r"(?:^|[ \t]+)\{/\*.*?\*/\}$"),
}
"""Trailing heading ids a dialect adds: kept as skeleton, never translated."""
_SEQUENTIAL_RULES = frozenset({"emphasis", "strikethrough"})

CHUNK_CHARS = 32_000
"""Documents longer than this are parsed in runs of top-level blocks of about
this many characters (see `parse_chunks`)."""

_SCAN = "hymt_scan"
"""Key in the parse environment of the running `_Scan`, during the first pass."""
_SKIPPED_CORE = frozenset({"normalize", "block", "footnote_tail"})
"""Core rules `parse_chunks` does not run: input is normalised by `locate`, the
block pass is its own, and footnote definitions stay where they are written
(`footnote_tail` would move them behind the last chunk's tokens)."""


@dataclass(slots=True)
class _Scan:
    """The first pass over a long document: where top-level blocks end."""

    depth: int = 0
    """Nesting of `tokenize` calls (1: the document's top level)."""
    ends: list[int] = field(default_factory=list)
    """Lines where a top-level block ended next to a blank line."""


def make_parser(dialect: Dialect = COMMONMARK) -> MarkdownIt:
    """A fresh, instrumented parser: CommonMark + GFM tables/strikethrough + plug-ins,
    plus the block and inline rules of `dialect`."""
    md = MarkdownIt("commonmark", {"maxNesting": MAX_NESTING})
    md.enable(["table", "strikethrough"])
    md.disable("text_join")
    front_matter_plugin(md)
    footnote_plugin(md, inline=False)
    deflist_plugin(md)
    admon_plugin(md)
    if dialect.has("math"):
        dollarmath_plugin(md, allow_space=True, double_inline=True)
    md_blocks.install(md, dialect)
    md_protect.install(md, dialect)
    anchors = tuple(p for f, p in _DIALECT_ANCHORS.items() if dialect.has(f))
    md.core.ruler.after("inline", "heading_anchor",
                        lambda state: heading_anchor(state, anchors))
    md.add_render_rule("text_special", _render_text_special)
    _instrument(md)
    _warn_too_deep(md)
    return md


def _warn_too_deep(md: MarkdownIt) -> None:
    """Report the blocks markdown-it skips for nesting too deep (it drops them
    from its tokens, so they would stay untranslated without a word)."""
    tokenize = md.block.tokenize

    def checked(state: Any, start: int, end: int) -> None:
        line = state.skipEmptyLines(start)
        scan = state.env.get(_SCAN)
        if state.level >= md.options.maxNesting and line < end \
                and state.sCount[line] >= state.blkIndent and scan is None:
            log.warning("line %d: nested deeper than %d levels, left untranslated",
                        line + 1, md.options.maxNesting)
        if scan is None:
            tokenize(state, start, end)
            return
        scan.depth += 1
        try:
            tokenize(state, start, end)
        finally:
            scan.depth -= 1

    md.block.tokenize = checked  # type: ignore[method-assign]


@functools.cache
def parser_for(dialect: Dialect = COMMONMARK) -> MarkdownIt:
    """One `make_parser(dialect)` per dialect and process (parsers keep no
    per-document state)."""
    return make_parser(dialect)


def parse_chunks(
    md: MarkdownIt, src: str, env: EnvType | None = None
) -> Iterator[list[Token]]:
    """The tokens of normalised `src`, as `md.parse` makes them, one run of
    top-level blocks at a time (one run for a short document).

    A long document is first scanned without keeping tokens: that finds the runs'
    limits (block ends next to a blank line: each run's blocks end where they
    would in the whole document) and fills `env` with every reference
    definition, so links resolve in runs before their definition. Footnote
    definitions are not moved to the end.
    """
    env = {} if env is None else env
    if not src:
        return
    state = _compact(StateBlock(src, md, env, []))
    for start, end in _runs(md, src, env, state):
        state.tokens = []
        md.block.tokenize(state, start, end)
        core = StateCore(src, md, env)
        core.tokens = state.tokens
        for rule in md.core.ruler.__rules__:
            if rule.enabled and rule.name not in _SKIPPED_CORE:
                rule.fn(core)
        yield core.tokens


def _compact(state: StateBlock) -> StateBlock:
    """`state` with its per-line tables as machine-integer arrays: a fifth of the
    memory of lists of Python ints on a long document (rules only index them)."""
    for name in ("bMarks", "eMarks", "tShift", "sCount", "bsCount"):
        setattr(state, name, array("q", getattr(state, name)))
    return state


def _runs(
    md: MarkdownIt, src: str, env: EnvType, state: StateBlock
) -> list[tuple[int, int]]:
    """Line ranges of runs of top-level blocks of about `CHUNK_CHARS` characters."""
    if len(src) <= CHUNK_CHARS:
        return [(0, state.lineMax)]
    scan = _Scan()
    env[_SCAN] = scan
    try:
        md.block.tokenize(state, 0, state.lineMax)
    finally:
        del env[_SCAN]
        state.tokens, state.line = [], 0
    runs, first = [], 0
    for end in scan.ends:
        if state.bMarks[end] - state.bMarks[first] >= CHUNK_CHARS:
            runs.append((first, end))
            first = end
    return [*runs, (first, state.lineMax)]


def shared_parser() -> MarkdownIt:
    """The CommonMark parser (`parser_for()`)."""
    return parser_for(COMMONMARK)


def render_html(text: str, dialect: Dialect = COMMONMARK) -> str:
    """Render Markdown `text` to HTML with the segmentation parser of `dialect`."""
    return parser_for(dialect).render(text.removeprefix(BOM))


def _render_text_special(
    self: Any, tokens: list[Token], idx: int, options: Any, env: EnvType
) -> str:
    return escapeHtml(tokens[idx].content)


def heading_anchor(state: StateCore, extra: tuple[re.Pattern[str], ...] = ()) -> None:
    """Turn a heading's trailing `{#id .cls}` into attributes (core rule); a
    dialect's other trailing ids (`extra`) are only cut from the text."""
    tokens = state.tokens
    for index in range(1, len(tokens)):
        token, opening = tokens[index], tokens[index - 1]
        if token.type != "inline" or opening.type != "heading_open":
            continue
        match = _ANCHOR_RE.search(token.content)
        last = token.children[-1] if token.children else None
        if extra and (match is None or last is None or last.type != "text"):
            _dialect_anchor(token, (*extra, _ANCHOR_RE))
            continue
        if match is None or last is None or last.type != "text":
            continue
        if not last.content.endswith(match.group().lstrip(" \t")):
            continue
        last.content = last.content[: -len(match.group().lstrip(" \t"))].rstrip(" \t")
        token.meta[ANCHOR] = match.start()
        _set_anchor_attrs(opening, match.group(1).split())


def _dialect_anchor(token: Token, patterns: tuple[re.Pattern[str], ...]) -> None:
    """Mark where a trailing `{ #id key=v }` / `{/*id*/}` begins, if its token ends
    the heading (it is then skeleton)."""
    last = token.children[-1] if token.children else None
    for pattern in patterns:
        match = pattern.search(token.content)
        if match is None or last is None:
            continue
        begin = match.start() + len(match.group()) - len(match.group().lstrip(" \t"))
        span = last.meta.get(RANGE)
        if last.type == md_protect.LOCKED and span and span[0] == begin:
            token.children.pop()
        elif last.type == "text" and last.content.endswith(match.group().lstrip(" \t")):
            last.content = last.content[: -len(match.group().lstrip(" \t"))].rstrip(" \t")
        else:
            continue
        token.meta[ANCHOR] = match.start()
        return


def _set_anchor_attrs(opening: Token, parts: list[str]) -> None:
    classes = [part[1:] for part in parts if part.startswith(".")]
    for part in parts:
        if part.startswith("#"):
            opening.attrSet("id", part[1:])
    if classes:
        opening.attrSet("class", " ".join(classes))


class _TrackingState(StateInline):
    """Inline state that marks flushed text and records `pos` at each push."""

    def pushPending(self) -> Token:  # noqa: N802 (markdown-it's name)
        token = super().pushPending()
        token.meta["pending"] = True
        return token

    def push(self, ttype: str, tag: str, nesting: Literal[-1, 0, 1]) -> Token:
        token = super().push(ttype, tag, nesting)
        token.meta["at"] = self.pos
        return token


class _TrackingInline(ParserInline):
    """Inline parser that runs on `_TrackingState`."""

    def parse(
        self, src: str, md: MarkdownIt, env: EnvType, tokens: list[Token]
    ) -> list[Token]:
        state = _TrackingState(src, md, env, tokens)
        self.tokenize(state)
        for rule in self.ruler2.getRules(""):
            rule(state)
        return state.tokens


def _instrument(md: MarkdownIt) -> None:
    tracking = _TrackingInline.__new__(_TrackingInline)
    tracking.__dict__.update(md.inline.__dict__)
    md.inline = tracking
    for rule in md.inline.ruler.__rules__:
        rule.fn = _tracked_inline(rule.name, rule.fn)
    md.inline.ruler.__cache__ = None
    for block_rule in md.block.ruler.__rules__:
        block_rule.fn = _tracked_block(block_rule.fn)
    md.block.ruler.__cache__ = None


def _tracked_inline(name: str, fn: Callable[..., bool]) -> Callable[..., bool]:
    def rule(state: StateInline, silent: bool) -> bool:
        start, count = state.pos, len(state.tokens)
        ok = fn(state, silent)
        if ok and not silent:
            _assign_ranges(name, state.tokens[count:], start, state.pos)
        return ok

    return rule


def _assign_ranges(name: str, tokens: list[Token], start: int, end: int) -> None:
    """Give the tokens an inline rule pushed their span of the content."""
    fresh = [t for t in tokens if RANGE not in t.meta and not t.meta.get("pending")]
    for token in fresh:
        if name in _SEQUENTIAL_RULES:
            token.meta[RANGE] = (start, start + len(token.content))
            start += len(token.content)
        elif name == "link" and token.type == "link_open":
            token.meta[RANGE] = (start, token.meta["at"])
        elif name == "link" and token.type == "link_close":
            token.meta[RANGE] = (token.meta["at"], end)
        else:
            token.meta[RANGE] = (start, end)


def _tracked_block(fn: Callable[..., bool]) -> Callable[..., bool]:
    def rule(state: Any, start: int, end: int, silent: bool) -> bool:
        count = len(state.tokens)
        ok = fn(state, start, end, silent)
        if not ok or silent:
            return ok
        scan = state.env.get(_SCAN)
        if scan is None:
            annotate(state, state.tokens[count:])
        elif scan.depth == 1:  # a top-level block: keep where it ends, not its tokens
            line = state.line
            if line < state.lineMax and (state.isEmpty(line) or state.isEmpty(line - 1)):
                scan.ends.append(line)
            del state.tokens[:]
        return ok

    return rule
