"""Heading anchors as each documentation renderer makes them.

A translated heading gets a new anchor from the site's renderer, so links to
`#old-anchor` break unless hymt knows the slug rule. `slugify(text, style)`
gives one heading's slug and `Slugger(style).slug(text)` also numbers repeats
the way that renderer does. `text` is the heading's rendered plain text
(entities decoded, code spans as their text, markup dropped); the two
Python-Markdown styles first collapse whitespace runs as its toc does.

Styles (re-implemented from the renderers' behaviour, no third-party code):

- `python-markdown`: `markdown.extensions.toc.slugify` (MkDocs' default):
  NFKD, drop non-ASCII, drop non-word characters, lowercase, runs of spaces
  and hyphens become `-`; repeats get `_1`, `_2`.
- `pymdownx-unicode`: `pymdownx.slugs.slugify(case="lower")`: NFC, drop
  `<tags>`, lowercase, keep Unicode word characters, each space becomes `-`;
  repeats as Python-Markdown's toc.
- `vitepress`: VitePress' `slugify` (@mdit-vue/shared) with markdown-it-anchor's
  repeats `-1`, `-2`. VitePress keeps character references as written in the
  text it slugs (`&amp;` gives `amp`, and so does a backslash-escaped `&`), drops emoji
  shortcodes and inline HTML: pass its text and code-span tokens joined.
- `github`: github-slugger 2 (Docusaurus, and Hugo's `github` style
  approximately): lowercase, drop punctuation, symbols, controls, separators
  other than space and anything unassigned in Unicode 13, each space becomes
  `-`; repeats `-1`, `-2` counted per original slug.
"""

from __future__ import annotations

import re
import unicodedata

STYLES = ("python-markdown", "pymdownx-unicode", "vitepress", "github")
"""Every slug style `slugify` knows."""

_PM_DROP = re.compile(r"[^\w\s-]")
_PM_SEPARATORS = re.compile(r"[-\s]+")
_PM_COUNTED = re.compile(r"^(.*)_([0-9]+)$")
_PYMDOWNX_TAG = re.compile(r"</?[^>]*>")
_PYMDOWNX_DROP = re.compile(r"[^\w\- ]")

# JavaScript's `\s` (not Python's: no U+001C-U+001F or U+0085, but U+FEFF).
_JS_SPACE = "\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
_VP_COMBINING = re.compile("[\u0300-\u036f]")
_VP_CONTROL = re.compile("[\u0000-\u001f]")
_VP_SPECIAL = re.compile(
    "[" + _JS_SPACE + r"~`!@#$%^&*()\-_+=\[\]{}|\\;:\"'" + "\u201c\u201d\u2018\u2019" + r"<>,.?/]+"
)

_GH_DROPPED_CATEGORIES = frozenset("No Pd Ps Pe Pi Pf Po Sm Sc Sk So Cc Cf Co Cn Zs Zl Zp".split())
# Symbols that are Alphabetic (Other_Alphabetic), which github-slugger keeps.
_GH_KEPT_SYMBOLS = ((0x24B6, 0x24E9), (0x1F130, 0x1F149), (0x1F150, 0x1F169), (0x1F170, 0x1F189))
# Letters, marks and digits new in Unicode 14.0 (DerivedAge): unassigned in the
# Unicode 13.0 tables github-slugger's pattern was generated from, so dropped.
_GH_AFTER_UNICODE_13 = (
    (0x870, 0x887), (0x889, 0x88E), (0x898, 0x89F), (0x8B5, 0x8B5), (0x8C8, 0x8D2),
    (0xC3C, 0xC3C), (0xC5D, 0xC5D), (0xCDD, 0xCDD), (0x170D, 0x170D), (0x1715, 0x1715),
    (0x171F, 0x171F), (0x180F, 0x180F), (0x1AC1, 0x1ACE), (0x1B4C, 0x1B4C), (0x1DFA, 0x1DFA),
    (0x2C2F, 0x2C2F), (0x2C5F, 0x2C5F), (0x9FFD, 0x9FFF), (0xA7C0, 0xA7C1), (0xA7D0, 0xA7D1),
    (0xA7D3, 0xA7D3), (0xA7D5, 0xA7D9), (0xA7F2, 0xA7F4), (0x10570, 0x1057A),
    (0x1057C, 0x1058A), (0x1058C, 0x10592), (0x10594, 0x10595), (0x10597, 0x105A1),
    (0x105A3, 0x105B1), (0x105B3, 0x105B9), (0x105BB, 0x105BC), (0x10780, 0x10785),
    (0x10787, 0x107B0), (0x107B2, 0x107BA), (0x10F70, 0x10F85), (0x11070, 0x11075),
    (0x110C2, 0x110C2), (0x11740, 0x11746), (0x11AB0, 0x11ABF), (0x12F90, 0x12FF0),
    (0x16A70, 0x16ABE), (0x16AC0, 0x16AC9), (0x1AFF0, 0x1AFF3), (0x1AFF5, 0x1AFFB),
    (0x1AFFD, 0x1AFFE), (0x1B11F, 0x1B122), (0x1CF00, 0x1CF2D), (0x1CF30, 0x1CF46),
    (0x1DF00, 0x1DF1E), (0x1E290, 0x1E2AE), (0x1E7E0, 0x1E7E6), (0x1E7E8, 0x1E7EB),
    (0x1E7ED, 0x1E7EE), (0x1E7F0, 0x1E7FE), (0x2A6DE, 0x2A6DF), (0x2B735, 0x2B738),
)


