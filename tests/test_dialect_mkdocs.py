"""The MkDocs dialect against MkDocs itself (Python-Markdown + pymdownx).

For every page of the fixture site in `cases/dialects/mkdocs`: the identity
law; a pseudo-translation renders, under the site's own extensions, to the
same element tree as the source; every dialect marker survives byte for byte;
code, math and keys are untouched and the prose is translated. Then the whole
site, translated through the library and through the CLI, must still pass
`mkdocs build --strict`.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from bs4 import BeautifulSoup, NavigableString, Tag

from hymt_cli.documents import SegmentOptions, segment
from hymt_cli.documents.dialects import get_dialect
from hymt_cli.engines.pseudo import pseudo_translate
from tests.html_tree import html_structure
from tests.mkdocs_render import comparable_config, load_mkdocs_config, render_mkdocs

SITE = Path(__file__).resolve().parent / "cases" / "dialects" / "mkdocs"
DOCS = SITE / "docs"
PAGES = sorted(p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md"))
OPTIONS = SegmentOptions(dialect=get_dialect("mkdocs"))
CONFIG = comparable_config(load_mkdocs_config(SITE / "mkdocs.yml"))
BUILD_ENV = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
"""Material prints a banner about MkDocs 2.0 unless told not to; it is noise here."""


def _source(page: str) -> str:
    """The page's Markdown, exactly as stored."""
    return (DOCS / page).read_text(encoding="utf-8")


def _pseudo(text: str) -> str:
    """`text` with every segment pseudo-translated by the MkDocs dialect."""
    doc = segment(text, "md", OPTIONS)
    return doc.render({s.id: pseudo_translate(s.text) for s in doc.segments()})


def _render(text: str) -> str:
    """`text` through the site's Markdown pipeline, from the site's folder (snippets)."""
    with contextlib.chdir(SITE):
        return render_mkdocs(text, CONFIG)


def _outline(nodes, depth: int = 0) -> list[str]:
    """An element tree as one line per element, so a mismatch shows as a line diff."""
    lines = []
    for name, attrs, children in nodes:
        shown = " ".join(f'{k}="{v}"' for k, v in attrs)
        lines.append("  " * depth + f"<{name} {shown}>".replace(" >", ">"))
        lines.extend(_outline(children, depth + 1))
    return lines


# --- markers -----------------------------------------------------------------

_QUOTED = re.compile(r'"[^"\n]*"')
_BLOCK_OPENER = re.compile(r"^\s*/{3,}\s*[\w-]")
_BLOCK_HEAD = re.compile(r"^(\s*/{3,}\s*[\w-]+)(\s*\|.*)?$")
_LINE_MARKERS = (
    (re.compile(r"^\s*(!!!|\?\?\?\+?)"), lambda line: _QUOTED.sub('"…"', line)),
    (re.compile(r"^\s*===[!+]?\s"), lambda line: _QUOTED.sub('"…"', line)),
    (re.compile(r"^\s*/{3,}\s*$"), lambda line: line),
    # `/// html | div.result`: the argument is a CSS-like selector, not a title.
    (re.compile(r"^\s*/{3,}\s*html\b"), lambda line: line),
    (_BLOCK_HEAD, lambda line: _BLOCK_HEAD.sub(
        lambda m: m.group(1) + (" | …" if m.group(2) else ""), line)),
    (re.compile(r"^\s*--8<--"), lambda line: line),
    (re.compile(r"^\s*\*\[[^\]]+\]:"), lambda line: line[: line.index("]:") + 2]),
    (re.compile(r"^\s*\{\*.*\*\}\s*$"), lambda line: line),
)
"""Line markers and the part of each that must survive (titles are translated)."""

_ATTR_VALUE = r"""(?:[#.][\w-]+|[\w-]+=(?:"[^"\n]*"|'[^'\n]*'|[^\s}]+))"""
_INLINE_MARKERS = {
    "attribute list": re.compile(rf"\{{:?[ \t]*{_ATTR_VALUE}(?:[ \t]+{_ATTR_VALUE})*[ \t]*\}}"),
    "icon or emoji": re.compile(r"(?<![\w:/]):[a-z0-9][a-z0-9_+-]*:(?![\w:])"),
    "keys": re.compile(r"(?<!\{)\+\+[\w+-]+\+\+(?!\})"),
}
"""Inline markers, which must survive whole and in order."""


