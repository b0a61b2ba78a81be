"""Generated HTML: identity law and kept structure under pseudo translation."""

from __future__ import annotations

from hypothesis import example, HealthCheck, given, settings
from hypothesis import strategies as st

from tests.test_html import check_identity, check_pseudo

EXAMPLES = 250
"""Examples per generated-document property (about 12 s each on one core)."""
SHARD_EXAMPLES = 1000
"""Examples for the broken-markup property (about 5 s on one core)."""

SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

WORDS = ["Hello", "world", "café", "naïve", "日本語", "x", "42", "a-b", "Ünïcödé"]
TEXT_BITS = [
    " ", "  ", "\n", "\t", "&amp;", "&lt;", "&gt;", "&nbsp;", "&#169;", "&#x41;",
    "&copy", "&unknown;", "&", "&lt;s1&gt;", "&lt;/s2&gt;", "{{ name }}", "{% if %}",
    "< ", ">", "\"", "'", "=", "/", "\u00a0", "\u3000",
]
INLINE = ["a", "em", "strong", "span", "b", "i", "code", "kbd", "abbr", "q", "sub",
          "sup", "small", "mark", "cite", "x-custom", "label", "button", "textarea"]
BLOCK = ["p", "div", "section", "li", "ul", "h1", "h2", "td", "tr", "table",
         "blockquote", "pre", "option", "select", "figcaption", "title", "dd"]
VOID = ["img", "br", "input", "wbr", "hr", "meta"]
ATTRS = ["alt", "title", "placeholder", "aria-label", "href", "class", "id",
         "data-x", "content", "name", "translate", "lang", "dir"]
SPECIAL_VALUES = ["no", "notranslate", "description", "og:title", ""]
MARKUP = ["<!-- note -->", "<!-- hymt:off -->", "<!-- hymt:on -->", "<![CDATA[ x ]]>",
          "<?pi x?>", "</b>", "</p>", "</>", "<!x>", "<br/>", "<span/>"]

def _attribute_name(attr: str) -> str:
    return attr.split("=")[0].strip().lower()


text = st.lists(st.sampled_from(WORDS + TEXT_BITS), min_size=1, max_size=6).map("".join)
unquoted = st.sampled_from(WORDS + ["a&amp;b", "{{x}}", "&lt;s1&gt;"]).filter(
    lambda v: not any(c.isspace() for c in v)
)


@st.composite
def attribute(draw: st.DrawFn) -> str:
    """One attribute, quoted in any style (or bare)."""
    name = draw(st.sampled_from(ATTRS))
    name = name.upper() if draw(st.booleans()) and name == "alt" else name
    value = draw(st.one_of(text, st.sampled_from(SPECIAL_VALUES)))
    style = draw(st.sampled_from(['"', "'", "bare", "none"]))
    if style == "none":
        return f" {name}"
    if style == "bare":
        return f" {name}={draw(unquoted)}"
    return f" {name}={style}{value.replace(style, '')}{style}"


def start_tag(name: str, attrs: list[str], upper: bool) -> str:
    """A start tag in the drawn case."""
    return f"<{name.upper() if upper else name}{''.join(attrs)}>"


@st.composite
def element(draw: st.DrawFn, children: st.SearchStrategy[str]) -> str:
    """An element (inline, block or void), its end tag sometimes missing."""
    name = draw(st.sampled_from(INLINE + BLOCK + VOID))
    attrs = draw(st.lists(attribute(), max_size=3, unique_by=_attribute_name))
    upper = draw(st.booleans())
    opening = start_tag(name, attrs, upper)
    if name in VOID:
        return opening
    inner = "".join(draw(st.lists(children, max_size=4)))
    name = name.upper() if upper else name
    closing = "" if draw(st.integers(0, 9)) == 0 else f"</{name}>"
    return opening + inner + closing


nodes = st.recursive(
    st.one_of(text, st.sampled_from(MARKUP)),
    lambda children: element(children),
    max_leaves=25,
)


@st.composite
def document(draw: st.DrawFn) -> str:
    """A document or fragment, maybe with doctype, <html>, BOM and CRLF."""
    body = "".join(draw(st.lists(nodes, min_size=1, max_size=5)))
    if draw(st.booleans()):
        attrs = st.lists(attribute(), max_size=2, unique_by=_attribute_name)
        html_attrs = "".join(draw(attrs))
        head = f"<!DOCTYPE html>\n<html{html_attrs}><head></head><body>"
        body = f"{head}{body}</body></html>"
    if draw(st.booleans()):
        body = body.replace("\n", "\r\n")
    return ("\ufeff" if draw(st.booleans()) else "") + body


SHARDS = list("<>&\"'=/!-?;[] \n\r\tab#x1") + [
    "<p", "</p", "<a ", "alt", "title=", "<!--", "-->", "&amp;", "&lt;s1&gt;", "<img",
    "<html", "lang", "<script>", "</script>", "<code>", "</code", "<br", "{{", "}}",
    "Hello", "<![CDATA[", "]]>", "<?", "\ufeff", "<!doctype", "<textarea", "class=",
    "notranslate", "<!-- hymt:off -->",
]
"""Fragments of HTML syntax, glued at random into mostly broken markup."""

shards = st.lists(st.sampled_from(SHARDS), max_size=40).map("".join)


@SETTINGS
@given(document())
def test_generated_html_identity(text: str) -> None:
    check_identity(text)


@SETTINGS
@given(document())
def test_generated_html_pseudo_keeps_structure(text: str) -> None:
    check_pseudo(text)


@settings(SETTINGS, max_examples=SHARD_EXAMPLES)
@given(shards)
@example("a<!--{{<script>}}")  # template syntax must not lock markup hidden by `<!--`
@example("class=<!-->")  # an abrupt comment left as text stays as it is
def test_broken_markup_never_crashes_and_keeps_structure(text: str) -> None:
    check_identity(text)
    check_pseudo(text)
