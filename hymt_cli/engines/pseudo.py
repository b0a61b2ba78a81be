"""Pseudo-localisation: a deterministic stand-in translation that keeps tags.

Letters get accents, text grows by about 30 % and each segment is bracketed, so
untranslated strings, truncation and broken markup stand out without a model.
"""

from __future__ import annotations

from collections.abc import Sequence

from hymt_cli.document import TAG_RE
from hymt_cli.engines.base import EngineBase, Request

_ACCENTED = str.maketrans(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "àƀçđéƒĝĥíĵķĺɱñóþǫŕšŧúṽŵẋýžÀƁÇĐÉƑĜĤÍĴĶĹṀÑÓÞǪŔŠŦÚṼŴẊÝŽ",
)
_PAD = "·"
EXPANSION = 0.3


def pseudo_translate(text: str) -> str:
    """Accent the plain text of `text`, pad it by ~30 % and bracket it; tags stay."""
    parts = TAG_RE.split(text)
    # split() with two groups yields [text, slash, number, text, slash, number, ...]
    plain = parts[0::3]
    accented = [run.translate(_ACCENTED) for run in plain]
    letters = sum(ch.isalpha() for run in plain for ch in run)
    if letters == 0:
        return text
    pad = _PAD * max(1, round(letters * EXPANSION))
    accented[0] = "[" + accented[0]
    accented[-1] = accented[-1] + " " + pad + "]"
    out = [accented[0]]
    for i in range(1, len(accented)):
        slash, number = parts[3 * i - 2], parts[3 * i - 1]
        out.append(f"<{slash}s{number}>")
        out.append(accented[i])
    return "".join(out)


class PseudoEngine(EngineBase):
    """Pseudo-localises every request (see `pseudo_translate`)."""

    name = "pseudo"

    def translate_batch(self, requests: Sequence[Request]) -> list[str]:
        """Pseudo-localise each request's text."""
        return [pseudo_translate(r.text) for r in requests]
