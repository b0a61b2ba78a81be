"""HTML adapter: identity law, kept structure, fixtures, attributes, lang/dir."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from hymt_cli.document import TAG_RE, Document, Segment, render_segment
from hymt_cli.documents import segment
from hymt_cli.documents.html import target_values
from hymt_cli.engines.pseudo import pseudo_translate
from tests.html_tree import html_structure

CASES = Path(__file__).parent / "cases" / "html"
FIXTURES = sorted(CASES.glob("*.html"))
ATTRIBUTE_KINDS = frozenset(
    "alt title placeholder aria-label meta_description og_title og_description "
    "twitter_title twitter_description".split()
)
TARGET_KINDS = frozenset({"lang", "dir"})


def check_identity(text: str) -> Document:
    """Assert the identity law and exact offsets; returns the document."""
    doc = segment(text, "html")
    assert doc.source == text
    assert doc.render({s.id: s.text for s in doc.segments()}) == text
    assert doc.render({}) == text
    for seg in doc.segments():
        assert text[seg.start : seg.end] == seg.source
    ids = [s.id for s in doc.segments()]
    assert len(ids) == len(set(ids))
    return doc


def pseudo_translations(doc: Document, target: str = "ar") -> dict[str, str]:
    """Pseudo-translate every segment; lang/dir get the target's values."""
    values = {
        s.id: pseudo_translate(s.text)
        for s in doc.segments()
        if s.kind not in TARGET_KINDS
    }
    return values | target_values(doc, target, rtl=target == "ar")


def forced_render(doc: Document) -> str:
    """Render every segment through its escape, even when its text is unchanged."""
    nested = {s.id: s.text + " " for s in doc.segments()}
    return "".join(
        p if isinstance(p, str) else render_segment(p, p.text, nested)
        for p in doc.pieces
    )


def attribute_values(html_text: str) -> list[str]:
    """Every readable attribute value of `html_text`, stripped."""
    soup = BeautifulSoup(html_text, "html.parser")
    names = ("alt", "title", "placeholder", "aria-label", "content")
    return [
        str(tag[name]).strip()
        for tag in soup.find_all(True)
        for name in names
        if tag.has_attr(name)
    ]


def check_pseudo(text: str) -> str:
    """Assert pseudo and forced renders keep the structure; returns the pseudo one."""
    doc = segment(text, "html")
    out = doc.render(pseudo_translations(doc))
    if not doc.segments():
        assert out == text
        return out
    assert html_structure(out) == html_structure(text)
    assert html_structure(forced_render(doc)) == html_structure(text)
    values = attribute_values(out)
    for seg in doc.segments():
        if seg.kind in ATTRIBUTE_KINDS and not seg.tags:
            assert pseudo_translate(seg.text) in values, seg
    return out


# --- fixtures -------------------------------------------------------------------


