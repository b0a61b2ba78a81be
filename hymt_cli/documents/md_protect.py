"""Inline rules of the docs-site dialects: locked spans and paired markers.

*Locked* spans (icons, keys, attribute lists, template tags, expressions, MDX
JSX tags...) become content-locked tags, so the engine can move them but never
change them. *Paired* markers (`==mark==`, `^^ins^^`, `~sub~`, `^sup^`, critic
markup) become `<sN>…</sN>` around translated text, like emphasis.

markdown-it tries inline rules only where its `text` rule stops, at
punctuation such as `{ : + = ^ ~ < \\`; every pattern here starts with one.
Patterns that start elsewhere (user `--protect` expressions, `(1)!`
annotations) are applied to the text between tokens instead (`gap_patterns`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline

from hymt_cli.documents.dialects import Dialect
from hymt_cli.documents.md_scan import scan_braces, scan_jsx_tag

LOCKED = "hymt_locked"
"""Token type of a locked span; `meta["kind"]` says what it is, `meta["shown"]`
what the engine sees inside the tag."""
PAIR_OPEN, PAIR_CLOSE = "hymt_pair_open", "hymt_pair_close"

RANGE = "range"  # same key as md_parser.RANGE (imported there from here)

_ATTR_LIST = (r"\{:?[ \t]*(?:(?:[#.][\w:.-]+|[\w-]+=(?:\"[^\"\n]*\"|'[^'\n]*'|[^\s}]+))"
              r"[ \t]*)+\}")


@dataclass(frozen=True)
class Locked:
    """A locked pattern: what it matches, its tag kind, and whether it is shown."""

    pattern: re.Pattern[str]
    kind: str
    shown: bool = False
    after_word: bool = True
    """Whether it may follow a letter or digit directly (icons may not: `12:30:45`)."""


def _l(pattern: str, kind: str, shown: bool = False, after_word: bool = True) -> Locked:
    return Locked(re.compile(pattern, re.DOTALL), kind, shown, after_word)


LOCKED_BY_FEATURE: dict[str, tuple[Locked, ...]] = {
    "emoji": (_l(r":[a-z0-9][a-z0-9_+-]*:", "icon", after_word=False),),
    "keys": (_l(r"\+\+[^\s+](?:[^\n]*?[^\s+])?\+\+", "keys"),),
    "attr_list": (_l(_ATTR_LIST, "attr_list"),),
    "kramdown": (_l(r"\{:[^{}\n]*\}", "attr_list"),),
    "code_include": (_l(r"\{\*.*?\*\}", "include"),),
    "math": (_l(r"\\\(.+?\\\)", "math"), _l(r"\\\[.+?\\\]", "math")),
    "critic": (_l(r"~>", "critic"),),
    "vitepress": (_l(r"\{\{.*?\}\}", "template", shown=True),),
    "shortcodes": (_l(r"\{\{<.*?>\}\}", "shortcode"), _l(r"\{\{%.*?%\}\}", "shortcode")),
    "mdbook": (_l(r"\{\{#.*?\}\}", "include"),
               _l(r"\\\\\(.+?\\\\\)", "math"), _l(r"\\\\\[.+?\\\\\]", "math")),
    "liquid": (
        _l(r"\{%-?[ \t]*raw[ \t]*-?%\}.*?\{%-?[ \t]*endraw[ \t]*-?%\}", "template"),
        _l(r"\{%.*?%\}", "template", shown=True),
        _l(r"\{\{.*?\}\}", "template", shown=True),
    ),
    "myst": (_l(r"\{[\w:-]+\}`[^`\n]*`", "role"),),
}
"""Feature -> locked patterns, tried in order at each stop of the `text` rule."""

PAIRED_BY_FEATURE: dict[str, tuple[tuple[str, str, str], ...]] = {
    "mark": (("==", "==", "mark"),),
    "caret": (("^^", "^^", "ins"), ("^", "^", "sup")),
    "tilde": (("~", "~", "sub"),),
    "critic": (("{++", "++}", "critic"), ("{--", "--}", "critic"), ("{==", "==}", "critic"),
               ("{~~", "~~}", "critic"), ("{>>", "<<}", "critic")),
}
"""Feature -> (opening, closing, kind) of paired markers around translatable text."""

GAP_BY_FEATURE: dict[str, tuple[str, ...]] = {
    "annotations": (r"\(\d+\)!?(?=\s|$)",),
}
"""Feature -> patterns locked in plain text runs (they start at no `text` stop)."""


def gap_patterns(dialect: Dialect, protect: Iterable[str]) -> tuple[re.Pattern[str], ...]:
    """Patterns locked in the text between tokens: the dialect's and the user's."""
    found = [p for f, ps in GAP_BY_FEATURE.items() if dialect.has(f) for p in ps]
    return tuple(re.compile(p) for p in (*found, *protect))


def install(md: MarkdownIt, dialect: Dialect) -> None:
    """Add the inline rules of `dialect`'s features to `md`."""
    locked = [p for f, ps in LOCKED_BY_FEATURE.items() if dialect.has(f) for p in ps]
    paired = [p for f, ps in PAIRED_BY_FEATURE.items() if dialect.has(f) for p in ps]
    paired.sort(key=lambda p: -len(p[0]))
    if dialect.has("mdx"):
        md.inline.ruler.before("escape", "mdx", _mdx_rule)
    if locked:
        md.inline.ruler.before("escape", "hymt_locked", _locked_rule(locked))
    if paired:
        md.inline.ruler.before("emphasis", "hymt_paired", _paired_rule(paired))
    md.add_render_rule(LOCKED, lambda self, tokens, idx, *a: tokens[idx].content)
    md.add_render_rule(PAIR_OPEN, lambda self, tokens, idx, *a: f"<{tokens[idx].tag}>")
    md.add_render_rule(PAIR_CLOSE, lambda self, tokens, idx, *a: f"</{tokens[idx].tag}>")


