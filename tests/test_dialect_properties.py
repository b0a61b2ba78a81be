"""Property tests per dialect: generated pages of MkDocs, VitePress, MDX, Hugo,
mdBook and Jekyll constructs (blocks nested where the dialect nests, inline
constructs inside emphasis, prose with CJK and punctuation) keep every byte
under identity, every marker (tests/dialect_markers.py) under pseudo
translation, and their CommonMark structure.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hymt_cli.documents import SegmentOptions, segment
from hymt_cli.documents.dialects import get_dialect
from hymt_cli.documents.markdown import same_structure
from hymt_cli.engines.pseudo import pseudo_translate
from tests.dialect_markers import escaped, markers, plain_text_args

NAMES = ("mkdocs", "vitepress", "mdx", "hugo", "mdbook", "jekyll")
_SETTINGS = settings(max_examples=40, deadline=None,
                     suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

_WORDS = ["alpha", "beta", "Gamma", "delta", "docs", "naïve", "Über", "中文", "测试文档",
          "テスト", "x1", "42", "foo_bar", "e-mail"]
_AFTER = ["", "", "", ",", ".", "!", "?", ";", ":", "…", "。", "、", ")"]


@st.composite
def words(draw: st.DrawFn) -> str:
    """One to four prose words, each maybe followed by punctuation."""
    picked = draw(st.lists(st.tuples(st.sampled_from(_WORDS), st.sampled_from(_AFTER)),
                           min_size=1, max_size=4))
    return " ".join(word + after for word, after in picked)


_W = words()

INLINE: dict[str, list[st.SearchStrategy[str]]] = {
    "mkdocs": [
        st.sampled_from([":material-check:", ":smile:", "++ctrl+alt+del++", "H~2~O",
                         "$E = mc^2$", r"\(x^2\)"]),
        _W.map(lambda w: f"=={w}=="), _W.map(lambda w: f"^^{w}^^"),
        _W.map(lambda w: f"{{++{w}++}}"), _W.map(lambda w: f"{{--{w}--}}"),
        _W.map(lambda w: f"{{=={w}==}}"), _W.map(lambda w: f"{{>>{w}<<}}"),
        _W.map(lambda w: f"[{w}](/start/){{ .md-button }}"),
    ],
    "vitepress": [
        st.sampled_from(["{{ $frontmatter.title }}", "{{ 1 + 1 }}", ":tada:", "$x^2$",
                         "{{ page.relativePath }}"]),
    ],
    "mdx": [
        st.sampled_from(["{props.name}", "{1 + 1}", "{frontMatter.title}"]),
        _W.map(lambda w: f'<Highlight color="#25c2a0">{w}</Highlight>'),
    ],
    "hugo": [
        st.sampled_from(['{{< icon "check" >}}', '{{% param "author" %}}',
                         '{{< kbd "Ctrl" >}}']),
        _W.map(lambda w: f'[{w}]({{{{< ref "page.md" >}}}})'),
        _W.map(lambda w: f'[{w}]({{{{< relref "/docs/setup" >}}}})'),
        _W.map(lambda w: f"{{{{< mark >}}}}{w}{{{{< /mark >}}}}"),
    ],
    "mdbook": [
        st.sampled_from([r"\\( x^2 + y^2 \\)", "{{#include snippet.md}}",
                         r"\\( \frac{1}{n} \\)"]),
    ],
    "jekyll": [
        st.sampled_from(["{{ site.title }}", '{{ page.date | date: "%Y" }}',
                         "{% raw %}{{ not liquid }}{% endraw %}",
                         '{% include icon.html name="check" %}', "$$x^2$$"]),
        _W.map(lambda w: f'[{w}]({{{{ "/about/" | relative_url }}}})'),
        _W.map(lambda w: f"[{w}]({{% link _posts/2024-01-01-hello.md %}})"),
    ],
}
"""Each dialect's inline constructs."""

