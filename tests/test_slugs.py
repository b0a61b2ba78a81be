"""Heading slugs: hymt's rules against the renderers' own implementations.

Python-Markdown and pymdownx are imported and called (their slug functions,
their duplicate rule, and a full `toc` render). VitePress is run under node
(`tests/node/node_modules`) on the same headings, and github-slugger too where
it is installed there.
"""

from __future__ import annotations

import html
import json
import random
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hymt_cli.documents.slugs import STYLES, Slugger, slugify

NODE_DIR = Path(__file__).parent / "node"

TRICKY = [
    "Hello World",
    "Hello World",
    "hello world",
    "Hello-World",
    "Hello  World",
    "  padded  ",
    "Café déjà vu",
    "Ünïcödé Straße",
    "Ærøskøbing œuvre",
    "İstanbul ıı",
    "ΣΊΣΥΦΟΣ σοφός",
    "中文标题",
    "日本語の見出し",
    "한국어 제목",
    "Русский заголовок",
    "עברית",
    "العربية",
    "हिन्दी शीर्षक",
    "Emoji 🎉 party 🚀",
    "👍",
    "1. Introduction",
    "2024 roadmap",
    "v1.2.3 release",
    "C++ & C#",
    "What's new?",
    "“Quoted” ‘text’",
    "foo_bar baz",
    "__init__.py",
    "a -- b — c – d",
    "x+y=z",
    "50% off!",
    "$HOME/path",
    "<tag> and <b>bold</b>",
    "Tom & Jerry",
    "array[0]",
    "fn(x, y)",
    "key: value",
    "a/b\\c",
    "~tilde~ `tick`",
    "code span getattr()",
    "ﬁne ligature ①②",
    "Ⓐ circled Ⓩ",
    "x²³ ½",
    "non\u00a0breaking\u2003em",
    "zero\u200bwidth\u200djoiner",
    "soft\u00adhyphen",
    "-leading and trailing-",
    "___",
    "!!!",
    "😀😀",
    "a_1",
    "a",
    "a",
    "a-1",
    "",
    "Ⅻ roman ⅻ",
    "ǅungla ǈ",
    "ﬀ ﬃ",
    "Ωmega Å",
]


def toc_name(text: str) -> str:
    """What Python-Markdown's toc passes its slugify: whitespace runs collapsed."""
    return " ".join(text.split())


# --- Python-Markdown: the real functions -----------------------------------------------------

def real_toc():
    """The installed markdown.extensions.toc module (the test is skipped without it)."""
    return pytest.importorskip("markdown.extensions.toc", reason="Python-Markdown is not installed")


def real_python_markdown(text: str) -> str:
    """markdown.extensions.toc's default slugify, as its toc calls it."""
    return real_toc().slugify(toc_name(text), "-")


def real_pymdownx(text: str) -> str:
    """pymdownx.slugs' lowercase Unicode slugify (uslugify), as the toc calls it."""
    slugs = pytest.importorskip("pymdownx.slugs", reason="pymdown-extensions is not installed")
    return slugs.slugify(case="lower")(toc_name(text), "-")


def real_toc_unique(slugs: list[str]) -> list[str]:
    """Python-Markdown toc's de-duplication of a page's slugs, with its own cache."""
    used: set[str] = set()
    counters: dict[str, int] = {}
    unique = real_toc().unique
    return [unique(slug, used, counters) for slug in slugs]


REAL = {"python-markdown": real_python_markdown, "pymdownx-unicode": real_pymdownx}

# Text without controls (the toc's placeholders, markdown-it's NUL) or surrogates.
plain_text = st.text(
    st.characters(blacklist_categories=("Cc", "Cs")), max_size=40
)


@pytest.mark.parametrize("style", sorted(REAL))
@pytest.mark.parametrize("text", TRICKY)
def test_python_styles_match_the_real_functions(style, text):
    """Each tricky heading slugs exactly as the installed package does."""
    assert slugify(text, style) == REAL[style](text)


@pytest.mark.parametrize("style", sorted(REAL))
@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=40))
def test_python_styles_match_on_any_text(style, text):
    """Any text at all (controls and lone surrogates included)."""
    assert slugify(text, style) == REAL[style](text)


@settings(max_examples=200, deadline=None)
@given(slugs=st.lists(st.sampled_from(["a", "a_1", "a_2", "a_10", "b", "", "_1", "a-1", "a_1_1"]),
                      max_size=12))
