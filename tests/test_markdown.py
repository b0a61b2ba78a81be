"""Markdown adapter: fixture documents and focused behaviour checks.

Fixtures live in tests/cases/markdown: `NAME.md` with its expected segments in
`NAME.segments.jsonl` (id, kind, text). Regenerate with HYMT_REGEN_CASES=1 and
review the diff.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from hymt_cli.document import Document, render_segment
from hymt_cli.documents import SegmentOptions
from hymt_cli.documents import segment as segment_any
from hymt_cli.documents.markdown import KINDS, same_structure, segment_markdown
from hymt_cli.documents.md_front_matter import is_plain_safe, yaml_escape
from hymt_cli.engines.pseudo import pseudo_translate

CASES = Path(__file__).parent / "cases" / "markdown"
CASE_FILES = sorted(CASES.glob("*.md"))


def read(path: Path) -> str:
    """A file's text exactly as stored (no newline translation)."""
    with open(path, encoding="utf-8", newline="") as handle:
        return handle.read()


def pseudo(doc: Document) -> str:
    """The document rendered with every segment pseudo-translated."""
    return doc.render({s.id: pseudo_translate(s.text) for s in doc.segments()})


def translate(doc: Document, **texts: str) -> str:
    """The document rendered with some segments replaced."""
    return doc.render(texts)


def segment_rows(doc: Document) -> list[dict[str, str]]:
    """Segments as the rows of a `.segments.jsonl` file, in source order."""
    ordered = sorted(doc.segments(), key=lambda s: s.start)
    return [{"id": s.id, "kind": s.kind, "text": s.text} for s in ordered]


def front_matter(text: str) -> dict:
    """The YAML mapping between the leading `---` fences."""
    body = text.lstrip("\ufeff").replace("\r\n", "\n").split("---\n")[1]
    return YAML(typ="safe", pure=True).load(io.StringIO(body))


# -- fixtures -----------------------------------------------------------------


@pytest.mark.parametrize("path", CASE_FILES, ids=lambda p: p.stem)
def test_case_identity(path: Path) -> None:
    text = read(path)
    doc = segment_markdown(text)
    assert doc.source == text
    assert doc.render({s.id: s.text for s in doc.segments()}) == text


@pytest.mark.parametrize("path", CASE_FILES, ids=lambda p: p.stem)
def test_case_segments(path: Path) -> None:
    rows = segment_rows(segment_markdown(read(path)))
    expected_path = path.with_suffix(".segments.jsonl")
    if os.environ.get("HYMT_REGEN_CASES"):
        lines = [json.dumps(row, ensure_ascii=False) + "\n" for row in rows]
        expected_path.write_text("".join(lines), encoding="utf-8")
    expected = [json.loads(line) for line in read(expected_path).splitlines() if line]
    assert rows == expected


@pytest.mark.parametrize("path", CASE_FILES, ids=lambda p: p.stem)
def test_case_pseudo_structure(path: Path) -> None:
    text = read(path)
    doc = segment_markdown(text)
    assert same_structure(text, pseudo(doc))
    unshortcut = "".join(
        p if isinstance(p, str) else render_segment(p, p.text) for p in doc.pieces
    )
    assert same_structure(text, unshortcut)


def test_case_pseudo_front_matter_is_valid_yaml() -> None:
    text = read(CASES / "readme.md")
    data = front_matter(pseudo(segment_markdown(text)))
    assert data["title"].startswith("[ĥýɱŧ: ")
    assert data["summary"].startswith("[Íŧ'š")
    assert data["tags"] == ["cli", "translation"]
    assert data["version"] == 1.5
    assert data["author"] == "Jane Doe"


def test_crlf_case_keeps_crlf() -> None:
    text = read(CASES / "crlf.md")
    assert "\r\n" in text
    out = pseudo(segment_markdown(text))
    assert out.count("\r\n") == text.count("\r\n") - 1  # the soft break is re-encoded
    assert "\n" not in out.replace("\r\n", "")