TOP_INLINE: dict[str, list[st.SearchStrategy[str]]] = {
    # CommonMark reads the stars of a JSX comment as emphasis delimiters, so
    # inside emphasis its structure is no oracle for MDX's.
    "mdx": [st.just("{/* a comment */}")],
}
"""Inline constructs that are generated outside emphasis only."""


@lru_cache(maxsize=None)
def inline(dialect: str, depth: int = 0) -> st.SearchStrategy[str]:
    """Prose, code, a link, a dialect construct, or emphasis around more inline."""
    options = [_W, _W, _W.map(lambda w: f"`{w}`"), _W.map(lambda w: f"[{w}](/guide/)"),
               *INLINE[dialect]]
    if depth < 2:
        nested = inline(dialect, depth + 1)
        inner = st.tuples(_W, nested, _W).map(" ".join)
        options += [inner.map(lambda s: f"*{s}*"), inner.map(lambda s: f"**{s}**"),
                    inner.map(lambda s: f"_{s}_"), nested.map(lambda s: f"**{s}**")]
    return st.one_of(options)


@lru_cache(maxsize=None)
def line(dialect: str) -> st.SearchStrategy[str]:
    """One line of inline content."""
    item = st.one_of(inline(dialect), *TOP_INLINE.get(dialect, []))
    return st.lists(item, min_size=1, max_size=4).map(" ".join)


@lru_cache(maxsize=None)
def paragraph(dialect: str) -> st.SearchStrategy[str]:
    """One to three lines."""
    return st.lists(line(dialect), min_size=1, max_size=3).map("\n".join)


def indent(text: str, by: str = "    ") -> str:
    """`text` with each non-blank line indented."""
    return "\n".join(by + row if row.strip() else row for row in text.split("\n"))


@st.composite
def common_block(draw: st.DrawFn, dialect: str) -> str:
    """A CommonMark/GFM block with the dialect's inline content."""
    kind = draw(st.sampled_from(["para", "para", "heading", "list", "quote", "fence",
                                 "alert", "table"]))
    text = draw(line(dialect))
    match kind:
        case "para":
            return draw(paragraph(dialect))
        case "heading":
            return f"## {text}"
        case "list":
            return f"- {text}\n- {draw(line(dialect))}"
        case "quote":
            return "> " + draw(paragraph(dialect)).replace("\n", "\n> ")
        case "fence":
            return "```python\nprint('alpha')  # beta\n```"
        case "alert":
            return f"> [!{draw(st.sampled_from(['NOTE', 'TIP', 'WARNING']))}]\n> {text}"
    return f"| {text} | {draw(_W)} |\n|---|:---:|\n| `x` | {draw(line(dialect))} |"


def _mkdocs(draw: st.DrawFn, depth: int) -> str:
    """A pymdownx block; admonitions, details, tabs and blocks nest."""
    kind = draw(st.sampled_from(["admonition", "details", "tabs", "block", "abbr", "snippet",
                                 "attr", "heading", "math", "include"]))
    title = draw(_W)

    def body() -> str:
        return draw(blocks("mkdocs", depth + 1))

    match kind:
        case "admonition":
            kind = draw(st.sampled_from(["note", "tip", "warning"]))
            return f'!!! {kind} "{title}"\n\n' + indent(body())
        case "details":
            return f'???+ info "{title}"\n\n' + indent(body())
        case "tabs":
            return f'=== "{title}"\n\n{indent(body())}\n\n=== "Tab B"\n\n{indent(body())}'
        case "block":
            return f"/// note | {title}\n\n{body()}\n\n///"
        case "abbr":
            return f"*[HTML]: {title}"
        case "snippet":
            return '--8<-- "includes/abbreviations.md"'
        case "attr":
            return draw(paragraph("mkdocs")) + "\n{ .lead }"
        case "heading":
            return f"## {draw(line('mkdocs'))} {{ #custom-id }}"
        case "math":
            return "$$\nE = mc^2\n$$"
    return "{* ../docs_src/first_steps/tutorial001.py hl[3] *}"