def _line_markers(text: str) -> list[str]:
    """The kept part of every marker line, and every `///` option line, in order."""
    found: list[str] = []
    in_options = None
    for line in text.splitlines():
        if in_options is not None and line.strip() and line.startswith(in_options + "    "):
            found.append(line)
            continue
        in_options = None
        for pattern, kept in _LINE_MARKERS:
            if pattern.match(line):
                found.append(kept(line))
                if _BLOCK_OPENER.match(line):
                    in_options = line[: len(line) - len(line.lstrip())]
                break
    return found


def _inline_markers(text: str) -> dict[str, list[str]]:
    """Every inline marker of each kind, in order."""
    return {kind: pattern.findall(text) for kind, pattern in _INLINE_MARKERS.items()}


# --- rendered text -------------------------------------------------------------

_VERBATIM = "code, kbd, .arithmatex"
_NOT_PROSE = {"code", "pre", "kbd", "abbr", "svg", "script", "style"}
_NOT_PROSE_CLASSES = {"arithmatex", "filename"}
"""Math, and the file names that `title="..."` puts above code blocks."""
_KEPT_TEXT = re.compile(r"^(\{\*.*\*\}|\S+://\S+)$")
"""Code includes and bare URLs as link text stay as they are."""


def _verbatim(html: str) -> list[str]:
    """The text of code, keys and math in `html`, which translation must not touch."""
    soup = BeautifulSoup(html, "html.parser")
    return [tag.get_text() for tag in soup.select(_VERBATIM)]


def _own_text(tag: Tag) -> str:
    """The text directly inside `tag`, whitespace collapsed."""
    direct = "".join(str(c) for c in tag.children if isinstance(c, NavigableString))
    return " ".join(direct.split())


def _is_prose(tag: Tag) -> bool:
    """Whether `tag` holds text a reader is meant to read in their language."""
    return not any(t.name in _NOT_PROSE or _NOT_PROSE_CLASSES & set(t.get("class", []))
                   for t in [tag, *tag.parents] if isinstance(t, Tag))


def _untranslated(source_md: str, source_html: str, translated_html: str) -> list[str]:
    """Prose texts of the source page that the translated page still shows unchanged.

    Only text written in the page counts: titles that the extensions supply
    (`Note` for `/// note`, `Table 1.`) are not in the source to translate.
    Texts are matched by value, not position, so this holds even where the
    structure test fails.
    """
    flat_md = " ".join(source_md.split())
    after = {_own_text(tag) for tag in BeautifulSoup(translated_html, "html.parser").find_all(True)
             if _is_prose(tag)}
    same = []
    for old in BeautifulSoup(source_html, "html.parser").find_all(True):
        text = _own_text(old)
        if not _is_prose(old) or sum(ch.isalpha() for ch in text) < 2 or _KEPT_TEXT.match(text):
            continue
        pieces = [" ".join(str(c).split()) for c in old.children
                  if isinstance(c, NavigableString)]
        if not any(p and sum(ch.isalpha() for ch in p) >= 2 and p in flat_md for p in pieces):
            continue
        if text in after:
            same.append(f"<{old.name} class={old.get('class')}>: {text!r}")
    return same


# --- per page -----------------------------------------------------------------


def test_fixture_has_pages() -> None:
    assert len(PAGES) >= 8, PAGES


@pytest.mark.parametrize("page", PAGES)
def test_identity(page: str) -> None:
    text = _source(page)
    doc = segment(text, "md", OPTIONS)
    assert doc.source == text
    assert doc.render({s.id: s.text for s in doc.segments()}) == text


@pytest.mark.parametrize("page", PAGES)
def test_pseudo_structure(page: str) -> None:
    text = _source(page)
    expected = _outline(html_structure(_render(text)))
    actual = _outline(html_structure(_render(_pseudo(text))))
    assert actual == expected


@pytest.mark.parametrize("page", PAGES)
def test_markers_verbatim(page: str) -> None:
    text = _source(page)
    out = _pseudo(text)
    assert _line_markers(out) == _line_markers(text)
    assert _inline_markers(out) == _inline_markers(text)


@pytest.mark.parametrize("page", PAGES)
def test_code_math_keys_verbatim(page: str) -> None:
    text = _source(page)
    assert _verbatim(_render(_pseudo(text))) == _verbatim(_render(text))


@pytest.mark.parametrize("page", PAGES)
def test_prose_translated(page: str) -> None:
    text = _source(page)
    out = _pseudo(text)
    assert out != text
    assert _untranslated(text, _render(text), _render(out)) == []


