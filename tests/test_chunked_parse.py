"""Long Markdown documents are parsed a run of top-level blocks at a time
(`md_parser.parse_chunks`): the result must be the one a whole-document parse
gives, whatever the run length, and memory must not grow with the document."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import pytest

from hymt_cli.document import Document, Segment
from hymt_cli.documents import SegmentOptions, segment
from hymt_cli.documents import md_parser
from hymt_cli.documents.dialects import get_dialect
from hymt_cli.documents.md_parser import parse_chunks, parser_for

HERE = Path(__file__).resolve().parent
EXAMPLES = json.loads((HERE / "data" / "commonmark-spec-0.31.2.json").read_text("utf-8"))
DIALECT_PAGES = sorted(
    (path.parts[-len(path.relative_to(HERE / "cases" / "dialects").parts)], path)
    for path in (HERE / "cases" / "dialects").rglob("*")
    if path.suffix in (".md", ".mdx") and "snippets" not in path.parts
)
DIALECT_OF = {"github": "commonmark"}


def shape(document: Document) -> list[tuple[str, str, str, str, int]]:
    """What must not depend on the run length: every segment, in order."""
    return [(s.id, s.kind, s.text, s.source, s.start) for s in document.segments()]


def segment_in_runs(
    text: str, chars: int, monkeypatch: pytest.MonkeyPatch, dialect: str = "commonmark"
) -> Document:
    monkeypatch.setattr(md_parser, "CHUNK_CHARS", chars)
    return segment(text, "md", SegmentOptions(dialect=get_dialect(dialect)))


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda ex: f"ex{ex['example']}")
def test_commonmark_examples_parse_the_same_in_runs(
    example: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = example["markdown"]
    whole = segment_in_runs(text, 10**9, monkeypatch)
    runs = segment_in_runs(text, 1, monkeypatch)  # a run per top-level block
    assert shape(runs) == shape(whole)
    assert runs.source == text


@pytest.mark.parametrize(("dialect", "path"), DIALECT_PAGES,
                         ids=[f"{d}-{p.name}" for d, p in DIALECT_PAGES])
def test_dialect_pages_parse_the_same_in_runs(
    dialect: str, path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = path.read_text(encoding="utf-8")
    name = DIALECT_OF.get(dialect, dialect)
    whole = segment_in_runs(text, 10**9, monkeypatch, name)
    runs = segment_in_runs(text, 1, monkeypatch, name)
    assert shape(runs) == shape(whole)
    assert runs.source == text


def test_a_reference_defined_runs_later_still_makes_a_link(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = "See [the guide][g] first.\n\n" + "Filler text.\n\n" * 50 + \
        "[g]: https://example.com/guide\n"
    doc = segment_in_runs(text, 40, monkeypatch)
    first = doc.segments()[0]
    assert first.text == "See <s1>the guide</s1> first."
    assert first.tags[0].kind == "link"


def test_footnote_definitions_stay_in_place(monkeypatch: pytest.MonkeyPatch) -> None:
    text = "Text with a note.[^1]\n\n[^1]: The note itself.\n\nAfter the note.\n"
    for chars in (1, 10**9):
        doc = segment_in_runs(text, chars, monkeypatch)
        kinds = [(s.kind, s.text) for s in doc.segments()]
        assert ("footnote", "The note itself.") in kinds
        assert [k for k, _ in kinds] == ["paragraph", "footnote", "paragraph"]


def test_runs_split_only_where_a_blank_line_follows_a_block(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(md_parser, "CHUNK_CHARS", 1)
    text = "- a\n- b\n\n  still b\n\nPara\ngraph\n\n```\ncode\n\nmore code\n```\n\nEnd\n"
    runs = list(parse_chunks(parser_for(), text))
    firsts = [tokens[0].type for tokens in runs]
    assert firsts == ["bullet_list_open", "paragraph_open", "fence", "paragraph_open"]


def test_parsing_memory_is_bounded_by_the_run_not_the_document() -> None:
    section = ("## Part {n}\n\nThe **service {n}** reads [its settings](a/{n}.md) and "
               "`config-{n}`.\n\n- one {n}\n- two {n}\n\n| a | b |\n|---|---|\n| {n} | x |\n\n")

    def peak_while_parsing(sections: int) -> int:
        text = "".join(section.format(n=n) for n in range(sections))
        tracemalloc.start()
        try:
            for tokens in parse_chunks(parser_for(), text):
                del tokens
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    small, large = peak_while_parsing(600), peak_while_parsing(6000)  # ~80 KB, ~800 KB
    assert large < 2 * small  # ten times the text, not ten times the memory


def test_long_documents_keep_every_segment_and_byte(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = "".join(f"# Title {n}\n\nBody *{n}* with [a link][r{n % 7}].\n\n"
                   for n in range(3000))
    text += "".join(f"[r{k}]: /ref/{k}\n" for k in range(7))
    doc = segment_in_runs(text, 5_000, monkeypatch)
    segments = doc.segments()
    assert len(segments) == 6000
    assert [s.id for s in segments] == [f"s{n}" for n in range(1, 6001)]
    assert all(isinstance(s, Segment) for s in segments)
    assert segments[-1].text == "Body <s1>2999</s1> with <s2>a link</s2>."
    assert doc.source == text