def _vitepress(draw: st.DrawFn, depth: int) -> str:
    """A VitePress block; containers nest, the outer fence the longer."""
    kind = draw(st.sampled_from(["container", "details", "toc", "import", "group",
                                 "heading", "math"]))
    colons = ":" * (5 - depth)
    match kind:
        case "container":
            kind = draw(st.sampled_from(["tip", "warning", "danger"]))
            title = draw(_W)
            return f"{colons} {kind} {title}\n{draw(blocks('vitepress', depth + 1))}\n{colons}"
        case "details":
            return f"{colons} details\n{draw(blocks('vitepress', depth + 1))}\n{colons}"
        case "toc":
            return "[[toc]]"
        case "import":
            return "<<< @/snippets/snippet.js{2}"
        case "group":
            return ("::: code-group\n\n```sh [npm]\nnpm add -D vitepress\n```\n\n"
                    "```sh [pnpm]\npnpm add -D vitepress\n```\n\n:::")
        case "heading":
            return f"## {draw(line('vitepress'))} {{#custom-id}}"
    return "$$\n\\sum_{i=1}^n i\n$$"


def _mdx(draw: st.DrawFn, depth: int) -> str:
    """An MDX block; JSX elements and admonitions nest."""
    kind = draw(st.sampled_from(["tabs", "jsx", "comment", "expression", "admonition"]))
    colons = ":" * (5 - depth)
    match kind:
        case "tabs":
            return (f'<Tabs groupId="os">\n  <TabItem value="linux">\n\n'
                    f"{draw(blocks('mdx', depth + 1))}\n\n  </TabItem>\n</Tabs>")
        case "jsx":
            return f"<Card>\n\n{draw(blocks('mdx', depth + 1))}\n\n</Card>"
        case "comment":
            return "{/* prettier-ignore */}"
        case "expression":
            return "{props.children}"
    title = draw(_W)
    return f"{colons}tip[{title}]\n\n{draw(blocks('mdx', depth + 1))}\n\n{colons}"


def _hugo(draw: st.DrawFn, depth: int) -> str:
    """A Hugo shortcode block; notice and tabs nest."""
    kind = draw(st.sampled_from(["figure", "notice", "tabs", "highlight", "multiline",
                                 "heading"]))
    match kind:
        case "figure":
            return f'{{{{< figure src="x.png" caption="{draw(_W)}" >}}}}'
        case "notice":
            kind = draw(st.sampled_from(["tip", "note", "warning"]))
            body = draw(blocks("hugo", depth + 1))
            return f"{{{{% notice {kind} %}}}}\n{body}\n{{{{% /notice %}}}}"
        case "tabs":
            body = draw(blocks("hugo", depth + 1))
            return (f'{{{{< tabs >}}}}\n{{{{< tab "A" >}}}}\n\n{body}\n\n'
                    "{{< /tab >}}\n{{< /tabs >}}")
        case "highlight":
            return ('{{< highlight go >}}\nfunc main() {\n\tfmt.Println("hi")\n}\n'
                    "{{< /highlight >}}")
        case "multiline":
            return '{{< figure\n    src="/images/a.png"\n    alt="An image"\n    width="600" >}}'
    return f"## {draw(line('hugo'))} {{#custom-id}}"


def _mdbook(draw: st.DrawFn, depth: int) -> str:
    """An mdBook block; quotes (and alerts) nest."""
    kind = draw(st.sampled_from(["include", "rustdoc", "playground", "title", "fence",
                                 "math", "nested"]))
    match kind:
        case "include":
            return "{{#include ../listings/ch01/main.rs:2:10}}"
        case "rustdoc":
            return "```rust\n{{#rustdoc_include ../listings/ch02/main.rs:here}}\n```"
        case "playground":
            return "{{#playground example.rs editable}}"
        case "title":
            return "{{#title The Book}}"
        case "fence":
            return "```rust,ignore\nfn main() {}\n```"
        case "math":
            return "\\\\[\n  \\mu = \\frac{1}{N} \\sum x_i\n\\\\]"
    body = indent(draw(blocks("mdbook", depth + 1)), "> ")
    return "> [!NOTE]\n" + body.replace("\n\n", "\n>\n")


