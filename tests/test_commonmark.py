"""The CommonMark spec (655 examples) as a conformance suite for the Markdown adapter.

For every example: the identity law (also with CRLF endings and a BOM), the
structure of a pseudo-translation, and the structure of a render that bypasses
the "unchanged segment -> original bytes" shortcut.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hymt_cli.document import Document, render_segment
from hymt_cli.documents.markdown import same_structure, segment_markdown
from hymt_cli.engines.pseudo import pseudo_translate

SPEC = Path(__file__).resolve().parent / "data" / "commonmark-spec-0.31.2.json"
"""Vendored (see tests/data/README.md for its licence) so a fresh clone runs it."""
EXAMPLES: list[dict] = json.loads(SPEC.read_text(encoding="utf-8"))
EXAMPLE_COUNT = 655

PSEUDO_XFAIL: dict[int, str] = {}
"""Examples whose pseudo-translation cannot compare equal, with the reason."""



def _params(xfail: dict[int, str] | None = None) -> list:
    marks = xfail or {}
    return [
        pytest.param(
            ex["markdown"],
            id=f"ex{ex['example']}",
            marks=[pytest.mark.xfail(reason=marks[ex["example"]], strict=True)]
            if ex["example"] in marks else [],
        )
        for ex in EXAMPLES
    ]


def unshortcut_render(doc: Document) -> str:
    """Render every segment through `render_segment`, even when unchanged."""
    return "".join(
        piece if isinstance(piece, str) else render_segment(piece, piece.text)
        for piece in doc.pieces
    )


def test_spec_has_all_examples() -> None:
    assert len(EXAMPLES) == EXAMPLE_COUNT


@pytest.mark.parametrize("markdown", _params())
@pytest.mark.parametrize("variant", ["lf", "crlf", "bom"])
def test_identity(markdown: str, variant: str) -> None:
    text = {"lf": markdown, "crlf": markdown.replace("\n", "\r\n"),
            "bom": "\ufeff" + markdown}[variant]
    doc = segment_markdown(text)
    assert doc.source == text
    assert doc.render({s.id: s.text for s in doc.segments()}) == text


@pytest.mark.parametrize("markdown", _params(PSEUDO_XFAIL))
def test_pseudo_structure(markdown: str) -> None:
    doc = segment_markdown(markdown)
    rendered = doc.render({s.id: pseudo_translate(s.text) for s in doc.segments()})
    assert same_structure(markdown, rendered)


@pytest.mark.parametrize("markdown", _params())
def test_render_without_shortcut(markdown: str) -> None:
    assert same_structure(markdown, unshortcut_render(segment_markdown(markdown)))


@pytest.mark.parametrize("markdown", _params())
def test_segment_ids_in_source_order(markdown: str) -> None:
    segments = sorted(segment_markdown(markdown).segments(), key=lambda s: s.start)
    assert [s.id for s in segments] == [f"s{n}" for n in range(1, len(segments) + 1)]
    for seg in segments:
        assert seg.source == seg.source.strip() or not seg.source.strip()
        assert markdown[seg.start : seg.end] == seg.source