def test_toc_duplicates_match_the_real_rule(slugs):
    """Repeats, counted ids (`a_1`) and empty ids are numbered as toc.unique does."""
    slugger = Slugger("python-markdown")
    mine = []
    for slug in slugs:
        # These candidate slugs are their own slug (ASCII word characters and `-`).
        assert slugify(slug, "python-markdown") == slug
        mine.append(slugger.slug(slug))
    assert mine == real_toc_unique(slugs)


def entity_source(text: str) -> str:
    """Markdown whose heading renders to `text`: ASCII punctuation as numeric entities."""
    return "".join(f"&#{ord(c)};" if c.isascii() and not c.isalnum() and c != " " else c
                   for c in text)


def rendered_ids(texts: list[str], slugify_function=None) -> list[str]:
    """The heading ids Python-Markdown (with toc) gives one page of `texts` as `# ...` headings."""
    markdown = pytest.importorskip("markdown", reason="Python-Markdown is not installed")
    configs = {"toc": {"slugify": slugify_function}} if slugify_function else {}
    page = "".join(f"# {entity_source(text)}\n\n" for text in texts)
    out = markdown.Markdown(extensions=["toc"], extension_configs=configs).convert(page)
    return [html.unescape(m) for m in re.findall(r'<h1 id="([^"]*)"', out)]


def page_text(text: str) -> str:
    """`text` as a single heading line can carry it: no tabs or line breaks, trimmed."""
    return toc_name(text)


@pytest.mark.parametrize("style", sorted(REAL))
def test_full_toc_render_of_the_tricky_page(style):
    """One page with every tricky heading: ids as Python-Markdown's toc writes them."""
    function = None
    if style == "pymdownx-unicode":
        function = pytest.importorskip("pymdownx.slugs").slugify(case="lower")
    texts = [page_text(t) for t in TRICKY]
    slugger = Slugger(style)
    assert [slugger.slug(t) for t in texts] == rendered_ids(texts, function)


@settings(max_examples=200, deadline=None)
@given(texts=st.lists(plain_text.map(page_text), max_size=6))
def test_full_toc_render_on_any_page(texts):
    """Random pages of headings: rendered ids equal the Slugger's."""
    slugger = Slugger("python-markdown")
    assert [slugger.slug(t) for t in texts] == rendered_ids(texts)


# --- Properties of every style ---------------------------------------------------------------

@pytest.mark.parametrize("style", STYLES)
@settings(max_examples=200, deadline=None)
@given(texts=st.lists(st.sampled_from(TRICKY) | plain_text, max_size=10))
def test_slugger_anchors_are_unique_and_start_from_the_slug(style, texts):
    """A page's anchors never repeat; a first occurrence is the plain slug."""
    slugger = Slugger(style)
    anchors = [slugger.slug(t) for t in texts]
    assert len(set(anchors)) == len(anchors)
    if texts and slugify(texts[0], style):
        assert anchors[0] == slugify(texts[0], style)


@settings(max_examples=200, deadline=None)
@given(text=plain_text)
def test_style_shapes(text):
    """What each style's output can contain."""
    assert re.fullmatch(r"[a-z0-9_-]*", slugify(text, "python-markdown"))
    assert " " not in slugify(text, "pymdownx-unicode")
    vitepress = slugify(text, "vitepress")
    assert "--" not in vitepress and not vitepress.startswith("-") and not vitepress.endswith("-")
    assert not re.match(r"[0-9]", vitepress)
    github = slugify(text, "github")
    assert not re.search(r"[ !-,./:-@\[-^`{-~]", github)


def test_reserved_anchors_are_skipped():
    """An explicit `{#id}` already on the page pushes a generated one along."""
    slugger = Slugger("python-markdown")
    slugger.reserve("intro")
    assert slugger.slug("Intro") == "intro_1"
    slugger = Slugger("vitepress")
    slugger.reserve("intro")
    assert slugger.slug("Intro") == "intro-1"


def test_unknown_style():
    """A style that does not exist is a ValueError naming the known ones."""
    with pytest.raises(ValueError, match="github"):
        slugify("x", "kramdown")
    with pytest.raises(ValueError, match="unknown slug style"):
        Slugger("nope")


