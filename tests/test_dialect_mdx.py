"""MDX dialect, checked against the real MDX compiler (@mdx-js/mdx with GFM).

Per page of tests/cases/dialects/mdx: identity gives back every byte; the pseudo
translation compiles to the same tree (prose aside, code kept); every marker
survives; every prose paragraph is translated.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from hymt_cli.documents import SegmentOptions, segment
from hymt_cli.documents.dialects import get_dialect
from hymt_cli.engines.pseudo import pseudo_translate
from tests.node_render import markers, mdx_shape, mdx_trees, node_skip_reason, untranslated_blocks

CASES = Path(__file__).parent / "cases" / "dialects" / "mdx"
PAGES = sorted(CASES.glob("*.mdx"))
OPTIONS = SegmentOptions(dialect=get_dialect("mdx"))
IDS = [p.stem for p in PAGES]
REQUIRED = ("import Tabs from '@theme/Tabs';", "export const meta = {", '<Tabs groupId="',
            '<TabItem value="npm" label="npm"', ":::note[", ":::tip ", "{/*step-1-",
            '<img src="/a.png" alt="A diagram" style={{margin: 0}} />', "{props.name}",
            "<Intro>", "<Note>", "<Sandpack>\n\n```", "<Chart\n  ", "](", "\n* ", "\n1. ",
            "| ---", "{/* ")


def _text(page: Path) -> str:
    """The page's source text."""
    return page.read_text(encoding="utf-8")


def _pseudo(text: str) -> str:
    """The pseudo translation of `text`."""
    doc = segment(text, "md", OPTIONS)
    return doc.render({s.id: pseudo_translate(s.text) for s in doc.segments()})


@pytest.fixture(scope="module")
def compiled() -> dict[str, tuple[dict, dict | Exception]]:
    """Page name -> (source tree, pseudo tree or the error hymt raised), one node run."""
    reason = node_skip_reason()
    if reason:
        pytest.skip(reason)
    texts = [_text(p) for p in PAGES]
    outputs: list[str | Exception] = []
    for text in texts:
        try:
            outputs.append(_pseudo(text))
        except Exception as exc:  # re-raised by the page's own test
            outputs.append(exc)
    trees = iter(mdx_trees(texts + [o for o in outputs if isinstance(o, str)]))
    sources = [next(trees) for _ in texts]
    return {p.name: (src, next(trees) if isinstance(out, str) else out)
            for p, src, out in zip(PAGES, sources, outputs)}


def test_corpus_covers_the_constructs():
    """At least 6 pages, and every construct the dialect must handle occurs somewhere."""
    assert len(PAGES) >= 6
    corpus = "\n".join(_text(p) for p in PAGES)
    assert [c for c in REQUIRED if c not in corpus] == []


@pytest.mark.parametrize("page", PAGES, ids=IDS)
def test_source_compiles(page, compiled):
    """The real compiler takes the source page."""
    source = compiled[page.name][0]
    assert "error" not in source, source.get("error")
    assert source["tree"]["type"] == "root"


@pytest.mark.parametrize("page", PAGES, ids=IDS)
def test_identity(page):
    """Identity translation gives back every byte."""
    text = _text(page)
    doc = segment(text, "md", OPTIONS)
    assert doc.source == text
    assert doc.render({s.id: s.text for s in doc.segments()}) == text


@pytest.mark.parametrize("page", PAGES, ids=IDS)
def test_pseudo_compiles_same_shape(page, compiled):
    """The pseudo translation compiles, to the same tree as the source (text aside)."""
    source, out = compiled[page.name]
    if isinstance(out, Exception):
        raise out
    assert "error" not in out, out.get("error")
    assert mdx_shape(out["tree"]) == mdx_shape(source["tree"])


@pytest.mark.parametrize("page", PAGES, ids=IDS)
def test_markers_kept(page):
    """ESM lines, admonition markers and `{/* */}` comments survive verbatim."""
    text = _text(page)
    assert Counter(markers(_pseudo(text))) == Counter(markers(text))


@pytest.mark.parametrize("page", PAGES, ids=IDS)
def test_prose_translated(page):
    """Every prose paragraph has at least one segment that the translation changes."""
    text = _text(page)
    doc = segment(text, "md", OPTIONS)
    assert untranslated_blocks(text, doc.segments(), pseudo_translate) == []