# -- adapter contract ---------------------------------------------------------


def test_adapter_contract() -> None:
    doc = segment_any("# Hi there\n", "md")
    assert doc.format == "md"
    assert [(s.id, s.kind, s.text) for s in doc.segments()] == [("s1", "heading", "Hi there")]


def test_kinds_are_switchable() -> None:
    text = "# Title\n\nBody text.\n\n| a cell |\n|---|\n"
    only = segment_markdown(text, kinds={"heading"})
    assert [s.kind for s in only.segments()] == ["heading"]
    assert {"paragraph", "heading", "table_cell", "alt", "title", "front_matter"} <= KINDS


def test_front_matter_keys_option() -> None:
    text = "---\ntitle: Hello world\nauthor: Jane Doe\n---\nBody.\n"
    doc = segment_markdown(text, SegmentOptions(front_matter_keys=("author",)))
    assert [(s.kind, s.text) for s in doc.segments()][0] == ("front_matter", "Jane Doe")


# -- inline encoding ----------------------------------------------------------


def texts(text: str) -> list[str]:
    return [s.text for s in sorted(segment_markdown(text).segments(), key=lambda s: s.start)]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("Some *em* and **strong** and ~~gone~~.", "Some <s1>em</s1> and <s2>strong</s2> and <s3>gone</s3>."),
        ("Run `ls -l` now.", "Run <s1>ls -l</s1> now."),
        ("Escapes \\* and &lt; &amp; &nbsp;x", "Escapes * and < & \u00a0x"),
        ("one\ntwo", "one two"),
        ("See <https://a.example> or www.example.com/x.", "See <s1>https://a.example</s1> or <s2>www.example.com/x</s2>."),
        ("A <b>bold</b> and <br> break", "A <s1>bold</s1> and <s2></s2> break"),
        ("Note[^1] here\n\n[^1]: Text.", "Note<s1></s1> here"),
        ("Hello {{ name }} and {% if x %}", "Hello <s1>{{ name }}</s1> and <s2>{% if x %}</s2>"),
        ("Literal <s1> tag", "Literal <s1></s1> tag"),
        ("Entity &lt;s1&gt; tag", "Entity <s1></s1> tag"),
    ],
)
def test_inline_encoding(source: str, expected: str) -> None:
    assert texts(source)[0] == expected


def test_hard_break_locks_container_prefix() -> None:
    doc = segment_markdown("> one\\\n> two\n")
    [seg] = doc.segments()
    assert seg.text == "one<s1></s1>two"
    assert seg.tag(1).locked == ("\\\n> ",)


def test_soft_break_in_quote_is_reencoded_as_space() -> None:
    doc = segment_markdown("> one\n> two\n")
    [seg] = doc.segments()
    assert seg.source == "one\n> two"
    assert translate(doc, s1="uno dos") == "> uno dos\n"


def test_link_title_and_image_alt_are_nested_segments() -> None:
    doc = segment_markdown('Go [home](/ "Home page") ![a cat](c.png \'Cat\')\n')
    kinds = [(s.kind, s.text) for s in doc.segments()]
    assert ("title", "Home page") in kinds and ("alt", "a cat") in kinds
    out = translate(doc, s2='He said "hi"', s3="un chat")
    assert out == 'Go [home](/ "He said \\"hi\\"") ![un chat](c.png \'Cat\')\n'


@pytest.mark.parametrize("link", ["[foo]", "[foo][]", "[Foo Bar][foo]"])
def test_reference_links_still_resolve(link: str) -> None:
    text = f"See {link} now.\n\n[foo]: /url\n[Foo Bar]: /bar\n"
    doc = segment_markdown(text)
    seg = doc.segments()[0]
    out = translate(doc, **{seg.id: seg.text.replace("foo", "xyz").replace("Foo Bar", "Xyz")})
    assert same_structure(text, out)
    assert 'href="/' in __import__("hymt_cli.documents.markdown").documents.markdown.render_html(out)


