"""Plain-text adapter: paragraphs as segments, every other byte kept."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hymt_cli.document import Document
from hymt_cli.documents import segment
from hymt_cli.engines.pseudo import pseudo_translate

EXAMPLES = 200
"""Examples for the generated-text property."""
ALPHABET = "ab <s1>\n\r\t\ufeff\u3000é."


def check_identity(text: str) -> Document:
    """Assert the identity law and exact offsets; returns the document."""
    doc = segment(text, "txt")
    assert doc.source == text
    assert doc.render({s.id: s.text for s in doc.segments()}) == text
    for seg in doc.segments():
        assert text[seg.start : seg.end] == seg.source
    return doc


def _texts(text: str) -> list[str]:
    return [s.text for s in check_identity(text).segments()]


def test_paragraphs_split_on_blank_lines_and_soft_breaks_become_spaces() -> None:
    text = "First line\nsecond  line\n\n  Next para.\n \t\nLast"
    assert _texts(text) == ["First line second  line", "Next para.", "Last"]


def test_skeleton_keeps_bom_crlf_indentation_and_trailing_space() -> None:
    text = "\ufeff  Hello\r\n   world \r\n\r\n\tBye  \r\n"
    doc = check_identity(text)
    assert [s.text for s in doc.segments()] == ["Hello world", "Bye"]
    out = doc.render({"s1": "Hallo Welt", "s2": "Tschüss"})
    assert out == "\ufeff  Hallo Welt \r\n\r\n\tTschüss  \r\n"


def test_translation_of_a_wrapped_paragraph_is_one_line() -> None:
    doc = check_identity("one\ntwo\nthree\n")
    assert doc.render({"s1": "un deux trois"}) == "un deux trois\n"


def test_tag_lookalikes_are_locked_and_round_trip() -> None:
    text = "Type <s1> then </s1> or <target>.\n"
    doc = check_identity(text)
    (seg,) = doc.segments()
    assert seg.text == "Type <s1></s1> then <s2></s2> or <s3></s3>."
    out = doc.render({seg.id: "Tape <s1>x</s1> puis <s2></s2> ou <s3></s3>."})
    assert out == "Tape <s1> puis </s1> ou <target>.\n"


def test_pseudo_translation_keeps_skeleton() -> None:
    text = "  Hello\n  there\n\n---\n\n42\n"
    doc = check_identity(text)
    out = doc.render({s.id: pseudo_translate(s.text) for s in doc.segments()})
    assert out == "  [Ĥéĺĺó ŧĥéŕé ···]\n\n---\n\n42\n"


@pytest.mark.parametrize("text", ["", "\n\n", "\ufeff", "   \r\n", "123 456", "---"])
def test_no_words_no_segments(text: str) -> None:
    assert _texts(text) == []


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.text(alphabet=st.sampled_from(list(ALPHABET)), max_size=80))
def test_generated_text_identity(text: str) -> None:
    doc = check_identity(text)
    out = doc.render({s.id: pseudo_translate(s.text) for s in doc.segments()})
    assert all("\n" not in s.text for s in doc.segments())
    assert len(segment(out, "txt").segments()) == len(doc.segments())


def test_list_items_are_segments_of_their_own_markers_kept() -> None:
    text = "New features\n- Steps can time out.\n- The dashboard\n  shows times.\n1) One\n"
    doc = check_identity(text)
    assert [s.text for s in doc.segments()] == [
        "New features", "Steps can time out.", "The dashboard shows times.", "One"]
    out = doc.render({s.id: s.text.upper() for s in doc.segments()})
    assert out == "NEW FEATURES\n- STEPS CAN TIME OUT.\n- THE DASHBOARD SHOWS TIMES.\n1) ONE\n"
