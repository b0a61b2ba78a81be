"""Splitting over-long segments at sentence boundaries outside tag pairs."""

from __future__ import annotations

from hypothesis import given, strategies as st

from hymt_cli.splitting import sentence_cuts, split_text


def words(text: str) -> int:
    return len(text.split())


TEXT = "One two three. Four <s1>five. Six</s1> seven. Eight nine ten eleven. End."


def test_cuts_skip_sentence_ends_inside_tags() -> None:
    assert [TEXT[c:][:4] for c in sentence_cuts(TEXT)] == ["Four", "Eigh", "End."]


def test_pieces_fill_the_budget_greedily() -> None:
    assert split_text(TEXT, 6, words) == [
        "One two three. ", "Four <s1>five. Six</s1> seven. ",
        "Eight nine ten eleven. End."]
    assert split_text(TEXT, 100, words) == [TEXT]


def test_an_oversized_sentence_stands_alone() -> None:
    assert split_text(TEXT, 1, words) == [
        "One two three. ", "Four <s1>five. Six</s1> seven. ",
        "Eight nine ten eleven. ", "End."]


def test_cjk_sentences_split_without_spaces() -> None:
    assert split_text("第一句。第二句！第三句？", 4, len) == ["第一句。", "第二句！", "第三句？"]


@given(st.lists(st.sampled_from(["a", "b c", ". ", "! ", "<s1>", "</s1>", "。"]),
                max_size=30), st.integers(1, 6))
def test_pieces_join_back_to_the_text(parts: list[str], budget: int) -> None:
    text = "".join(parts)
    assert "".join(split_text(text, budget, words)) == text