def test_table_cells_escape_pipes() -> None:
    text = "| a | b |\n|---|---|\n| one | two |\n"
    doc = segment_markdown(text)
    out = translate(doc, s3="x | y")
    assert "| x \\| y | two |" in out
    assert same_structure(text, out)


def test_heading_anchor_and_closing_hashes_stay_in_skeleton() -> None:
    for text in ("## Intro {#intro}\n", "## Intro {: #intro .big}\n", "## Intro ##\n"):
        doc = segment_markdown(text)
        [seg] = doc.segments()
        assert seg.text == "Intro"
        assert same_structure(text, translate(doc, s1="Einführung #"))


def test_code_and_off_regions_are_skeleton_html_blocks_translated() -> None:
    text = (
        "```\ncode here\n```\n\n    indented code\n\n<div>\nraw html\n</div>\n\n"
        "<!-- hymt:off -->\nnot this\n<!-- hymt:on -->\n\nbut this\n\n[ref]: /u 'T'\n"
    )
    # the HTML block's text goes through the HTML adapter; its markup stays
    assert texts(text) == ["raw html", "but this"]


def test_html_block_kept_where_translating_it_could_end_it() -> None:
    # a segment starting the block, or text with a `<` html.parser gave up on,
    # would change what makes the lines an HTML block: both stay skeleton
    assert texts('<i class="foo">\n*bar*\n</i>\n') == []
    assert texts('<div id="foo"\n*hi*\n') == []
    assert texts("<details>\n<summary>One</summary>\n\n</details>\n\n<details>\n"
                 "<summary>Two</summary>\n</details>\n") == ["One", "Two"]


def test_byte_exactness_edge_cases() -> None:
    for text in ("\ufeff# Title\r\n\r\nText\r\n", "a\rb\r\rc", "x\0y\n", "\tTab", "no newline"):
        doc = segment_markdown(text)
        assert doc.source == text
        assert doc.render({s.id: s.text for s in doc.segments()}) == text


def test_segments_without_letters_stay_skeleton() -> None:
    assert texts("123 456\n\n`code` `more`\n\n| 1 | 2 |\n|---|---|\n") == []


# -- escaping -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "rendered"),
    [
        ("a*b_c`d[e]f<g~h\\i", "a*b_c`d[e]f<g~h\\i"),  # nothing here can pair or open
        ("*a* _b_ `c` [d](e) <f> ~~g~~",
         "\\*a\\* \\_b\\_ \\`c\\` \\[d\\](e) \\<f> \\~\\~g\\~\\~"),
        ("AT&T &amp;", "AT&T \\&amp;"),
        ("# not heading", "\\# not heading"),
        ("> no", "\\> no"),
        ("- no", "\\- no"),
        ("1. no", "1\\. no"),
        ("!!! note", "\\!!! note"),
        ("line\nbreak", "line break"),
        ("`limit`: a value", "\\`limit\\`: a value"),
        ("中文，没有转义。", "中文，没有转义。"),
        ("bang!", "bang!"),
    ],
)
def test_translated_text_is_escaped_only_where_it_could_form_markdown(
    answer: str, rendered: str
) -> None:
    doc = segment_markdown("Some text.\n")
    (seg,) = doc.segments()
    out = doc.render({seg.id: answer})
    assert out == rendered + "\n"
    assert same_structure("Some text.\n", out)


def test_cell_and_heading_escapes() -> None:
    table = "| a | b |\n|---|---|\n| one | two |\n"
    doc = segment_markdown(table)
    cells = {s.text: s.id for s in doc.segments()}
    assert doc.render({cells["one"]: "x | y"}).splitlines()[2] == "| x \\| y | two |"
    doc = segment_markdown("# Title\n")
    (seg,) = doc.segments()
    assert doc.render({seg.id: "C#"}) == "# C#\n"  # no closing sequence: kept
    assert doc.render({seg.id: "C #"}) == "# C \\#\n"  # would close the heading


