"""Block rules of the docs-site dialects (see `dialects.FEATURES`).

Three shapes cover the block syntax of MkDocs, VitePress, MDX, Hugo, mdBook
and Jekyll:
- *skeleton lines and regions* (`--8<--`, `{* … *}`, `[[toc]]`, shortcodes on
  their own line, `{% raw %}` … `{% endraw %}`, ESM `import`): kept verbatim;
- *titled markers* (`=== "Tab"`, `*[HTML]: expansion`, `{{#title …}}`, and the
  titles of `///` and `:::` containers): the marker is skeleton, the title is an
  inline token of its own, so it becomes a segment;
- *bodies*: tab bodies are indented Markdown, container bodies are Markdown
  between fences; both are tokenized as nested blocks and segmented as usual.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from mdit_py_plugins.container import container_plugin

from hymt_cli.documents.dialects import Dialect
from hymt_cli.documents.md_lines import CMAP
from hymt_cli.documents.md_scan import masked_prose_props, scan_braces, scan_jsx_tags

TITLE_OPEN = "hymt_title_open"
"""Token type before a dialect title's inline token; `meta["kind"]` is its kind."""
SKELETON = "hymt_skeleton"
"""Token type of a block kept verbatim."""
JSX = "hymt_jsx"
"""Token type of MDX JSX flow tags (their prose props become segments)."""

_INTERRUPTS = ["paragraph", "reference", "blockquote", "list"]


@dataclass(frozen=True)
class Region:
    """A skeleton block: one line matching `start`, up to a line matching `end`."""

    start: re.Pattern[str]
    end: re.Pattern[str] | None = None
    ends_itself: bool = True
    """Whether the start line may also be the end line (`{{< x >}}` may, the
    `--8<--` that opens a list of files may not)."""


