"""Glossary files, term matching and the check of answers."""

from __future__ import annotations

from pathlib import Path

import pytest

from hymt_cli.document import SegmentBuilder
from hymt_cli.glossary import (
    Glossary, GlossaryError, Term, contains_term, load, load_all, misses,
    searchable_text,
)
from hymt_cli.languages import resolve

SHIPPED = Path(__file__).parent.parent / "glossaries"


def test_shipped_glossaries_load_with_their_languages() -> None:
    glossary = load_all(sorted(p for p in SHIPPED.iterdir() if p.suffix != ".md"))
    zh = glossary.for_languages(resolve("zh"), resolve("en"))
    de = glossary.for_languages(resolve("de"))
    en = glossary.for_languages(resolve("en"), resolve("zh"))
    assert ("repository", "代码仓库") in [(t.source, t.target) for t in zh.terms]
    assert {t.target_lang for t in de.terms} == {"de"}
    assert en.terms and all(t.source_lang == "zh" for t in en.terms)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("g.tsv", "API key\tAPI-Schlüssel\nbranch\tZweig\n"),
        ("g.csv", "source,target\nAPI key,API-Schlüssel\n\"branch\",Zweig\n"),
        ("g.json", '[{"source": "API key", "target": "API-Schlüssel"},'
                   ' {"source": "branch", "target": "Zweig"}]'),
        ("h.json", '{"API key": "API-Schlüssel", "branch": "Zweig"}'),
    ],
)
def test_formats(tmp_path: Path, name: str, content: str) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    terms = load(path).terms
    assert [(t.source, t.target) for t in terms] == [
        ("API key", "API-Schlüssel"), ("branch", "Zweig")]


def test_language_columns_filter_terms(tmp_path: Path) -> None:
    path = tmp_path / "g.csv"
    path.write_text("term,translation,to\ncommit,Commit,de\ncommit,提交,zh-CN\n",
                    encoding="utf-8")
    glossary = load(path)
    assert glossary.for_languages(resolve("zh")).find("a commit") == (("commit", "提交"),)


@pytest.mark.parametrize(
    ("content", "message"),
    [("only-one-column\n", "g.tsv:1: expected a source and a target term"),
     ("a\tb\nc\t\n", "g.tsv:2: expected a source and a target term")],
)
def test_bad_rows_name_file_and_line(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "g.tsv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(GlossaryError, match=message):
        load(path)


def test_bad_json_and_unknown_suffix(tmp_path: Path) -> None:
    (tmp_path / "g.json").write_text("{oops", encoding="utf-8")
    with pytest.raises(GlossaryError, match=r"g.json:1: invalid JSON"):
        load(tmp_path / "g.json")
    (tmp_path / "g.xml").write_text("<x/>", encoding="utf-8")
    with pytest.raises(GlossaryError, match="unknown glossary format"):
        load(tmp_path / "g.xml")


@pytest.mark.parametrize(
    ("text", "term", "found"),
    [
        ("Open the Repository now", "repository", True),
        ("several repositories", "repository", False),
        ("prebuild step", "build", False),
        ("the build.", "build", True),
        ("C++ and C", "C++", True),
        ("请在代码仓库中提交", "代码仓库", True),
        ("请在代码仓库中提交", "仓", True),
        ("タグを付ける", "タグ", True),
    ],
)
def test_matching(text: str, term: str, found: bool) -> None:
    assert contains_term(text, term) is found


def test_longest_terms_first_and_each_once() -> None:
    glossary = Glossary((Term("merge", "合并"), Term("merge conflict", "合并冲突")))
    assert glossary.find("A merge conflict after a merge") == (
        ("merge conflict", "合并冲突"), ("merge", "合并"))


def test_code_is_not_searched() -> None:
    b = SegmentBuilder("paragraph", 0)
    b.text("Run ")
    b.atomic("`git commit`", "git commit")
    b.text(" on the branch")
    text = searchable_text(b.build("s1"))
    assert not contains_term(text, "commit") and contains_term(text, "branch")


def test_misses_checks_target_terms_outside_tags() -> None:
    terms = [("branch", "Zweig"), ("commit", "Commit")]
    assert misses("Der <s1>Zweig</s1> ist da", terms) == [("commit", "Commit")]