def test_marker_extraction_sees_the_fixture() -> None:
    """The marker checks have something to check: every kind occurs in the site."""
    text = "\n".join(_source(page) for page in PAGES)
    lines = _line_markers(text)
    for start in ("!!!", "???", "???+", "///", "////", "===", "--8<--", "*[", "{*"):
        assert any(line.lstrip().startswith(start) for line in lines), start
    assert any(line.strip() == "type: warning" for line in lines)
    for kind, found in _inline_markers(text).items():
        assert found, kind
    assert "{ #custom-id }" in _inline_markers(text)["attribute list"]
    assert ":fontawesome-brands-github:" in _inline_markers(text)["icon or emoji"]
    assert "++ctrl+alt+del++" in _inline_markers(text)["keys"]


@pytest.mark.parametrize("page", PAGES)
def test_prose_check_catches_untranslated(page: str) -> None:
    """An untranslated page fails the prose check, titles and tab labels included."""
    text = _source(page)
    html = _render(text)
    flagged = _untranslated(text, html, html)
    assert flagged
    soup = BeautifulSoup(html, "html.parser")
    titles = soup.select(".admonition-title, summary, .tabbed-labels label")
    flat = " ".join(text.split())
    written = [t for t in titles
               if sum(ch.isalpha() for ch in _own_text(t)) >= 2 and _own_text(t) in flat]
    for title in written:
        assert any(repr(_own_text(title)) in line for line in flagged), _own_text(title)


@pytest.mark.parametrize(("original", "damaged"), [
    ("!!! note", "!!! ñote"),
    ('=== "Unordered list"\n', '===  "Unordered list"\n'),
    ("/// tab | Python\n", "/// ŧab | Python\n"),
    ("    type: warning", "    type: ŵarning"),
    ("/// html | div.result", "/// html | điv.result"),
    ("--8<-- \"install.sh\"", "--8<-- \"íñstall.sh\""),
    ("*[HTML]:", "*[ĤTML]:"),
    ("tutorial001.py hl[1] *}", "tutorial001.py hl[2] *}"),
    ("{ #custom-id }", "{ #custom-íd }"),
    ('{ title="All about admonitions" }', '{ title="Àll about admonitions" }'),
    (":fontawesome-brands-github:", ":fontawesome-brands-ĝithub:"),
    (":smile:", ":šmile:"),
    ("++ctrl+alt+del++", "++çtrl+alt+del++"),
])
def test_marker_checks_catch_damage(original: str, damaged: str) -> None:
    """Each marker check notices when its marker is changed (no vacuous pass)."""
    text = "\n".join(_source(page) for page in PAGES)
    assert original in text
    broken = text.replace(original, damaged)
    assert (_line_markers(broken), _inline_markers(broken)) != (
        _line_markers(text), _inline_markers(text))


# --- whole site -----------------------------------------------------------------


def _build(site: Path) -> None:
    """`mkdocs build --strict` of `site`, from its folder; fails with MkDocs' stderr."""
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir",
         str(site.parent / (site.name + "-html"))],
        cwd=site, env=BUILD_ENV, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, f"mkdocs build --strict of {site}:\n{result.stderr}"


def _copy_site(target: Path) -> Path:
    """A copy of the fixture site at `target`."""
    shutil.copytree(SITE, target)
    return target


def test_site_builds_strict_before_and_after(tmp_path: Path) -> None:
    source = _copy_site(tmp_path / "en")
    translated = _copy_site(tmp_path / "de")
    for page in PAGES:
        (translated / "docs" / page).write_text(_pseudo(_source(page)), encoding="utf-8")
    _build(source)
    _build(translated)


def test_cli_translated_site_builds_strict(tmp_path: Path) -> None:
    source = _copy_site(tmp_path / "en")
    translated = _copy_site(tmp_path / "de")
    pattern = f"{translated}/docs/{{relpath}}"
    result = subprocess.run(
        [sys.executable, "-m", "hymt_cli", "translate", str(source / "docs"), "--to", "de",
         "--engine", "pseudo", "--no-memory", "--dialect", "mkdocs", "--out", pattern],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    for page in PAGES:
        out = (translated / "docs" / page).read_text(encoding="utf-8")
        assert out != _source(page), f"{page} was not translated"
        assert _line_markers(out) == _line_markers(_source(page)), page
    _build(translated)
