"""The document model: building segments, tags, rendering, the identity law."""

from __future__ import annotations

import pytest

from hymt_cli.document import Document, SegmentBuilder, render_segment


def _paragraph() -> Document:
    b = SegmentBuilder("paragraph", 2, escape=lambda t: t.replace("*", r"\*"))
    b.text("Say ")
    b.open("**", "strong")
    b.text("hello")
    b.close("**")
    b.text(" to ")
    b.atomic("`x`", "x", kind="code")
    b.text(".")
    return Document(("> ", b.build("s1"), "\n"), "md")


def test_builder_numbers_tags_and_keeps_source() -> None:
    doc = _paragraph()
    (seg,) = doc.segments()
    assert seg.text == "Say <s1>hello</s1> to <s2>x</s2>."
    assert seg.source == "Say **hello** to `x`."
    assert (seg.start, seg.end) == (2, 2 + len(seg.source))
    assert [t.kind for t in seg.tags] == ["strong", "code"]
    assert doc.source == "> Say **hello** to `x`.\n"


def test_render_maps_tags_escapes_text_and_locks_atomic_content() -> None:
    doc = _paragraph()
    out = doc.render({"s1": "Sag <s1>hallo*</s1> zu <s2>CHANGED</s2>."})
    assert out == "> Sag **hallo\\*** zu `x`.\n"


def test_unchanged_translation_gives_original_bytes() -> None:
    doc = _paragraph()
    assert doc.render({}) == doc.source
    assert doc.render({s.id: s.text for s in doc.segments()}) == doc.source


def test_tags_may_be_reordered_by_translation() -> None:
    b = SegmentBuilder("paragraph", 0)
    b.open("*", "em")
    b.text("a")
    b.close("*")
    b.text(" ")
    b.open("[", "link")
    b.text("b")
    b.close("](u)")
    seg = b.build("s1")
    assert render_segment(seg, "<s2>B</s2> <s1>A</s1>") == "[B](u) *A*"


def test_lookalike_text_becomes_locked_tags() -> None:
    b = SegmentBuilder("paragraph", 0)
    b.text("write <s1> or </target> literally")
    seg = b.build("s1")
    assert seg.text == "write <s1></s1> or <s2></s2> literally"
    assert render_segment(seg, "schreib <s1>x</s1> oder <s2></s2> wörtlich") == (
        "schreib <s1> oder </target> wörtlich"
    )


def test_decoded_lookalike_locks_the_whole_run() -> None:
    b = SegmentBuilder("paragraph", 0)
    b.text("&lt;s1&gt;", shown="<s1>")
    seg = b.build("s1")
    assert seg.text == "<s1></s1>"
    assert render_segment(seg, "<s1></s1>") == "&lt;s1&gt;"


def test_nested_segments_render_inside_locked_tags() -> None:
    alt = SegmentBuilder("alt", 2)
    alt.text("a cat")
    alt_seg = alt.build("s1")
    b = SegmentBuilder("paragraph", 0)
    b.text("See ")
    b.atomic(("![", alt_seg, "](cat.png)"), "a cat", kind="image")
    seg = b.build("s2")
    doc = Document((seg,), "md")
    assert [s.id for s in doc.segments()] == ["s1", "s2"]
    out = doc.render({"s1": "eine Katze", "s2": "Siehe <s1>eine Katze</s1>"})
    assert out == "Siehe ![eine Katze](cat.png)"
    # only the nested segment changed: the holder is re-rendered around it
    assert doc.render({"s1": "eine Katze"}) == "See ![eine Katze](cat.png)"


def test_render_strips_outer_white_space_of_a_translation() -> None:
    doc = _paragraph()
    assert doc.render({"s1": "  \n    Sag <s1>hallo</s1> zu <s2></s2>. \n"}) == (
        "> Sag **hallo** zu `x`.\n")


def test_skipped_kinds_become_skeleton_also_when_nested() -> None:
    from hymt_cli.documents import SegmentOptions, segment

    text = "# Title\n\nSee ![a cat](c.png \"Cat title\") here.\n"
    doc = segment(text, "md", SegmentOptions(skip_kinds=frozenset({"heading", "alt"})))
    assert [s.kind for s in doc.segments()] == ["title", "paragraph"]
    assert doc.source == text
    out = doc.render({s.id: s.text.replace("Cat", "CAT") for s in doc.segments()})
    assert out == "# Title\n\nSee ![a cat](c.png \"CAT title\") here.\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<!DOCTYPE html><html><body><p>x</p></body></html>", "html"),
        ("<p>Hello <b>world</b></p>\n", "html"),
        ("<div>\n  <p>x</p>\n</div>\n", "html"),
        ('<p align="center"><img src="logo.png"></p>\n\n# Title\n\nText.\n', "md"),
        ("# Title\n", "md"),
        ("plain <b>x</b>\n", "md"),
    ],
)
def test_stdin_sniffing_tells_html_fragments_from_markdown(text: str, expected: str) -> None:
    from hymt_cli.documents import sniff_format

    assert sniff_format(text) == expected