@pytest.mark.parametrize(
    "value", ["a: b", "x # y", "'quoted'", '"dq"', "[list", "- dash", "yes", "123", "ok plain"]
)
@pytest.mark.parametrize("style", [None, "'", '"'])
def test_yaml_escape_round_trips(value: str, style: str | None) -> None:
    encoded = yaml_escape(style)(value)
    assert YAML(typ="safe", pure=True).load(f"k: {encoded}\n") == {"k": value}


def test_yaml_plain_kept_when_safe() -> None:
    assert yaml_escape(None)("Hello world") == "Hello world"
    assert not is_plain_safe("a: b") and not is_plain_safe("true")


def test_pseudo_front_matter_with_hostile_values() -> None:
    text = "---\ntitle: Plain title\ndescription: 'single'\nsummary: \"double\"\n---\n"
    doc = segment_markdown(text)
    hostile = 'x: "y" # z \'w\' [v'
    out = doc.render({s.id: "[" + hostile for s in doc.segments()})
    assert front_matter(out) == {k: "[" + hostile for k in ("title", "description", "summary")}


@pytest.mark.parametrize(
    ("source", "translation", "expected"),
    [
        # `_` between CJK letters would be intraword: `*` pairs there
        ("This is _important_ text.\n", "这是<s1>重要</s1>的文本。", "这是*重要*的文本。\n"),
        # punctuation inside, a letter outside: no marker can open, HTML can
        ("This is *important* text.\n", "这是<s1>「重要」</s1>的文本。",
         "这是<em>「重要」</em>的文本。\n"),
        ("A ~~gone~~ c\n", "A<s1>「gone」</s1>c", "A<s>「gone」</s>c\n"),
        # markers that still pair stay as they are
        ("Keep **this** now\n", "Behalte <s1>dies</s1> jetzt", "Behalte **dies** jetzt\n"),
        ("A __*b*__ c\n", "A<s1><s2>b</s2></s1>c", "A<strong>*b*</strong>c\n"),
    ],
)
def test_emphasis_is_re_marked_for_its_new_neighbours(
    source: str, translation: str, expected: str
) -> None:
    doc = segment_markdown(source)
    (seg,) = doc.segments()
    out = doc.render({seg.id: translation})
    assert out == expected
    assert same_structure(source, out)


@pytest.mark.parametrize(
    ("source", "texts"),
    [
        ("> [!NOTE]\n> Lumen needs Python.\n", ["Lumen needs Python."]),
        ("> [!WARNING]\r\n> Careful *now*.\r\n", ["Careful <s1>now</s1>."]),
        ("> [!TIP]\n", []),
        ("> [not] an alert\n", ["[not] an alert"]),
    ],
)
def test_github_alert_markers_stay_untranslated(source: str, texts: list[str]) -> None:
    doc = segment_markdown(source)
    assert [s.text for s in doc.segments()] == texts
    assert doc.source == source
    out = doc.render({s.id: pseudo_translate(s.text) for s in doc.segments()})
    if source.startswith("> [!"):
        assert out.splitlines()[0] == source.splitlines()[0]


def test_underscore_emphasis_turned_star_inside_star_emphasis_keeps_its_structure() -> None:
    """Found by hypothesis: `_x_` inside `*…*` between CJK text cannot become
    `*x*` (it would close the outer emphasis there); it is written as `<em>`."""
    text = "alpha *alpha _`alpha`_ alpha* _alpha_\n"
    doc = segment_markdown(text)
    (seg,) = doc.segments()
    assert seg.text == "alpha <s1>alpha <s2><s3>alpha</s3></s2> alpha</s1> <s4>alpha</s4>"
    answer = "中中「<s1>中中「<s2>「<s3>alpha</s3>」</s2>」中中</s1>」「<s4>中中</s4>」"
    rendered = doc.render({seg.id: answer})
    assert same_structure(text, rendered), rendered
    assert "<em>" in rendered