def _push_locked(state: StateInline, end: int, kind: str, shown: bool) -> None:
    token = state.push(LOCKED, "", 0)
    token.content = state.src[state.pos : end]
    token.meta["kind"] = kind
    token.meta["shown"] = token.content if shown else ""
    state.pos = end


def _locked_rule(locked: list[Locked]) -> Callable[[StateInline, bool], bool]:
    def rule(state: StateInline, silent: bool) -> bool:
        pos = state.pos
        after_word = pos > 0 and state.src[pos - 1].isalnum()
        for item in locked:
            if after_word and not item.after_word:
                continue
            match = item.pattern.match(state.src, pos, state.posMax)
            if match is None or match.end() == pos:
                continue
            if not silent:
                _push_locked(state, match.end(), item.kind, item.shown)
            else:
                state.pos = match.end()
            return True
        return False

    return rule


def _mdx_rule(state: StateInline, silent: bool) -> bool:
    """MDX `{expressions}` (locked) and JSX tags (inline HTML for pairing)."""
    pos, src = state.pos, state.src
    if src[pos] == "{":
        end = scan_braces(src[: state.posMax], pos)
        if end is None:
            return False
        if silent:
            state.pos = end
        else:
            _push_locked(state, end, "expression", False)
        return True
    if src[pos] != "<":
        return False
    end = scan_jsx_tag(src[: state.posMax], pos)
    if end is None:
        return False
    if not silent:
        token = state.push("html_inline", "", 0)
        token.content = src[pos:end]
    state.pos = end
    return True


def _paired_rule(
    paired: list[tuple[str, str, str]],
) -> Callable[[StateInline, bool], bool]:
    def rule(state: StateInline, silent: bool) -> bool:
        for opening, closing, kind in paired:
            close = _closing_at(state, opening, closing)
            if close is None:
                continue
            if not silent:
                _push_pair(state, opening, closing, kind, close)
            else:
                state.pos = close + len(closing)
            return True
        return False

    return rule


def _closing_at(state: StateInline, opening: str, closing: str) -> int | None:
    """Where `closing` ends a pair opened at `state.pos`, if it does."""
    src, pos, limit = state.src, state.pos, state.posMax
    if not src.startswith(opening, pos):
        return None
    start = pos + len(opening)
    single = len(opening) == 1
    if start >= limit or src[start].isspace() or (single and src[start] == opening):
        return None
    search = start + 1
    while (close := src.find(closing, search, limit)) >= 0:
        inner = src[start:close]
        if single and any(ch.isspace() for ch in inner):
            return None
        if not src[close - 1].isspace() and not (
            single and src[close + 1 : close + 2] == closing
        ):
            return close
        search = close + 1
    return None


_HTML_NAMES = {"mark": "mark", "ins": "ins", "sup": "sup", "sub": "sub", "critic": "span"}


def _push_pair(state: StateInline, opening: str, closing: str, kind: str, close: int) -> None:
    start, old_max = state.pos, state.posMax
    token = state.push(PAIR_OPEN, _HTML_NAMES[kind], 1)
    token.markup, token.meta["kind"] = opening, kind
    token.meta[RANGE] = (start, start + len(opening))
    state.pos, state.posMax = start + len(opening), close
    state.md.inline.tokenize(state)
    token = state.push(PAIR_CLOSE, _HTML_NAMES[kind], -1)
    token.markup, token.meta["kind"] = closing, kind
    token.meta[RANGE] = (close, close + len(closing))
    state.pos, state.posMax = close + len(closing), old_max
