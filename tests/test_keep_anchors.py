"""`--keep-anchors`: the real renderers give translated headings their source ids."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hymt_cli.documents import SegmentOptions, segment
from hymt_cli.documents.dialects import get_dialect
from hymt_cli.engines.pseudo import pseudo_translate
from tests.node_render import mdx_trees, node_skip_reason, render_vitepress

PAGE = """# Install it

Some text.

## Use `pip` here {marker}

## Install it

### Déjà vu: a *heading*, with punctuation!

## Install it
"""
_IDS = re.compile(r"<h[1-6][^>]*\bid=\"([^\"]+)\"")


def translate(text: str, dialect: str, keep: bool = True) -> str:
    """The pseudo translation of `text` in `dialect`."""
    options = SegmentOptions(dialect=get_dialect(dialect), keep_anchors=keep)
    doc = segment(text, "md", options)
    assert doc.render({s.id: s.text for s in doc.segments()}) == text
    return doc.render({s.id: pseudo_translate(s.text) for s in doc.segments()})


def test_mkdocs_heading_ids_survive() -> None:
    markdown = pytest.importorskip("markdown")
    page = PAGE.format(marker="{ #pip }")

    def ids(text: str) -> list[str]:
        html = markdown.Markdown(extensions=["toc", "attr_list"]).convert(text)
        return _IDS.findall(html)

    source_ids = ids(page)
    assert source_ids == ["install-it", "pip", "install-it_1", "deja-vu-a-heading-with-punctuation",
                          "install-it_2"]
    assert ids(translate(page, "mkdocs")) == source_ids
    assert ids(translate(page, "mkdocs", keep=False)) != source_ids


def test_vitepress_heading_ids_survive() -> None:
    reason = node_skip_reason()
    if reason:
        pytest.skip(reason)
    page = PAGE.format(marker="{#pip}")
    source, kept, lost = render_vitepress(
        [page, translate(page, "vitepress"), translate(page, "vitepress", keep=False)])
    assert _IDS.findall(kept) == _IDS.findall(source)
    assert len(_IDS.findall(source)) == 5
    assert _IDS.findall(lost) != _IDS.findall(source)


def test_mdx_ids_are_comments_that_compile() -> None:
    reason = node_skip_reason()
    if reason:
        pytest.skip(reason)
    page = PAGE.format(marker="{/*pip*/}")
    out = translate(page, "mdx")
    assert "{/*install-it*/}" in out and "{/*install-it-1*/}" in out
    assert "{/*pip*/}" in out and out.count("{/*pip*/}") == 1
    (tree,) = mdx_trees([out])
    assert "error" not in tree


def test_no_anchor_syntax_no_change() -> None:
    page = PAGE.format(marker="")
    assert translate(page, "mdbook") == translate(page, "mdbook", keep=False)
    narrowed = get_dialect("mkdocs", ["admonition"])  # no attr_list: no `{ #id }`
    doc = segment(page, "md", SegmentOptions(dialect=narrowed, keep_anchors=True))
    out = doc.render({s.id: pseudo_translate(s.text) for s in doc.segments()})
    assert "{ #" not in out


def test_cli_keep_anchors_project_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from hymt_cli.cli import run

    (tmp_path / ".git").mkdir()
    (tmp_path / "mkdocs.yml").write_text("site_name: x\nmarkdown_extensions:\n"
                                         "  - attr_list\n  - toc\n")
    (tmp_path / "hymt.toml").write_text('keep_anchors = true\nengine = "pseudo"\n')
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text("# Getting started\n")
    monkeypatch.chdir(tmp_path)
    assert run(["translate", "docs/a.md", "--to", "de", "--no-memory", "-q"]) == 0
    assert (tmp_path / "docs" / "a.de.md").read_text().endswith(
        " { #getting-started }\n")
