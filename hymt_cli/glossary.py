"""User glossaries: load TSV/CSV/JSON, find the terms a segment uses, check answers.

Matching is whole-word and case-insensitive for scripts with word spaces and plain
substring matching for CJK, Thai and similar scripts that do not separate words.
Text inside content-locked tags (code, URLs) is never searched.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePath

from hymt_cli.document import TAG_RE, Segment
from hymt_cli.errors import UsageError
from hymt_cli.languages import Language, UnknownLanguage, resolve

log = logging.getLogger(__name__)


class GlossaryError(UsageError, ValueError):
    """A glossary file that cannot be read; the message names file and line."""


@dataclass(frozen=True, slots=True)
class Term:
    """One glossary entry."""

    source: str
    """The term as it appears in source text."""
    target: str
    """How it must be translated."""
    source_lang: str | None = None
    """Canonical code of the source language, or None for any."""
    target_lang: str | None = None
    """Canonical code of the target language, or None for any."""


@dataclass(frozen=True, slots=True)
class Glossary:
    """Terms from one or more files; `for_target` narrows them to one language."""

    terms: tuple[Term, ...] = ()

    def __add__(self, other: Glossary) -> Glossary:
        return Glossary(self.terms + other.terms)

    def for_languages(self, target: Language, source: Language | None = None) -> Glossary:
        """Terms that apply when translating into `target` (from `source`, if known)."""
        return Glossary(tuple(
            t for t in self.terms
            if t.target_lang in (None, target.code)
            and (source is None or t.source_lang in (None, source.code))
        ))

    def find(self, text: str) -> tuple[tuple[str, str], ...]:
        """The (source, target) pairs whose source term occurs in `text`."""
        found: dict[str, tuple[str, str]] = {}
        for term in sorted(self.terms, key=lambda t: -len(t.source)):
            key = term.source.casefold()
            if key not in found and contains_term(text, term.source):
                found[key] = (term.source, term.target)
        return tuple(found.values())


def _needs_word_bounds(term: str) -> bool:
    return any(ch.isalnum() and not _is_unspaced(ch) for ch in term[:1] + term[-1:])


def _is_unspaced(ch: str) -> bool:
    """Characters of scripts that write words without spaces between them."""
    name = unicodedata.name(ch, "")
    return name.startswith(("CJK", "HIRAGANA", "KATAKANA", "THAI", "LAO", "KHMER",
                            "MYANMAR", "TIBETAN", "HANGUL"))


def contains_term(text: str, term: str) -> bool:
    """Whether `term` occurs in `text` (whole word where the script has words)."""
    if not term.strip():
        return False
    pattern = re.escape(term)
    if _needs_word_bounds(term):
        pattern = rf"(?<![\w-]){pattern}(?![\w])"
    return re.search(pattern, text, re.IGNORECASE) is not None


def searchable_text(segment: Segment) -> str:
    """The segment's plain text, without tags and without locked tag content."""
    locked = {tag.id for tag in segment.tags if tag.is_locked}
    out, skip, pos = [], None, 0
    for match in TAG_RE.finditer(segment.text):
        if skip is None:
            out.append(segment.text[pos : match.start()])
        pos = match.end()
        number = int(match.group(2))
        if skip is None and not match.group(1) and number in locked:
            skip = number
        elif skip == number and match.group(1):
            skip = None
        out.append(" ")
    out.append(segment.text[pos:])
    return "".join(out)


