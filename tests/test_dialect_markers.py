"""Hugo, mdBook, Jekyll and GitHub pages: identity, markers and structure under
pseudo-translation, prose translated, front matter still parsing.

Fixtures live in tests/cases/dialects/<folder>/*.md; the folder names the
dialect (`github` pages are plain CommonMark + GFM). Markers are those of
`tests/dialect_markers.py`: what a translation must keep byte for byte.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pytest

from hymt_cli.documents import SegmentOptions, segment
from hymt_cli.documents.dialects import get_dialect
from hymt_cli.documents.markdown import same_structure
from hymt_cli.engines.pseudo import pseudo_translate
from tests.dialect_markers import (
    TRANSLATED_KEYS,
    escaped,
    front_matter_data,
    markers,
    plain_text_args,
    prose_lines,
)

CASES = Path(__file__).parent / "cases" / "dialects"
FOLDERS = {"hugo": "hugo", "mdbook": "mdbook", "jekyll": "jekyll", "github": "commonmark"}
"""Fixture folder -> dialect name."""

FIXTURES = [(folder, path.name) for folder in FOLDERS
            for path in sorted((CASES / folder).glob("*.md"))]


def _id(case: tuple[str, str]) -> str:
    """`folder/name.md`, the test id of a fixture."""
    return "/".join(case)


@lru_cache(maxsize=None)
def load(folder: str, name: str) -> tuple[str, str]:
    """(dialect name, source text) of a fixture, newlines as stored."""
    return FOLDERS[folder], (CASES / folder / name).read_bytes().decode("utf-8")


def has_front_matter(case: tuple[str, str]) -> bool:
    """Whether a fixture starts with front matter its dialect knows."""
    dialect, text = load(*case)
    return front_matter_data(text, dialect) is not None


WITH_FRONT_MATTER = [case for case in FIXTURES if has_front_matter(case)]


@lru_cache(maxsize=None)
def pseudo(folder: str, name: str) -> str:
    """The fixture, pseudo-translated through its dialect."""
    dialect, text = load(folder, name)
    doc = segment(text, "md", SegmentOptions(dialect=get_dialect(dialect)))
    return doc.render({s.id: pseudo_translate(s.text) for s in doc.segments()})


def first_difference(expected: list[str], actual: list[str]) -> str:
    """A short description of where two marker lists part."""
    for index, (want, got) in enumerate(zip(expected, actual)):
        if want != got:
            return f"marker {index}: expected {want!r}, got {got!r}"
    return f"{len(expected)} markers expected, {len(actual)} found"


MARKER_EXAMPLES = [
    ("hugo",
     '+++\ntitle = "T"\ndraft = true\n[params]\ntitle = "P"\n+++\nA {{< ref "a.md" >}} b\n',
     ["+++\n", "title =", "draft = true\n", "[params]\n", 'title = "P"\n', "+++\n",
      '{{< ref "a.md" >}}']),
    ("hugo", "{{% notice tip %}}\nText {#x}\n{{% /notice %}}",
     ["{{% notice tip %}}", "{#x}", "{{% /notice %}}"]),
    ("mdbook", "{{#title Big Book}}\n\\\\( x \\\\) `c` {{#include a.rs:2:3}}",
     ["{{#title ", "}}", "\\\\( x \\\\)", "`c`", "{{#include a.rs:2:3}}"]),
    ("jekyll", "{% raw %}{{ x }}{% endraw %} {{ site.t }} {% if a %}\nP\n{: .c}",
     ["{% raw %}{{ x }}{% endraw %}", "{{ site.t }}", "{% if a %}", "{: .c}"]),
    ("commonmark", "> [!NOTE]\n> x\n\n- [ ] t\n\n```sh\nls\n```\n",
     ["> [!NOTE]", "- [ ]", "```sh\nls\n```"]),
    ("mkdocs", '!!! note "Title"\n    ++ctrl+c++ :smile: { .x }',
     ["!!! note", "++ctrl+c++", ":smile:", "{ .x }"]),
]


@pytest.mark.parametrize(("dialect", "text", "expected"), MARKER_EXAMPLES)
def test_marker_extraction(dialect: str, text: str, expected: list[str]) -> None:
    assert markers(text, dialect) == expected


def test_every_folder_has_five_pages() -> None:
    for folder in FOLDERS:
        assert len(list((CASES / folder).glob("*.md"))) >= 5, folder


@pytest.mark.parametrize("case", FIXTURES, ids=_id)
def test_identity(case: tuple[str, str]) -> None:
    dialect, text = load(*case)
    doc = segment(text, "md", SegmentOptions(dialect=get_dialect(dialect)))
    assert doc.source == text
    assert doc.render({s.id: s.text for s in doc.segments()}) == text


@pytest.mark.parametrize("case", FIXTURES, ids=_id)
def test_markers_survive(case: tuple[str, str]) -> None:
    dialect, text = load(*case)
    expected = markers(text, dialect)
    assert expected, "the fixture should exercise its dialect's markers"
    actual = markers(pseudo(*case), dialect)
    assert actual == expected, first_difference(expected, actual)


@pytest.mark.parametrize("case", FIXTURES, ids=_id)
def test_plain_text_arguments(case: tuple[str, str]) -> None:
    dialect, text = load(*case)
    before, after = plain_text_args(text, dialect), plain_text_args(pseudo(*case), dialect)
    assert len(after) == len(before)
    assert [arg for arg in after if escaped(arg)] == []
    assert all(new != old for new, old in zip(after, before)), "titles are translated"


@pytest.mark.parametrize("case", FIXTURES, ids=_id)
def test_same_structure(case: tuple[str, str]) -> None:
    dialect, text = load(*case)
    assert same_structure(text, pseudo(*case), get_dialect(dialect))


@pytest.mark.parametrize("case", FIXTURES, ids=_id)
def test_prose_translated(case: tuple[str, str]) -> None:
    dialect, text = load(*case)
    prose = prose_lines(text, dialect)
    assert prose, "the fixture should have lines of plain prose"
    output_lines = set(pseudo(*case).splitlines())
    kept = [line for line in prose if line in output_lines]
    assert not kept, f"{len(kept)} of {len(prose)} prose lines untranslated: {kept[:3]}"


@pytest.mark.parametrize("case", WITH_FRONT_MATTER, ids=_id)
def test_front_matter(case: tuple[str, str]) -> None:
    dialect, text = load(*case)
    kind, before = front_matter_data(text, dialect)  # type: ignore[misc]
    parsed = front_matter_data(pseudo(*case), dialect)
    assert parsed is not None, "the output lost its front matter"
    assert parsed[0] == kind
    after = parsed[1]
    assert list(after) == list(before)
    translated = [key for key in TRANSLATED_KEYS if isinstance(before.get(key), str)]
    assert translated, "the fixture should have a translated key"
    for key, value in before.items():
        if key in translated:
            assert isinstance(after[key], str) and after[key] != value, key
        else:
            assert after[key] == value, key
