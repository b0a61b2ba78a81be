"""Validation of engine answers against their segments' tags."""

from __future__ import annotations

import pytest

from hymt_cli.document import SegmentBuilder
from hymt_cli.validate import check, tag_problem


def _segment():
    b = SegmentBuilder("paragraph", 0)
    b.text("a ")
    b.open("*", "em")
    b.text("b ")
    b.open("[", "link")
    b.text("c")
    b.close("](u)")
    b.close("*")
    b.atomic("`d`", "d")
    return b.build("s1")


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        ("A <s1>B <s2>C</s2></s1><s3>d</s3>", None),
        ("A <s1>B</s1><s3>d</s3>", "tag s2 missing"),
        ("A <s1>B <s2>C</s2></s1><s3>d</s3><s4></s4>", "unknown tag s4"),
        ("A <s1>B <s2>C</s1></s2><s3>d</s3>", "tag s1 closed out of order"),
        ("A <s1>B <s2>C</s2></s1><s3>d</s3><s1></s1>", "tag s1 appears twice"),
        ("A <s1>B <s2>C</s2><s3>d</s3>", "tag s1 left open"),
    ],
)
def test_tag_problems(answer: str, problem: str | None) -> None:
    assert tag_problem(_segment(), answer) == problem


def test_check_falls_back_to_source_text() -> None:
    seg = _segment()
    bad = check(seg, "junk")
    assert not bad.ok and bad.text == seg.text and bad.problem == "tag s1 missing"
    good = check(seg, "  A <s1>B <s2>C</s2></s1><s3>d</s3>\n")
    assert good.ok and good.text == "A <s1>B <s2>C</s2></s1><s3>d</s3>"


def test_empty_answer_is_rejected() -> None:
    b = SegmentBuilder("paragraph", 0)
    b.text("hello")
    assert check(b.build("s1"), "   ").problem == "empty answer"