def misses(answer: str, terms: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """The terms whose target form does not appear in `answer`."""
    plain = TAG_RE.sub(" ", answer)
    return [(s, t) for s, t in terms if not contains_term(plain, t)]


def load(path: Path) -> Glossary:
    """Read a glossary file (.tsv, .csv or .json)."""
    return parse(path, _read(path))


def parse(name: PurePath, text: str) -> Glossary:
    """The terms of a glossary file's `text`; `name`'s suffix gives its format (.tsv,
    .csv, .json) and messages name it (nothing is read from it: uploads too)."""
    return Glossary(tuple(term for term, _ in _located_terms(name, text)))


Located = tuple[Term, str]
"""A term and where it was read (`file:line`)."""


def _located_terms(path: PurePath, text: str) -> list[Located]:
    suffix = path.suffix.lower()
    if suffix == ".json":
        terms = _json_terms(path, text)
    elif suffix in (".tsv", ".tab", ".txt"):
        terms = _table_terms(path, text, "\t")
    elif suffix == ".csv":
        terms = _table_terms(path, text, ",")
    else:
        raise GlossaryError(f"{path}: unknown glossary format (use .tsv, .csv or .json)")
    refuse_conflicts(terms)
    return terms


def load_all(paths: Iterable[Path]) -> Glossary:
    """Read and merge several glossary files; conflicting terms raise GlossaryError."""
    located: list[Located] = []
    for path in paths:
        located += [(term, where) for term, where in _located_terms(path, _read(path))]
    refuse_conflicts(located)
    return Glossary(tuple(term for term, _ in located))


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise GlossaryError(f"{path}: cannot read glossary: {error}") from None


def refuse_conflicts(terms: Sequence[Located]) -> None:
    """Raise GlossaryError when one source term (same languages, any case) has two
    different targets; the message names both places."""
    seen: dict[tuple[str, str | None, str | None], Located] = {}
    for term, where in terms:
        key = (term.source.casefold(), term.source_lang, term.target_lang)
        first = seen.setdefault(key, (term, where))
        if first[0].target != term.target:
            raise GlossaryError(
                f"{where}: term {term.source!r} has two targets: "
                f"{first[0].target!r} ({first[1]}) and {term.target!r}")


_ROLES = {
    "source": {"source", "src", "term", "source_term"},
    "target": {"target", "tgt", "translation", "target_term"},
    "source_lang": {"source_lang", "source_language", "from"},
    "target_lang": {"target_lang", "target_language", "to"},
}


def _table_terms(path: PurePath, text: str, delimiter: str) -> list[Located]:
    rows = [(n, r) for n, r in enumerate(csv.reader(io.StringIO(text), delimiter=delimiter), 1)
            if r and not r[0].lstrip().startswith("#")]
    if not rows:
        return []
    header = [cell.strip().lower() for cell in rows[0][1]]
    columns, langs = _columns(header)
    if columns is None:
        columns, langs = {"source": 0, "target": 1}, (None, None)
    else:
        _warn_unused_columns(path, header, columns)
        rows = rows[1:]
    _warn_extra_cells(path, rows, columns)
    return [(_row_term(path, n, row, columns, langs), f"{path}:{n}") for n, row in rows]


def _warn_unused_columns(path: PurePath, header: list[str], columns: dict[str, int]) -> None:
    used = set(columns.values())
    unused = [name or f"#{i + 1}" for i, name in enumerate(header) if i not in used]
    if unused:
        log.warning("glossary %s: column(s) %s ignored (known: source, target, "
                    "source_lang, target_lang)", path, ", ".join(map(repr, unused)))


def _warn_extra_cells(path: PurePath, rows: list[tuple[int, list[str]]],
                      columns: dict[str, int]) -> None:
    """Warn once when data rows hold values in columns no role reads."""
    width = max(columns.values()) + 1
    for line, row in rows:
        if any(cell.strip() for cell in row[width:]):
            log.warning("glossary %s:%d: %d column(s), only %d are read; the rest "
                        "is ignored", path, line, len(row), width)
            return


Languages = tuple[str | None, str | None]


def _columns(header: list[str]) -> tuple[dict[str, int] | None, Languages]:
    """Column roles from a header row (None when the first row is data), and the
    languages a header of two language codes (`en<TAB>zh`) fixes for every row."""
    roles: dict[str, int] = {}
    for i, name in enumerate(header):
        for role, names in _ROLES.items():
            if name in names:
                roles[role] = i
    if "source" in roles and "target" in roles:
        return roles, (None, None)
    codes = [_code(name) for name in header[:2]]
    if len(codes) == 2 and all(codes):
        return {"source": 0, "target": 1}, (codes[0], codes[1])
    return None, (None, None)


def _code(name: str) -> str | None:
    try:
        return resolve(name).code
    except UnknownLanguage:
        return None


def _row_term(
    path: PurePath, line: int, row: list[str], columns: dict[str, int], langs: Languages
) -> Term:
    def cell(role: str) -> str | None:
        i = columns.get(role)
        value = row[i].strip() if i is not None and i < len(row) else ""
        return value or None

    source, target = cell("source"), cell("target")
    if not source or not target:
        raise GlossaryError(f"{path}:{line}: expected a source and a target term")
    src_lang = langs[0] or cell("source_lang")
    tgt_lang = langs[1] or cell("target_lang")
    return Term(source, target, _checked_code(path, line, src_lang),
                _checked_code(path, line, tgt_lang))


def _checked_code(path: PurePath, line: int, code: str | None) -> str | None:
    if code is None:
        return None
    try:
        return resolve(code).code
    except UnknownLanguage:
        raise GlossaryError(f"{path}:{line}: unknown language {code!r}") from None


def _json_terms(path: PurePath, text: str) -> list[Term]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise GlossaryError(f"{path}:{error.lineno}: invalid JSON: {error.msg}") from None
    if isinstance(data, dict) and "terms" in data:
        if not _is_object_list(data["terms"]):
            raise GlossaryError(f"{path}: \"terms\" must be a list of "
                                "{source, target} objects")
        defaults = {k: data.get(k) for k in ("source_lang", "target_lang")}
        data = [{**defaults, **item} for item in data["terms"]]
    elif isinstance(data, dict):
        data = [{"source": k, "target": v} for k, v in data.items()]
    if not _is_object_list(data):
        raise GlossaryError(f"{path}: expected a list of {{source, target}} objects")
    columns = {"source": 0, "target": 1, "source_lang": 2, "target_lang": 3}
    _warn_unknown_keys(path, data, columns)
    rows = [[_json_cell(path, n, d.get(k)) for k in columns]
            for n, d in enumerate(data, 1)]
    return [(_row_term(path, n, row, columns, (None, None)), f"{path}: term {n}")
            for n, row in enumerate(rows, 1)]


def _is_object_list(data: object) -> bool:
    return isinstance(data, list) and all(isinstance(d, dict) for d in data)


def _json_cell(path: PurePath, number: int, value: object) -> str:
    if value is None or isinstance(value, str):
        return value or ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise GlossaryError(f"{path}: term {number}: expected strings, not {value!r}")


def _warn_unknown_keys(path: PurePath, data: list[dict], columns: dict[str, int]) -> None:
    unknown = sorted({k for d in data for k in d if k not in columns})
    if unknown:
        log.warning("glossary %s: key(s) %s ignored (known: source, target, "
                    "source_lang, target_lang)", path, ", ".join(map(repr, unknown)))