def _jekyll(draw: st.DrawFn, depth: int) -> str:
    """A Jekyll block; Liquid if/for bodies nest."""
    kind = draw(st.sampled_from(["include", "if", "for", "raw", "highlight", "ial", "toc"]))
    match kind:
        case "include":
            return f'{{% include note.html content="{draw(_W)}" %}}'
        case "if":
            body = draw(blocks("jekyll", depth + 1))
            return f"{{% if page.comments %}}\n\n{body}\n\n{{% endif %}}"
        case "for":
            body = draw(blocks("jekyll", depth + 1))
            return f"{{% for post in site.posts %}}\n{body}\n{{% endfor %}}"
        case "raw":
            return "{% raw %}\n{{ page.title }} and {% tag %}\n\nalpha beta\n{% endraw %}"
        case "highlight":
            return "{% highlight ruby %}\ndef hi\n  puts 'hi'\nend\n{% endhighlight %}"
        case "ial":
            return draw(paragraph("jekyll")) + "\n{: .notice--info}"
    return "* TOC\n{:toc}"


DIALECT_BLOCKS: dict[str, Callable[[st.DrawFn, int], str]] = {
    "mkdocs": _mkdocs, "vitepress": _vitepress, "mdx": _mdx, "hugo": _hugo,
    "mdbook": _mdbook, "jekyll": _jekyll,
}


@st.composite
def blocks(draw: st.DrawFn, dialect: str, depth: int = 0) -> str:
    """One to three blocks, dialect blocks nesting up to depth 2."""
    count = draw(st.integers(1, 3 if depth < 2 else 1))
    parts = []
    for _ in range(count):
        if depth < 2 and draw(st.booleans()):
            parts.append(DIALECT_BLOCKS[dialect](draw, depth))
        else:
            parts.append(draw(common_block(dialect)))
    return "\n\n".join(parts)


@st.composite
def document(draw: st.DrawFn, dialect: str) -> str:
    """A page: maybe front matter (and MDX imports), then blocks."""
    body = draw(blocks(dialect)) + draw(st.sampled_from(["", "\n"]))
    title = draw(_W)
    head = ""
    if dialect == "mdx" and draw(st.booleans()):
        head = "import Tabs from '@theme/Tabs';\nimport TabItem from '@theme/TabItem';\n\n"
    if dialect == "hugo" and draw(st.booleans()):
        head = f'+++\ntitle = "{title}"\ndraft = false\ntags = ["a", "b"]\n\n[params]\n' \
               'author = "Jane"\n+++\n\n'
    elif draw(st.booleans()):
        head = f'---\ntitle: "{title}"\nlayout: post\ntags: [a, b]\n---\n\n' + head
    return head + body


def pseudo(text: str, dialect: str) -> str:
    """`text` pseudo-translated through `dialect`."""
    doc = segment(text, "md", SegmentOptions(dialect=get_dialect(dialect)))
    return doc.render({s.id: pseudo_translate(s.text) for s in doc.segments()})


@pytest.mark.parametrize("dialect", NAMES)
@_SETTINGS
@given(data=st.data())
def test_identity(dialect: str, data: st.DataObject) -> None:
    text = data.draw(document(dialect))
    doc = segment(text, "md", SegmentOptions(dialect=get_dialect(dialect)))
    assert doc.source == text
    assert doc.render({s.id: s.text for s in doc.segments()}) == text


@pytest.mark.parametrize("dialect", NAMES)
@_SETTINGS
@given(data=st.data())
def test_markers_survive(dialect: str, data: st.DataObject) -> None:
    text = data.draw(document(dialect))
    output = pseudo(text, dialect)
    assert markers(output, dialect) == markers(text, dialect)
    assert [arg for arg in plain_text_args(output, dialect) if escaped(arg)] == []


@pytest.mark.parametrize("dialect", NAMES)
@_SETTINGS
@given(data=st.data())
def test_same_structure(dialect: str, data: st.DataObject) -> None:
    text = data.draw(document(dialect))
    assert same_structure(text, pseudo(text, dialect), get_dialect(dialect))
