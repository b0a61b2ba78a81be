"""Render a translated document and check its structure before it is written.

The step after validation: `render_checked` renders the answers into the
document (`Document.render`) and compares the result's structure with the
source's (`structure`); a segment whose translation changes it keeps its source
text. The pipeline reports those segments as fallbacks; then `run` writes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from hymt_cli.document import Document
from hymt_cli.structure import events_digest, same_events

Digests = dict[int, tuple[Document, bytes]]
"""Source structure digests by document id (the document kept to check identity)."""


def render_checked(
    document: Document, translations: Mapping[str, str], digests: Digests | None = None
) -> tuple[str, list[str]]:
    """The rendered document, its structure checked against the source's.

    Validated answers keep their tags, and adapters escape what they render, so
    this should hold; if it does not, the segments that break it are found by
    halving and keep their source text (returned, in document order, for the
    caller to report): a document is never written with markup its source does
    not have. `digests` keeps each source's structure digest, so a document
    checked for several targets is parsed for its structure once.
    """
    text = document.render(translations)
    structure = document.structure
    if structure is None or text == document.source:
        return text, []
    if events_digest(structure(text)) == _source_digest(document, digests):
        return text, []
    source = document.source

    def keeps(reverted: set[str]) -> bool:
        kept = {k: v for k, v in translations.items() if k not in reverted}
        return same_events(structure(source), structure(document.render(kept)))

    if keeps(set()):
        return text, []
    changed = [s.id for s in document.segments()
               if translations.get(s.id, s.text) != s.text]
    broken = _culprits(changed, set(), keeps)
    kept = {k: v for k, v in translations.items() if k not in broken}
    return document.render(kept), [sid for sid in changed if sid in broken]


def _source_digest(document: Document, digests: Digests | None) -> bytes:
    """The digest of `document`'s source structure, computed once per document."""
    cached = digests.get(id(document)) if digests is not None else None
    if cached is not None and cached[0] is document:
        return cached[1]
    assert document.structure is not None
    digest = events_digest(document.structure(document.source))
    if digests is not None:
        digests[id(document)] = (document, digest)
    return digest


def _culprits(
    candidates: list[str], reverted: set[str], keeps: Callable[[set[str]], bool]
) -> set[str]:
    """The fewest of `candidates` to revert (besides `reverted`) for `keeps`,
    found by halving: about two checks per culprit per halving."""
    if not candidates or keeps(reverted):
        return set()
    if len(candidates) == 1:
        return set(candidates)
    half = len(candidates) // 2
    first, second = candidates[:half], candidates[half:]
    found = _culprits(first, reverted | set(second), keeps)
    return found | _culprits(second, reverted | found, keeps)