def _r(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


_LIQUID_BLOCKS = "raw|highlight|comment|capture"
REGIONS: dict[str, tuple[Region, ...]] = {
    "snippets": (
        Region(_r(r"-{1,}8<-{1,}[ \t]*$"), _r(r"-{1,}8<-{1,}[ \t]*$"), False),
        Region(_r(r"-{1,}8<-{1,}[ \t]+\S.*$")),
    ),
    "code_include": (Region(_r(r"\{\*.*\*\}[ \t]*$")),),
    "vitepress": (Region(_r(r"\[\[toc\]\][ \t]*$")), Region(_r(r"<<<[ \t]+\S.*$"))),
    "shortcodes": (
        Region(_r(r"\{\{<[ \t]*(highlight)\b.*$"),
               _r(r".*\{\{<[ \t]*/[ \t]*(highlight)[ \t]*>\}\}[ \t]*$")),
        # a line of shortcodes alone, or one opened and not closed on its line; a
        # shortcode followed by text (`{{< mark >}}x{{< /mark >}} y`) is prose
        Region(_r(r"\{\{[<%].*[>%]\}\}[ \t]*$")),
        Region(_r(r"\{\{[<%](?!.*[>%]\}\}).*$"), _r(r".*[>%]\}\}[ \t]*$")),
    ),
    "mdbook": (Region(_r(r"\{\{#(?!title\b)[a-z_]+\b.*\}\}[ \t]*$")),),
    "liquid": (  # as for shortcodes: a tag followed by text on its line is prose
        Region(_r(rf"\{{%-?[ \t]*({_LIQUID_BLOCKS})\b"
                  rf"(?!.*\{{%-?[ \t]*end\1[ \t]*-?%\}}[ \t]*\S).*$"),
               _r(rf".*\{{%-?[ \t]*end({_LIQUID_BLOCKS})[ \t]*-?%\}}[ \t]*$")),
        Region(_r(r"\{%.*%\}[ \t]*$")),
        Region(_r(r"\{%(?!.*%\}).*$"), _r(r".*%\}[ \t]*$")),
        Region(_r(r"\{\{.*\}\}[ \t]*$")),
    ),
    "kramdown": (Region(_r(r"\{:.*\}[ \t]*$")),),
    "attr_list": (Region(_r(r"\{:?[ \t]*[#.][^{}\n]*\}[ \t]*$")),),
    "myst": (Region(_r(r"\([\w.:-]+\)=[ \t]*$")),),
}
"""Feature -> skeleton blocks it adds (patterns match from the line's first non-blank)."""

TITLES: dict[str, tuple[str, re.Pattern[str]]] = {
    "abbr": ("abbr", _r(r"\*\[[^\]\n]+\]:[ \t]*(?P<title>.*?)[ \t]*$")),
    "mdbook": ("book_title", _r(r"\{\{#title[ \t]+(?P<title>.*?)[ \t]*\}\}[ \t]*$")),
}
"""Feature -> (segment kind, line pattern whose `title` group is translated)."""


def install(md: MarkdownIt, dialect: Dialect) -> None:
    """Add the block rules of `dialect`'s features to `md`."""
    regions = [r for f, rs in REGIONS.items() if dialect.has(f) for r in rs]
    if dialect.has("mdx"):
        md.disable("code")  # MDX has no indented code: indented text is prose
        md.block.ruler.before("fence", "mdx_esm", _esm)
        md.block.ruler.before("html_block", "mdx_jsx", _jsx_flow, {"alt": _INTERRUPTS})
        md.block.ruler.before("html_block", "mdx_expression", _expression_flow,
                              {"alt": _INTERRUPTS})
    if regions:
        md.block.ruler.before("fence", "hymt_regions", _region_rule(regions),
                              {"alt": _INTERRUPTS})
    for feature, (kind, pattern) in TITLES.items():
        if dialect.has(feature):
            md.block.ruler.before("paragraph", f"hymt_title_{feature}",
                                  _title_rule(kind, pattern), {"alt": _INTERRUPTS})
    if dialect.has("md_in_html"):
        md.block.ruler.before("html_block", "md_in_html", _md_in_html,
                              {"alt": _INTERRUPTS})
    if dialect.has("toml_front_matter"):
        md.block.ruler.before("table", "toml_front_matter", _toml_front_matter)
    if dialect.has("tabbed"):
        md.block.ruler.before("fence", "tabbed", _tab, {"alt": _INTERRUPTS})
    if dialect.has("blocks"):
        container_plugin(md, "blocks", marker="/", validate=_blocks_valid)
    if dialect.has("containers"):
        container_plugin(md, "colon", marker=":", validate=_colon_valid)
    if dialect.has("blocks") or dialect.has("containers"):
        md.core.ruler.after("block", "container_titles", container_titles)
    for name in (TITLE_OPEN, "hymt_title_close", SKELETON, JSX):
        md.add_render_rule(name, _render_nothing)


def _render_nothing(self: object, tokens: list[Token], idx: int, *args: object) -> str:
    token = tokens[idx]
    if token.type != JSX:
        return ""
    return f"<!--{token.type}:{masked_prose_props(token.content)}-->"  # props are prose


def _line(state: StateBlock, line: int) -> tuple[int, int]:
    return state.bMarks[line] + state.tShift[line], state.eMarks[line]


def _push_skeleton(state: StateBlock, first: int, last: int, kind: str = SKELETON) -> None:
    token = state.push(kind, "", 0)
    token.block = True
    token.map = [first, last]
    token.content = state.getLines(first, last, state.blkIndent, True)
    state.line = last


def _region_rule(regions: list[Region]) -> Callable[..., bool]:
    def rule(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
        if state.is_code_block(start_line):
            return False
        start, stop = _line(state, start_line)
        text = state.src[start:stop]
        for region in regions:
            if not region.start.match(text):
                continue
            last = _region_end(state, region, start_line, end_line, text)
            if last is None:
                continue
            if not silent:
                _push_skeleton(state, start_line, last)
            return True
        return False

    return rule


def _region_end(
    state: StateBlock, region: Region, start_line: int, end_line: int, text: str
) -> int | None:
    """The line after a region, or None when its end never comes."""
    if region.end is None or (region.ends_itself and region.end.match(text)):
        return start_line + 1
    for line in range(start_line + 1, end_line):
        start, stop = _line(state, line)
        if region.end.match(state.src[start:stop]):
            return line + 1
    return None


def _title_rule(kind: str, pattern: re.Pattern[str]) -> Callable[..., bool]:
    def rule(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
        if state.is_code_block(start_line):
            return False
        start, stop = _line(state, start_line)
        match = pattern.match(state.src, start, stop)
        if match is None or match.end() != stop:
            return False
        if not silent:
            open_ = state.push("hymt_line_open", "", 1)
            open_.map = [start_line, start_line + 1]
            push_title(state.push, state.src, match.start("title"), match.end("title"),
                       kind, [start_line, start_line + 1])
            state.push("hymt_line_close", "", -1)
            state.line = start_line + 1
        return True

    return rule


def push_title(
    push: Callable[[str, str, int], Token], src: str, start: int, end: int, kind: str,
    line_map: list[int] | None,
) -> list[Token]:
    """Push (or make) the tokens of a title at src[start:end]; empty titles push none."""
    if start >= end:
        return []
    opening = push(TITLE_OPEN, "", 1)
    opening.meta["kind"] = kind
    inline = push("inline", "", 0)
    inline.content = src[start:end]
    inline.map = line_map
    inline.children = []
    inline.meta[CMAP] = list(range(start, end + 1))
    closing = push("hymt_title_close", "", -1)
    return [opening, inline, closing]


# -- md_in_html -------------------------------------------------------------------

_MD_OPEN = re.compile(
    r"<(?P<tag>[A-Za-z][\w-]*)\b[^<>]*?\smarkdown(?:=(?:\"[^\"]*\"|'[^']*'|\w+))?"
    r"(?=[\s>/])[^<>]*>[ \t]*$"
)


def _md_in_html(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    """`<div markdown>` … `</div>`: the tag lines are skeleton, the lines between
    them Markdown (Python-Markdown's md_in_html), blank lines or not."""
    if state.is_code_block(start_line):
        return False
    start, stop = _line(state, start_line)
    opening = _MD_OPEN.match(state.src, start, stop)
    if opening is None:
        return False
    close = _closing_line(state, opening.group("tag"), start_line, end_line)
    if close is None:
        return False
    if silent:
        return True
    old_max = state.lineMax
    _push_skeleton(state, start_line, start_line + 1)
    state.lineMax = close
    state.md.block.tokenize(state, start_line + 1, close)
    state.lineMax = old_max
    _push_skeleton(state, close, close + 1)
    return True


def _closing_line(state: StateBlock, tag: str, start_line: int, end_line: int) -> int | None:
    """The line holding only the `</tag>` that closes the one opened on start_line."""
    opens = re.compile(rf"<{re.escape(tag)}\b[^>]*>", re.IGNORECASE)
    closes = re.compile(rf"[ \t]*</{re.escape(tag)}[ \t]*>[ \t]*$", re.IGNORECASE)
    depth = 1
    for line in range(start_line + 1, end_line):
        text = state.src[slice(*_line(state, line))]
        if closes.match(text):
            depth -= 1
            if depth == 0:
                return line
        elif opens.match(text.lstrip()) and not text.rstrip().endswith("/>"):
            depth += 1
    return None


# -- Hugo front matter -----------------------------------------------------------


def _toml_front_matter(state: StateBlock, start_line: int, end_line: int,
                       silent: bool) -> bool:
    """`+++` TOML front matter, or a JSON object, opening the document (Hugo)."""
    if start_line != 0 or state.level or state.blkIndent:
        return False
    start, stop = _line(state, 0)
    head = state.src[start:stop].rstrip()
    if head not in ("+++", "{") or state.sCount[0]:
        return False
    closing = "+++" if head == "+++" else "}"
    last = next((line for line in range(1, end_line)
                 if state.src[slice(*_line(state, line))].rstrip() == closing
                 and not state.sCount[line]), None)
    if last is None:
        return False
    if silent:
        return True
    token = state.push("front_matter", "", 0)
    token.block, token.map = True, [0, last + 1]
    if head == "+++":
        token.meta["syntax"], token.meta["start"] = "toml", state.bMarks[1]
        token.content = state.src[state.bMarks[1] : state.bMarks[last]]
    else:
        token.meta["syntax"], token.meta["start"] = "json", state.bMarks[0]
        token.content = state.src[state.bMarks[0] : state.eMarks[last]]
    token.markup = head
    state.line = last + 1
    return True


# -- pymdownx.tabbed ----------------------------------------------------------

_TAB = re.compile(r'===[!+]{0,2}[ \t]+"(?P<title>.*)"[ \t]*$')


def _tab(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    """`=== "Title"` with an indented body (pymdownx.tabbed)."""
    if state.is_code_block(start_line):
        return False
    start, stop = _line(state, start_line)
    match = _TAB.match(state.src, start, stop)
    if match is None or match.end() != stop:
        return False
    if silent:
        return True
    old = state.parentType, state.lineMax, state.blkIndent
    indent = state.sCount[start_line] + 4
    last = _indented_end(state, start_line, end_line, indent)
    opening = state.push("tab_open", "div", 1)
    opening.map = [start_line, last]
    opening.block = True
    push_title(state.push, state.src, match.start("title"), match.end("title"),
               "tab_title", [start_line, start_line + 1])
    state.parentType, state.lineMax, state.blkIndent = "tab", last, indent
    state.md.block.tokenize(state, start_line + 1, last)
    state.push("tab_close", "div", -1).block = True
    state.parentType, state.lineMax, state.blkIndent = old
    state.line = last
    return True


def _indented_end(state: StateBlock, start_line: int, end_line: int, indent: int) -> int:
    """The first line after an indented body (blank lines inside it belong to it)."""
    last = start_line + 1
    for line in range(start_line + 1, end_line):
        start, stop = _line(state, line)
        if start >= stop:
            continue
        if state.sCount[line] < indent:
            break
        last = line + 1
    return last


# -- container titles (pymdownx.blocks `///`, VitePress/Docusaurus `:::`) --------

_BLOCKS_HEAD = re.compile(r"[ \t]*[\w-]+[ \t]*(?:\|[ \t]*(?P<title>.*?))?[ \t]*$")
_COLON_HEAD = re.compile(
    r"[ \t]*(?P<type>[\w-]+)(?:\[(?P<bracket>(?:\\.|[^\]\\\n])*)\]|[ \t]+(?P<title>.*?))?"
    r"(?P<attrs>[ \t]*\{[^{}\n]*\})?[ \t]*$"
)
_UNTITLED = frozenset({"code-group", "raw", "v-pre"})


_UNTITLED_BLOCKS = frozenset({"html"})
"""`///` blocks whose `| argument` is not a title (`/// html | div.result`)."""


def _blocks_valid(params: str, markup: str) -> bool:
    return _BLOCKS_HEAD.match(params) is not None and bool(params.strip())


def _colon_valid(params: str, markup: str) -> bool:
    return bool(params.strip()) and _COLON_HEAD.match(params) is not None


def container_titles(state: StateCore) -> None:
    """Give `///` and `:::` containers with a title an inline title token (core rule)."""
    out: list[Token] = []
    for token in state.tokens:
        out.append(token)
        if token.type in ("container_blocks_open", "container_colon_open") and token.map:
            out.extend(_container_title(state, token))
    state.tokens = out


def _container_title(state: StateCore, token: Token) -> list[Token]:
    src = state.src
    line_start = _nth_line_start(src, token.map[0]) if token.map else 0
    head = src.find(token.markup, line_start)
    line_end = src.find("\n", head)
    line_end = len(src) if line_end < 0 else line_end
    params_at = head + len(token.markup)
    pattern = _BLOCKS_HEAD if token.type == "container_blocks_open" else _COLON_HEAD
    match = pattern.match(src, params_at, line_end)
    if match is None:
        return []
    group = "title"
    if token.type == "container_blocks_open" and \
            src[params_at:line_end].split("|")[0].strip() in _UNTITLED_BLOCKS:
        return []
    if token.type == "container_colon_open":
        if match.group("type") in _UNTITLED:
            return []
        group = "bracket" if match.group("bracket") is not None else "title"
    if match.group(group) is None:
        return []

    def make(kind: str, tag: str, nesting: int) -> Token:
        return Token(kind, tag, nesting)  # type: ignore[arg-type]

    return push_title(make, src, match.start(group), match.end(group),
                      "admonition_title", [token.map[0], token.map[0] + 1])


def _nth_line_start(src: str, line: int) -> int:
    pos = 0
    for _ in range(line):
        pos = src.index("\n", pos) + 1
    return pos


# -- MDX ------------------------------------------------------------------------

_ESM = re.compile(r"(?:import|export)\b")


def _esm(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    """ESM `import`/`export` at the top level, up to a blank line."""
    # (not `parentType`: markdown-it's lheading rule can leave it at "paragraph")
    if state.level or state.blkIndent:
        return False
    start, stop = _line(state, start_line)
    if state.sCount[start_line] or not _ESM.match(state.src, start, stop):
        return False
    if silent:
        return True
    last = start_line + 1
    while last < end_line and not state.isEmpty(last):
        last += 1
    _push_skeleton(state, start_line, last)
    return True


def _flow(
    opener: str, scan: Callable[[str, int], int | None], kind: str
) -> Callable[..., bool]:
    """A rule for lines that hold only what `scan` matches from an `opener`."""

    def rule(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
        start, _ = _line(state, start_line)
        if state.src[start : start + 1] != opener:
            return False
        end = scan(state.src, start)
        last = None if end is None else _line_of(state, end, start_line, end_line)
        if last is None:
            return False
        if not silent:
            _push_skeleton(state, start_line, last + 1, kind)
        return True

    return rule


_jsx_flow = _flow("<", scan_jsx_tags, JSX)
"""Lines holding only JSX tags (attributes may span lines)."""
_expression_flow = _flow("{", scan_braces, SKELETON)
"""A line (or lines) holding only a `{…}` expression or `{/* comment */}`."""


def _line_of(state: StateBlock, end: int, start_line: int, end_line: int) -> int | None:
    """The line where offset `end` falls, if only blanks follow it there."""
    for line in range(start_line, end_line):
        if state.bMarks[line] <= end <= state.eMarks[line]:
            rest = state.src[end : state.eMarks[line]]
            return line if not rest.strip() else None
    return None