def test_github_known_values():
    """github-slugger's documented behaviour (its README and fixtures)."""
    slugger = Slugger("github")
    assert [slugger.slug(t) for t in ["foo", "foo", "foo-1", "foo"]] == [
        "foo", "foo-1", "foo-1-1", "foo-2"]
    assert slugify("Привет non-latin 你好", "github") == "привет-non-latin-你好"
    assert slugify("I ♥ unicode", "github") == "i--unicode"
    assert slugify("Emoji 😄 🎉", "github") == "emoji--"
    assert slugify("  spaces  ", "github") == "--spaces--"
    assert slugify("snake_case and ⓐ", "github") == "snake_case-and-ⓐ"


# --- JavaScript renderers under node ---------------------------------------------------------

ORACLE = r"""
const pages = JSON.parse(require('fs').readFileSync(0, 'utf8'));
// Backslash-escape ASCII punctuation but `&`: VitePress keeps `&` and character
// references as written in the text its slugify sees (`\&` would become `&amp;`).
const escape = (t) => t.replace(/[!-%'-\/:-@\[-`{-~]/g, (c) => '\\' + c);
const unescapeAttr = (v) => v.replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>')
  .replace(/&amp;/g, '&');
(async () => {
  const out = { vitepress: null, github: null };
  try {
    const { createMarkdownRenderer } = await import('vitepress');
    const md = await createMarkdownRenderer(process.cwd(), {}, '/');
    out.vitepress = pages.map((page) => {
      const html = md.render(page.map((t) => '## ' + escape(t) + '\n\n').join(''));
      return [...html.matchAll(/<h2 id="([^"]*)"/g)].map((m) => unescapeAttr(m[1]));
    });
  } catch (error) { out.vitepressError = String(error); }
  try {
    const { default: Slugger } = await import('github-slugger');
    out.github = pages.map((page) => {
      const slugger = new Slugger();
      return page.map((t) => slugger.slug(t));
    });
  } catch (error) { out.githubError = String(error); }
  process.stdout.write(JSON.stringify(out));
})();
"""

JS_SPACE = "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009" \
    "\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"


def markdown_it_heading(text: str) -> str:
    """`text` as markdown-it keeps it in an ATX heading: no controls, JS-trimmed, no newline."""
    text = "".join(c for c in text if c >= " " and c != "\x7f")
    return text.strip(JS_SPACE)


def random_corpus(count: int, seed: int = 9) -> list[str]:
    """Deterministic random headings over ASCII, Latin, Greek, CJK, symbols and emoji."""
    rng = random.Random(seed)
    blocks = [(0x20, 0x7E), (0xA0, 0x24F), (0x300, 0x36F), (0x370, 0x3FF), (0x400, 0x4FF),
              (0x2000, 0x206F), (0x2100, 0x27BF), (0x3000, 0x30FF), (0x4E00, 0x4E80),
              (0xFF00, 0xFFEF), (0x1F300, 0x1F64F), (0x1F100, 0x1F1FF), (0x10570, 0x105BF)]
    texts = []
    for _ in range(count):
        chars = []
        for _ in range(rng.randint(1, 16)):
            low, high = rng.choice(blocks)
            chars.append(chr(rng.randint(low, high)))
        texts.append("".join(chars))
    return texts


def node_pages() -> list[list[str]]:
    """Pages for the JS oracles: the tricky list as one page, repeats, then random headings."""
    repeats = ["Intro", "Intro", "Intro-1", "Intro", "intro 1", "1 Intro", "Intro_1"]
    pages = [TRICKY, repeats] + [random_corpus(40, seed) for seed in range(8)]
    return [[markdown_it_heading(t) for t in page] for page in pages]


@pytest.fixture(scope="module")
def js_slugs() -> dict:
    """The slugs VitePress (and github-slugger, if installed) give `node_pages()`."""
    if not (NODE_DIR / "node_modules").is_dir():
        pytest.skip("tests/node/node_modules is missing (npm ci in tests/node)")
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    result = subprocess.run(
        [node, "-e", ORACLE], cwd=NODE_DIR, input=json.dumps(node_pages()),
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("style", ["vitepress", "github"])
def test_js_styles_match_the_real_renderers(js_slugs, style):
    """Every page of headings gets the same anchors as the JavaScript implementation."""
    real = js_slugs[style]
    if real is None:
        pytest.skip(f"{style} implementation not importable from tests/node: "
                    f"{js_slugs.get(style + 'Error')}")
    mismatches = []
    for page, expected in zip(node_pages(), real, strict=True):
        slugger = Slugger(style)
        for text, want in zip(page, expected, strict=True):
            got = slugger.slug(text)
            if got != want:
                mismatches.append((text, want, got))
    assert mismatches == []