def _expected(path: Path) -> list[dict[str, str]]:
    lines = path.with_suffix(".segments.jsonl").read_text("utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_fixture_identity_and_segments(path: Path) -> None:
    text = path.read_text("utf-8")
    doc = check_identity(text)
    got = [{"id": s.id, "kind": s.kind, "text": s.text} for s in doc.segments()]
    assert got == _expected(path)


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_fixture_pseudo_keeps_structure(path: Path) -> None:
    check_pseudo(path.read_text("utf-8"))


def test_page_untranslated_regions_come_back_unchanged() -> None:
    text = (CASES / "page.html").read_text("utf-8")
    out = check_pseudo(text)
    for kept in (
        'window.greeting = "Hello <b>world</b>";',
        "body { font-family: sans-serif; } /* Not translated */",
        "<pre>trail --list\n  north   12 km</pre>",
        "<code>112</code>",
        '<li class="notranslate"><a href="/brand">TrailCo</a></li>',
        '<span translate="no">GPS-X2</span>',
        "<!-- hymt:off -->\n    <p>Legal text kept in English.</p>\n"
        "    <!-- hymt:on -->",
        '<div class="notranslate"><p>Brand slogan</p></div>',
        ">Keep this text</textarea>",
        '<meta name="viewport" content="width=device-width">',
        "{{ user.name }}",
        "&lt;s1&gt;",
        'href="https://example.org/w?a=1&amp;b=2"',
    ):
        assert kept in out
    assert '<html lang="ar" dir="rtl">' not in out  # dir goes right after the name
    assert '<html dir="rtl" lang="ar">' in out


def test_page_text_and_attributes_are_translated() -> None:
    text = (CASES / "page.html").read_text("utf-8")
    soup = BeautifulSoup(check_pseudo(text), "html.parser")
    assert soup.title is not None
    assert soup.title.string == "[Ŧŕàíĺ Ĝúíđé & Ṁàþš ····]"
    alts = [img["alt"] for img in soup.find_all("img")]
    assert all(str(a).startswith("[") for a in alts)
    nav = soup.find("nav")
    assert nav is not None and str(nav["aria-label"]).startswith("[Ṁàíñ")
    meta = soup.find("meta", attrs={"property": "og:description"})
    assert meta is not None and str(meta["content"]).startswith('[Þĺàñ ýóúŕ ñéẋŧ "ƀíĝ"')
    button = soup.find("button")
    assert button is not None and button.get_text().startswith("[Šúƀšçŕíƀé")


# --- small cases ----------------------------------------------------------------

MALFORMED = [
    "<p>One<p>Two<li>three",
    "<ul><li>a<li>b</ul></li></p></div>",
    "<P CLASS=x>Upper <EM>case</EM></P>",
    "<p title=unquoted alt = 'x' data-a=b>Text</p>",
    "<p>CDATA <![CDATA[ a < b ]]> and <?php echo 1 ?> here</p>",
    "\ufeff<!doctype html>\r\n<p>BOM\r\nand CRLF</p>\r\n",
    "<p>Stray </b> end and </> tags</p>",
    "<p>Amp & alone, &unknown; &amp &#65 &#x42; &#xZZ; tail &",
    "<p>Open <a href='x'>link <b>bold</p><p>next</a> para</b>",
    "<p>Unclosed <script>var x = '<p>';",
    "<p>Half tag <a href=\"x",
    "<p>Less < than and > greater</p><p>a<b</p>",
    "<img alt=\"Logo\" src=x.png><p>Comment <!-- c --> inside <!-- x --></p>",
    "<p>Bogus <!x> comment and <!-- unclosed comment",
    "<title>A <b>title</b></title><p>Text</p></html><p>after</p>",
    "<div>Text<div>Nested<span>inline</span></div>tail</div>",
    "<svg><text>Not text</text></svg><p>math <math><mi>x</mi></math> ok</p>",
    "<p>Self <span/> closing <br/> and <img alt='Fig' /></p>",
    "<html><head></head><body>Bare body text</body></html>",
    "<p>Tabs\tand\fform feeds\u00a0nbsp\u3000wide</p>",
    "",
    "just text, no markup",
]


@pytest.mark.parametrize("text", MALFORMED)
def test_malformed_html_keeps_identity_and_structure(text: str) -> None:
    check_identity(text)
    check_pseudo(text)


def test_markup_the_parser_rejects_is_kept_whole() -> None:
    text = "<p>Before</p><![foo[ x ]]><p>after</p>"
    assert check_identity(text).pieces == (text,)


def _texts(text: str) -> list[tuple[str, str]]:
    return [(s.kind, s.text) for s in segment(text, "html").segments()]


def test_entities_decoded_and_whitespace_collapsed() -> None:
    text = "<p>\n  Fish &amp; chips\n   &lt;cheap&gt;\u00a0&#169; &copy;\n</p>"
    assert _texts(text) == [("paragraph", "Fish & chips <cheap>\u00a0© ©")]
    (seg,) = segment(text, "html").segments()
    assert seg.source == "Fish &amp; chips\n   &lt;cheap&gt;\u00a0&#169; &copy;"
    assert render_segment(seg, "A & B <c>\u00a0") == "A &amp; B &lt;c&gt;&nbsp;"


def test_tag_lookalikes_are_locked_and_round_trip() -> None:
    text = "<p>Write &lt;s1&gt; or &lt;/s2&gt; and <b>bold</b></p>"
    doc = check_identity(text)
    (seg,) = doc.segments()
    assert seg.text == "Write <s1></s1> or <s2></s2> and <s3>bold</s3>"
    out = doc.render({seg.id: "Schreib <s1>X</s1> oder <s2></s2> und <s3>fett</s3>"})
    assert out == "<p>Schreib &lt;s1&gt; oder &lt;/s2&gt; und <b>fett</b></p>"


def test_template_syntax_is_locked() -> None:
    doc = check_identity("<p>Hi {{ user }}, {% if x %}yes{% endif %}</p>")
    (seg,) = doc.segments()
    assert seg.text == (
        "Hi <s1>{{ user }}</s1>, <s2>{% if x %}</s2>yes<s3>{% endif %}</s3>"
    )
    assert _texts("<p>{{ only.template }}</p>") == []


def test_inline_tags_pair_and_atomic_items_lock() -> None:
    text = '<p>A <a href="/x">link</a>, <code>x()</code>, <img src="i.png"><br>end</p>'
    (seg,) = check_identity(text).segments()
    assert seg.text == "A <s1>link</s1>, <s2>x()</s2>, <s3></s3><s4></s4>end"
    assert [t.kind for t in seg.tags] == ["link", "code", "image", "break"]
    out = render_segment(seg, "B <s2>CHANGED</s2> <s1>lien</s1> <s3></s3><s4></s4>fin")
    assert out == 'B <code>x()</code> <a href="/x">lien</a> <img src="i.png"><br>fin'


def test_block_runs_split_at_block_boundaries() -> None:
    text = "<li>Item <ul><li>Sub</li></ul> after</li><div>Lead <p>Para</p></div>"
    assert _texts(text) == [
        ("list_item", "Item"),
        ("list_item", "Sub"),
        ("list_item", "after"),
        ("text", "Lead"),
        ("paragraph", "Para"),
    ]


def test_attribute_segments_nested_in_inline_markup() -> None:
    text = '<p>See <a href="/m" title="The map">map</a> <img alt="A hut"> here</p>'
    doc = check_identity(text)
    kinds = [(s.kind, s.text) for s in doc.segments()]
    assert kinds == [
        ("title", "The map"),
        ("alt", "A hut"),
        ("paragraph", "See <s1>map</s1> <s2></s2> here"),
    ]
    holder = doc.segments()[-1]
    assert isinstance(holder.tags[0].open, tuple)
    out = doc.render({"s1": 'La "carte"', "s2": "Une cabane"})
    assert out == (
        '<p>See <a href="/m" title="La &quot;carte&quot;">map</a>'
        ' <img alt="Une cabane"> here</p>'
    )


@pytest.mark.parametrize(
    ("tag", "translation", "expected"),
    [
        ("<img alt='Logo'>", "L'œil & <co>", "<img alt='L&#39;œil &amp; &lt;co>'>"),
        ('<img alt="Logo">', 'Say "hi"', '<img alt="Say &quot;hi&quot;">'),
        ("<img alt=Logo>", "Deux mots/x=y", "<img alt=Deux&#32;mots&#47;x&#61;y>"),
        ("<img alt=Logo src=x>", "a\u3000b>", "<img alt=a&#12288;b&#62; src=x>"),
        ('<img alt="  Logo  ">', "Marke", '<img alt="  Marke  ">'),
    ],
)
def test_attribute_escape_by_quoting(tag: str, translation: str, expected: str) -> None:
    doc = check_identity(tag)
    (seg,) = doc.segments()
    out = doc.render({seg.id: translation})
    assert out == expected
    soup = BeautifulSoup(out, "html.parser")
    assert soup.img is not None
    assert str(soup.img["alt"]).strip() == translation


def test_meta_content_kinds_and_unread_meta() -> None:
    text = (
        '<meta name="Description" content="About us">'
        '<meta property="og:title" content="Home">'
        '<meta name="keywords" content="a, b">'
        '<meta name="twitter:description" content="Card text">'
    )
    assert _texts(text) == [
        ("meta_description", "About us"),
        ("og_title", "Home"),
        ("twitter_description", "Card text"),
    ]


def test_attributes_without_words_are_not_segments() -> None:
    assert _texts('<img alt="" title="123"><input placeholder="  ">') == []


@pytest.mark.parametrize(
    "text",
    [
        "<pre>Pre <b>text</b></pre>",
        "<p translate='no'>No <em>words</em></p>",
        "<div class='a notranslate b'><p>Kept <img alt='kept'></p></div>",
        "<script>document.write('<p>hi</p>')</script>",
        "<style>p::after { content: 'Text'; }</style>",
        "<template><p>Later</p></template>",
        "<svg><title>Icon</title><text>Label</text></svg>",
        "<!-- hymt:off --><p>Off <b>here</b></p><!-- HYMT:ON -->",
        "<!-- a comment with words -->",
        "<textarea>Type here</textarea>",
    ],
)
def test_never_translated(text: str) -> None:
    assert _texts(text) == []
    check_identity(text)


def test_hymt_off_until_end_without_on_marker() -> None:
    assert _texts("<p>On</p><!-- hymt:off --><p>Off</p>") == [("paragraph", "On")]
    assert _texts("<!-- hymt:off --><p>Off</p><!-- hymt:on --><p>On</p>") == [
        ("paragraph", "On")
    ]


def test_notranslate_inline_is_locked_with_its_text_shown() -> None:
    text = '<p>Buy <span class="notranslate">Acme Pro</span> now</p>'
    (seg,) = segment(text, "html").segments()
    assert seg.text == "Buy <s1>Acme Pro</s1> now"
    assert seg.tags[0].is_locked


# --- lang and dir ---------------------------------------------------------------


def _localise(text: str, code: str, rtl: bool) -> str:
    doc = check_identity(text)
    return doc.render(target_values(doc, code, rtl))


def test_existing_lang_is_replaced_and_dir_added_for_rtl() -> None:
    out = _localise('<html lang="en"><p>x</p></html>', "ar", rtl=True)
    assert out == '<html dir="rtl" lang="ar"><p>x</p></html>'


def test_missing_lang_is_added_without_dir_for_ltr() -> None:
    assert _localise("<HTML class=x>", "de", rtl=False) == '<HTML lang="de" class=x>'


def test_existing_dir_switched_back_to_ltr() -> None:
    text = "<html lang='ar' dir='rtl' xml:lang=ar>"
    assert _localise(text, "fr", rtl=False) == "<html lang='fr' dir='ltr' xml:lang=fr>"


def test_valueless_lang_gets_a_value() -> None:
    assert _localise("<html lang>", "he", rtl=True) == '<html dir="rtl" lang="he">'


def test_lang_segments_keep_identity_and_target_values_empty_without_html() -> None:
    doc = check_identity("<!doctype html><html><body><p>Hi</p></body></html>")
    lang = [s for s in doc.segments() if s.kind in TARGET_KINDS]
    assert [(s.kind, s.source) for s in lang] == [("lang", ""), ("dir", "")]
    assert target_values(segment("<p>No html tag</p>", "html"), "ar", True) == {}


def test_only_first_html_tag_gets_lang_segments() -> None:
    doc = check_identity("<html><html lang=en>")
    assert sum(s.kind == "lang" for s in doc.segments()) == 1


def test_segment_ids_follow_source_order() -> None:
    text = (CASES / "page.html").read_text("utf-8")
    segs: list[Segment] = segment(text, "html").segments()
    numbers = [int(s.id[1:]) for s in segs]
    assert numbers == sorted(numbers)
    assert all(not TAG_RE.search(s.source) or s.tags for s in segs)
