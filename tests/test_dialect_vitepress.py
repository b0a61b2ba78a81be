"""VitePress dialect, checked against VitePress's own Markdown renderer.

Per page of tests/cases/dialects/vitepress: identity gives back every byte; the
pseudo translation renders to the same element tree (generated heading slugs
aside); every marker survives; every prose paragraph is translated.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from hymt_cli.documents import SegmentOptions, segment
from hymt_cli.documents.dialects import get_dialect
from hymt_cli.engines.pseudo import pseudo_translate
from tests.node_render import (
    EMOJI_RE, explicit_ids, markers, node_skip_reason, render_vitepress,
    untranslated_blocks, vitepress_structure,
)

CASES = Path(__file__).parent / "cases" / "dialects" / "vitepress"
PAGES = sorted(CASES.glob("*.md"))
FILES = {p.relative_to(CASES).as_posix(): p.read_text(encoding="utf-8")
         for p in sorted(CASES.rglob("*")) if p.is_file() and p.suffix != ".md"}
OPTIONS = SegmentOptions(dialect=get_dialect("vitepress"))
IDS = [p.stem for p in PAGES]
REQUIRED = ("---\n", "::: tip", "::: warning ", "::: details ", "::: danger STOP", "::: info",
            "::::", "::: code-group", "```sh [npm]", "[[toc]]", "{{ $frontmatter.title }}",
            "{{ 1 + 1 }}", "<<< @/snippets/snippet.js{2}", "{#", "```js{1,4-5}", ":tada:",
            '<Badge type="tip" text="', "| ---", "](", "<div", "\n- ", "\n1. ")


def _text(page: Path) -> str:
    """The page's source text."""
    return page.read_text(encoding="utf-8")


def _pseudo(text: str) -> tuple[object, str]:
    """The segmented document of `text` and its pseudo translation."""
    doc = segment(text, "md", OPTIONS)
    return doc, doc.render({s.id: pseudo_translate(s.text) for s in doc.segments()})


@pytest.fixture(scope="module")
def rendered() -> dict[str, tuple[str, str | Exception]]:
    """Page name -> (source HTML, pseudo HTML or the error hymt raised), one node run."""
    reason = node_skip_reason()
    if reason:
        pytest.skip(reason)
    texts = [_text(p) for p in PAGES]
    outputs: list[str | Exception] = []
    for text in texts:
        try:
            outputs.append(_pseudo(text)[1])
        except Exception as exc:  # re-raised by the page's own test
            outputs.append(exc)
    good = [o for o in outputs if isinstance(o, str)]
    html = iter(render_vitepress(texts + good, FILES))
    sources = [next(html) for _ in texts]
    return {p.name: (src, next(html) if isinstance(out, str) else out)
            for p, src, out in zip(PAGES, sources, outputs)}


def test_corpus_covers_the_constructs():
    """At least 6 pages, and every construct the dialect must handle occurs somewhere."""
    assert len(PAGES) >= 6
    corpus = "\n".join(_text(p) for p in PAGES)
    assert [c for c in REQUIRED if c not in corpus] == []


@pytest.mark.parametrize("page", PAGES, ids=IDS)
def test_source_renders(page, rendered):
    """The real renderer takes the source page (snippets resolved) without complaint."""
    html = rendered[page.name][0]
    assert "<h1" in html
    assert "Code snippet path not found" not in html
    assert "Invalid code snippet option" not in html


@pytest.mark.parametrize("page", PAGES, ids=IDS)
def test_identity(page):
    """Identity translation gives back every byte."""
    text = _text(page)
    doc = segment(text, "md", OPTIONS)
    assert doc.source == text
    assert doc.render({s.id: s.text for s in doc.segments()}) == text


@pytest.mark.parametrize("page", PAGES, ids=IDS)
def test_pseudo_renders_same_structure(page, rendered):
    """VitePress builds the same element tree from the pseudo translation."""
    source_html, out_html = rendered[page.name]
    if isinstance(out_html, Exception):
        raise out_html
    keep = explicit_ids(_text(page))
    assert vitepress_structure(out_html, keep) == vitepress_structure(source_html, keep)


@pytest.mark.parametrize("page", PAGES, ids=IDS)
def test_markers_kept(page):
    """Container, snippet, toc lines and `{{ }}`, `{#id}`, `:emoji:` survive verbatim."""
    text = _text(page)
    out = _pseudo(text)[1]
    assert Counter(markers(out, (EMOJI_RE,))) == Counter(markers(text, (EMOJI_RE,)))


@pytest.mark.parametrize("page", PAGES, ids=IDS)
def test_prose_translated(page):
    """Every prose paragraph has at least one segment that the translation changes."""
    text = _text(page)
    doc = segment(text, "md", OPTIONS)
    assert untranslated_blocks(text, doc.segments(), pseudo_translate) == []