def _toc_text(text: str) -> str:
    """The name Python-Markdown's toc hands its slugify: whitespace runs made one space."""
    return " ".join(text.split())


def _python_markdown(text: str) -> str:
    """Python-Markdown toc's default slug: ASCII only, `-` between words."""
    decomposed = unicodedata.normalize("NFKD", _toc_text(text))
    ascii_text = decomposed.encode("ascii", "ignore").decode("ascii")
    kept = _PM_DROP.sub("", ascii_text).strip().lower()
    return _PM_SEPARATORS.sub("-", kept)


def _pymdownx_unicode(text: str) -> str:
    """pymdownx's lower-case Unicode slug: word characters kept, spaces to `-`."""
    plain = _PYMDOWNX_TAG.sub("", unicodedata.normalize("NFC", _toc_text(text))).strip().lower()
    return _PYMDOWNX_DROP.sub("", plain).replace(" ", "-")


def _vitepress(text: str) -> str:
    """VitePress' slug: accents and specials dropped, leading digit gets `_`."""
    value = _VP_COMBINING.sub("", unicodedata.normalize("NFKD", text))
    value = _VP_SPECIAL.sub("-", _VP_CONTROL.sub("", value))
    value = re.sub("-{2,}", "-", value).strip("-")
    if value[:1].isascii() and value[:1].isdigit():
        value = "_" + value
    return value.lower()


def _in(ranges: tuple[tuple[int, int], ...], code: int) -> bool:
    """Whether `code` lies in one of the inclusive `ranges`."""
    return any(low <= code <= high for low, high in ranges)


def _github_dropped(char: str) -> bool:
    """Whether github-slugger removes `char`."""
    if char in " -":
        return False
    code = ord(char)
    if unicodedata.category(char) in _GH_DROPPED_CATEGORIES:
        return not _in(_GH_KEPT_SYMBOLS, code)
    return _in(_GH_AFTER_UNICODE_13, code)


def _github(text: str) -> str:
    """github-slugger's slug: lowercase, drop non-word characters, space to `-`."""
    return "".join(c for c in text.lower() if not _github_dropped(c)).replace(" ", "-")


_SLUGIFIERS = {
    "python-markdown": _python_markdown,
    "pymdownx-unicode": _pymdownx_unicode,
    "vitepress": _vitepress,
    "github": _github,
}


def _check_style(style: str) -> str:
    """`style` if known, else a ValueError listing the known ones."""
    if style not in _SLUGIFIERS:
        raise ValueError(f"unknown slug style {style!r} (known: {', '.join(STYLES)})")
    return style


def slugify(text: str, style: str) -> str:
    """The anchor the renderer of `style` gives a heading whose text is `text`."""
    return _SLUGIFIERS[_check_style(style)](text)


class Slugger:
    """One page's anchors in `style`: each `slug` call numbers repeats as the renderer."""

    def __init__(self, style: str) -> None:
        """A slugger for one page, with no anchor used yet."""
        self.style = _check_style(style)
        self._used: set[str] = set()
        self._counts: dict[str, int] = {}

    def reserve(self, anchor: str) -> None:
        """Mark `anchor` as taken (an explicit `{#id}` the page sets itself)."""
        self._used.add(anchor)
        self._counts.setdefault(anchor, 0)

    def slug(self, text: str) -> str:
        """The next heading's anchor: its slug, numbered if already taken."""
        base = slugify(text, self.style)
        if self.style in ("python-markdown", "pymdownx-unicode"):
            anchor = self._toc_unique(base)
        elif self.style == "vitepress":
            anchor, number = base, 1
            while anchor in self._used:
                anchor, number = f"{base}-{number}", number + 1
        else:
            anchor = base
            while anchor in self._used:
                self._counts[base] = self._counts.get(base, 0) + 1
                anchor = f"{base}-{self._counts[base]}"
            self._counts[anchor] = 0
        self._used.add(anchor)
        return anchor

    def _toc_unique(self, anchor: str) -> str:
        """Python-Markdown toc's rule: an empty or taken `x` / `x_N` goes to `x_M`, M > N."""
        if anchor and anchor not in self._used:
            return anchor
        counted = _PM_COUNTED.match(anchor)
        base, number = (counted[1], int(counted[2])) if counted else (anchor, 0)
        number += 1
        while f"{base}_{number}" in self._used:
            number += 1
        return f"{base}_{number}"
