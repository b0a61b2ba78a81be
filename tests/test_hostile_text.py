"""Hostile text (issue 10, items 4, 6, 8, 10): outer white space and the entities
that stand for it, thousands of tags in one segment, nesting deeper than
markdown-it's default limit, and an unclosed `<!--` at the end of an HTML file."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from hymt_cli.cli import run
from hymt_cli.document import TAG_RE, SegmentBuilder, strip_lead, strip_trail
from hymt_cli.documents import SegmentOptions, segment
from hymt_cli.documents.dialects import get_dialect
from hymt_cli.validate import repair

OUTER_SPACE = {
    "nbsp.html": "<p>x&nbsp;</p>\n",
    "cell.html": "<table><tr><td>&#160;x&#160;</td></tr></table>\n",
    "attr.html": '<p><img src="a.png" alt=" a picture&#160;"> text</p>\n',
    "image.md": '![ alt ](a.png " t ")\n',
    "entity.md": "# Title&nbsp;\n\nA para&#32;\n",
    "front.md": '---\ntitle: "Trailing "\nsummary: "Some text\\n"\n---\n\n# Hi\n',
}
"""Inputs whose segments have outer white space (or entities for it) in the source."""


def translate(path: str, engine: str, *extra: str) -> int:
    """Translate `path` to German into out/, in-process; returns the exit code."""
    return run(["translate", path, "--to", "de", "--engine", engine, "--no-memory",
                "--out", "out/{stem}{suffix}", *extra])


@pytest.fixture()
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A scratch project folder, made the current directory."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


# item 4: outer white space is skeleton ------------------------------------------------


@pytest.mark.parametrize("name", sorted(OUTER_SPACE))
def test_identity_engine_is_byte_exact_on_outer_space(work: Path, name: str) -> None:
    (work / name).write_text(OUTER_SPACE[name], encoding="utf-8")
    assert translate(name, "identity") == 0
    assert (work / "out" / name).read_bytes() == (work / name).read_bytes()


@pytest.mark.parametrize("name", sorted(OUTER_SPACE))
def test_segments_hold_no_outer_space(name: str) -> None:
    fmt = "html" if name.endswith(".html") else "md"
    segments = segment(OUTER_SPACE[name], fmt).segments()
    assert segments
    assert all(s.text == s.text.strip() for s in segments), [s.text for s in segments]


def test_toml_front_matter_keeps_outer_space(work: Path) -> None:
    text = '+++\ntitle = " Spaced "\n+++\n\nBody\n'
    (work / "toml.md").write_text(text)
    options = SegmentOptions(dialect=get_dialect("hugo"))
    assert [s.text for s in segment(text, "md", options).segments()] == ["Spaced", "Body"]
    assert translate("toml.md", "identity", "--dialect", "hugo") == 0
    assert (work / "out/toml.md").read_text() == text
    assert translate("toml.md", "pseudo", "--dialect", "hugo") == 0
    assert re.match(r'\+\+\+\ntitle = " \[.+\] "\n', (work / "out/toml.md").read_text())


def test_pseudo_translation_keeps_outer_space_and_entities(work: Path) -> None:
    for name in ("nbsp.html", "cell.html", "image.md", "front.md"):
        (work / name).write_text(OUTER_SPACE[name], encoding="utf-8")
        assert translate(name, "pseudo") == 0
    out = work / "out"
    assert re.fullmatch(r"<p>\[.+\]&nbsp;</p>\n", (out / "nbsp.html").read_text())
    assert re.search(r"<td>&#160;\[.+\]&#160;</td>", (out / "cell.html").read_text())
    # balanced brackets inside the alt text need no escape (minimal escaping)
    assert re.fullmatch(r'!\[ \[.+\] \]\(a\.png " \[.+\] "\)\n',
                        (out / "image.md").read_text())
    front = (out / "front.md").read_text()
    assert re.search(r'title: "\[.+\] "\n', front)
    assert re.search(r'summary: "\[.+\]\\n"\n', front)


def test_strip_helpers_keep_the_source_exact() -> None:
    runs = [(" ", " "), ("&nbsp;", "\xa0"), ("  x y ", "  x y "), ("&#32;", " ")]
    lead, inner = strip_lead(runs)
    inner, trail = strip_trail(inner)
    assert (lead, inner, trail) == (" &nbsp;  ", [("x y", "x y")], " &#32;")
    # a run whose source does not start with its shown white space is kept
    assert strip_lead([('"  x"', "  x")]) == ("", [('"  x"', "  x")])


# item 6: validation and repair are linear in the tags ---------------------------------


def spaced_segment(count: int) -> tuple[SegmentBuilder, str]:
    """A segment of `count` emphasised words, and an answer with every tag's
    content padded with spaces, as engines sometimes return it."""
    builder = SegmentBuilder("paragraph", 0)
    answer = []
    for _ in range(count):
        number = builder.open("**", "strong")
        builder.text("w")
        builder.close("**")
        builder.text(" ")
        answer.append(f"<s{number}> W </s{number}>")
    return builder, "".join(answer)


def count_regex_passes(action: Callable[[], object]) -> int:
    """How many times `action` runs a regular expression method (sub, search,
    finditer...) — each such call scans its whole argument."""
    passes = 0
    names = {"sub", "subn", "search", "match", "finditer", "findall", "split"}

    def profile(frame: object, event: str, arg: object) -> None:
        nonlocal passes
        if event == "c_call" and isinstance(getattr(arg, "__self__", None), re.Pattern) \
                and getattr(arg, "__name__", "") in names:
            passes += 1

    sys.setprofile(profile)
    try:
        action()
    finally:
        sys.setprofile(None)
    return passes


def test_repair_scans_the_answer_a_fixed_number_of_times() -> None:
    small, large = spaced_segment(50), spaced_segment(400)
    segments = [(b.build("s1"), answer) for b, answer in (small, large)]
    passes = [count_regex_passes(lambda s=s, a=a: repair(s, a)) for s, a in segments]
    assert passes[0] == passes[1]


def test_repair_moves_spaces_out_of_ten_thousand_tags() -> None:
    builder, answer = spaced_segment(10_000)
    checked = repair(builder.build("s1"), answer)
    assert checked.ok
    assert checked.text == " ".join(f"<s{n}>W</s{n}>" for n in range(1, 10_001))


def test_identity_is_exact_on_a_ten_thousand_tag_paragraph(work: Path) -> None:
    (work / "big.md").write_text(" ".join(["**w**"] * 10_000) + "\n")
    assert translate("big.md", "identity") == 0
    assert (work / "out/big.md").read_bytes() == (work / "big.md").read_bytes()
    (seg,) = segment((work / "big.md").read_text(), "md").segments()
    assert len(TAG_RE.findall(seg.text)) == 20_000


# item 8: deep nesting -----------------------------------------------------------------


def deep_list(levels: int) -> str:
    """A list nested `levels` deep, one item per level."""
    return "".join("  " * i + f"- item {i}\n" for i in range(levels))


def test_deep_lists_and_quotes_are_translated(work: Path) -> None:
    (work / "list.md").write_text(deep_list(14))
    (work / "quote.md").write_text(">" * 25 + " deep text\n")
    assert translate("list.md", "pseudo") == 0
    assert translate("quote.md", "pseudo") == 0
    assert [s.text for s in segment(deep_list(14), "md").segments()][-1] == "item 13"
    listed = (work / "out/list.md").read_text()
    assert "item" not in listed and listed.count("- [") == 14
    assert (work / "out/quote.md").read_text().startswith(">" * 25 + " [")


def test_nesting_beyond_the_limit_is_reported(work: Path, capsys) -> None:
    (work / "deep.md").write_text("# Top\n\n" + ">" * 150 + " hidden text\n")
    assert translate("deep.md", "pseudo") == 0
    err = capsys.readouterr().err
    assert re.search(r"deep\.md: line 3: nested deeper than \d+ levels, left "
                     r"untranslated", err), err


# item 10: an unclosed comment at the end of an HTML file ------------------------------


@pytest.mark.parametrize("text", [
    "<p>Hello</p>\n<!-- secret note\nmore words\n",
    "<p>Hello <!-- secret note</p>\n",
    "<p>Hello</p><!-- <p>secret</p> -- note",
])
def test_unclosed_comment_stays_a_comment(work: Path, text: str) -> None:
    (work / "page.html").write_text(text)
    assert [s.text for s in segment(text, "html").segments()] == ["Hello"]
    assert translate("page.html", "pseudo") == 0
    out = (work / "out/page.html").read_text()
    assert out[out.index("<!--"):] == text[text.index("<!--"):]


def test_abrupt_comment_is_still_text_around(work: Path) -> None:
    text = "<p>Hello <!--> world</p>\n"
    assert [s.text for s in segment(text, "html").segments()][0].endswith("world")
