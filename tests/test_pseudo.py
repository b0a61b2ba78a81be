"""Pseudo-localisation keeps tags and marks text visibly."""

from __future__ import annotations

from hypothesis import given, strategies as st

from hymt_cli.document import TAG_RE
from hymt_cli.engines.pseudo import pseudo_translate


def test_accents_pads_and_brackets() -> None:
    out = pseudo_translate("Open <s1>the file</s1> now")
    assert out == "[Óþéñ <s1>ŧĥé ƒíĺé</s1> ñóŵ ····]"


def test_text_without_letters_is_unchanged() -> None:
    assert pseudo_translate("<s1>42</s1> 7") == "<s1>42</s1> 7"


def test_expansion_is_about_thirty_percent() -> None:
    text = "a" * 100
    assert len(pseudo_translate(text)) == 100 + 30 + 3


@given(st.lists(st.one_of(st.text(alphabet="ab c.,", max_size=8), st.integers(1, 9))))
def test_tags_survive_in_order(parts: list) -> None:
    text = "".join(p if isinstance(p, str) else f"<s{p}>x</s{p}>" for p in parts)
    assert TAG_RE.findall(pseudo_translate(text)) == TAG_RE.findall(text)
