"""Gates: reject answers whose tags are fine but whose text only looks translated.

Part of the flow documents → plan → pipeline → engines → validate/gates → render
→ write. `validate.repair` checks the tags first; then `reject` runs the gates a
run turns on (`gates` in hymt.toml, `--gates`, `--no-gates`) on the repaired
answer. A rejected answer is asked again (the echo gate's retry drops the
context, the others sample); `unchanged` reports prose returned as it came.

Only letters and text outside content-locked tags (code), URLs and e-mail
addresses count. There is no language identification: no library ships
reliable models offline for all 38 languages, so an answer in the source
language is only caught when it equals the source (`unchanged`), and an answer
in the wrong language of the target's script passes.
"""

from __future__ import annotations

import functools
import re
from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass

from hymt_cli.document import TAG_RE, Segment
from hymt_cli.engines.base import Request
from hymt_cli.languages import Language

GATES = ("echo", "length", "repetition", "script", "untranslated")
"""Every gate, in the order they run; `untranslated` only reports (`unchanged`)."""

SOURCE_LANGUAGE_ENGINES = frozenset({"pseudo", "identity"})
"""Engines whose answers stay in the source language (pseudo-localisation, the
identity): the script gate expects the source text's scripts from them."""

UNCHANGED_ENGINES = frozenset({"identity"})
"""Engines that return every segment unchanged by design: nothing to report."""

ECHO_WORDS = 8
"""A run of this many context words in an answer, absent from the source, is an echo."""
ECHO_CHARS = 40
"""The same in characters (scripts written without spaces)."""

REPEAT_COUNT = 4
"""A 3-word n-gram this many times (and twice the source's most repeated one)."""
_LOOP_RE = re.compile(r"(\w.{1,40}?)\1{4,}", re.DOTALL)
"""A unit of 2-41 characters five times back to back: a decoding loop."""

LENGTH_BAND = (0.4, 2.5)
"""Accepted answer/source length ratio, both measured in English-equivalent
characters (`SCRIPT_WEIGHT`). Published expansion tables (IBM's globalization
guidelines, W3C's "text size in translation") give long English strings +10-35 %
in German, French, Spanish, Tagalog and -20 % the other way; the pseudo engine
makes +30 % plus a bracket and padding. 2.5x and 1/2.5 stay well clear of all
of that and still catch answers cut short or grown with explanations."""
LENGTH_SLACK = 10
"""English-equivalent characters of slack on each side: a few-word segment
(`OK` -> `[ÓĶ ·]`, `Settings` -> `設定`) is never judged by its ratio."""

SCRIPT_SHARE = 0.5
"""An answer needs at least this share of its own letters in the target's scripts."""
SCRIPT_MIN_LETTERS = 3
"""Fewer letters of its own than this: the script gate has nothing to judge."""

_RANGES = (  # (first code point, script); a script runs to the next entry
    (0x0041, "Latin"), (0x0250, "Latin"), (0x02B0, None), (0x0370, "Greek"),
    (0x0400, "Cyrillic"), (0x0530, "Armenian"), (0x0590, "Hebrew"),
    (0x0600, "Arabic"), (0x0700, None), (0x0750, "Arabic"), (0x0780, None),
    (0x08A0, "Arabic"), (0x0900, "Devanagari"), (0x0980, "Bengali"),
    (0x0A00, None), (0x0A80, "Gujarati"), (0x0B00, None), (0x0B80, "Tamil"),
    (0x0C00, "Telugu"), (0x0C80, None), (0x0E00, "Thai"), (0x0E80, None),
    (0x0F00, "Tibetan"), (0x1000, "Myanmar"), (0x10A0, None), (0x1100, "Hangul"),
    (0x1200, None), (0x1780, "Khmer"), (0x1800, "Mongolian"), (0x18B0, None),
    (0x19E0, "Khmer"), (0x1A00, None), (0x1C80, "Cyrillic"), (0x1C90, None),
    (0x1D00, "Latin"), (0x1DC0, None), (0x1E00, "Latin"), (0x1F00, "Greek"),
    (0x2000, None), (0x2C60, "Latin"), (0x2C80, None), (0x2DE0, "Cyrillic"),
    (0x2E00, None), (0x2E80, "Han"), (0x2FE0, None), (0x3005, "Han"),
    (0x3008, None), (0x3040, "Kana"), (0x3100, "Bopomofo"), (0x3130, "Hangul"),
    (0x3190, None), (0x31A0, "Bopomofo"), (0x31C0, None), (0x31F0, "Kana"),
    (0x3200, None), (0x3400, "Han"), (0x4DC0, None), (0x4E00, "Han"),
    (0xA000, None), (0xA640, "Cyrillic"), (0xA6A0, None), (0xA720, "Latin"),
    (0xA800, None), (0xA8E0, "Devanagari"), (0xA900, None), (0xA960, "Hangul"),
    (0xA980, None), (0xA9E0, "Myanmar"), (0xAA00, None), (0xAA60, "Myanmar"),
    (0xAA80, None), (0xAC00, "Hangul"), (0xD800, None), (0xF900, "Han"),
    (0xFB00, None), (0xFB1D, "Hebrew"), (0xFB50, "Arabic"), (0xFE00, None),
    (0xFE70, "Arabic"), (0xFF00, None), (0xFF21, "Latin"), (0xFF5B, None),
    (0xFF66, "Kana"), (0xFFA0, "Hangul"), (0xFFE0, None), (0x1B000, "Kana"),
    (0x1B100, None), (0x20000, "Han"), (0x40000, None),
)
_STARTS = [start for start, _ in _RANGES]

SCRIPTS: dict[str, frozenset[str]] = {
    **dict.fromkeys(("en", "fr", "pt", "es", "tr", "it", "de", "vi", "ms", "id",
                     "tl", "pl", "cs", "nl"), frozenset({"Latin"})),
    **dict.fromkeys(("ru", "uk", "kk"), frozenset({"Cyrillic"})),
    "mn": frozenset({"Cyrillic", "Mongolian"}),  # Cyrillic in practice
    **dict.fromkeys(("zh", "yue"), frozenset({"Han"})),
    "zh-Hant": frozenset({"Han", "Bopomofo"}),
    "ja": frozenset({"Han", "Kana"}),
    "ko": frozenset({"Hangul", "Han"}),  # hanja appear in formal Korean
    **dict.fromkeys(("ar", "fa", "ur", "ug"), frozenset({"Arabic"})),
    **dict.fromkeys(("hi", "mr"), frozenset({"Devanagari"})),
    "he": frozenset({"Hebrew"}), "th": frozenset({"Thai"}),
    "bn": frozenset({"Bengali"}), "ta": frozenset({"Tamil"}),
    "te": frozenset({"Telugu"}), "gu": frozenset({"Gujarati"}),
    "km": frozenset({"Khmer"}), "my": frozenset({"Myanmar"}),
    "bo": frozenset({"Tibetan"}),
}
"""The scripts each of the 38 languages is written in."""

SCRIPT_WEIGHT: dict[str | None, float] = {
    "Han": 3.3, "Kana": 2.0, "Hangul": 2.0, "Bopomofo": 2.0, "Hebrew": 1.25,
    "Arabic": 1.1, "Tamil": 0.8, "Myanmar": 0.75, "Tibetan": 0.85, "Khmer": 0.9,
    "Telugu": 0.9, "Cyrillic": 0.9,
}
"""English characters one character of a script stands for (1 when not listed):
parallel text runs about 0.3 Han, 0.5 Hangul or kana, 0.8 Hebrew, 0.9 Arabic,
1.1 Cyrillic, 1.25 Tamil and 1.3 Burmese characters per English one."""

_URL_RE = re.compile(r"\b[a-z][a-z0-9+.-]*://\S+|\bwww\.\S+|\S+@\S+\.\w+", re.I)
_WORD_RE = re.compile(r"\w+")


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why a gate refused an answer."""

    gate: str
    detail: str

    def __str__(self) -> str:
        """`script gate: ...`, as problems lines show it."""
        return f"{self.gate} gate: {self.detail}"


@functools.lru_cache(maxsize=8192)
def script_of(ch: str) -> str | None:
    """The script of one character as the gates group them (None: other)."""
    return _RANGES[bisect_right(_STARTS, ord(ch)) - 1][1] if ord(ch) >= 0x41 else None


def visible(segment: Segment, text: str) -> str:
    """`text` without tags, content-locked tag content, URLs and e-mail addresses."""
    locked = {tag.id for tag in segment.tags if tag.is_locked}
    pieces, hidden, pos = [], 0, 0
    for match in TAG_RE.finditer(text):
        if not hidden:
            pieces.append(text[pos : match.start()])
        if int(match.group(2)) in locked:
            hidden += -1 if match.group(1) == "/" else 1
        pos = match.end()
    pieces.append(text[pos:] if not hidden else "")
    return _URL_RE.sub(" ", " ".join(pieces))


def reject(
    segment: Segment, request: Request, answer: str, gates: frozenset[str],
    engine: str = "",
) -> Rejection | None:
    """The first gate of `gates` that refuses `answer` for `segment`, or None.

    An answer equal to the source passes: it is `unchanged`'s to report."""
    if answer.strip() == segment.text.strip():
        return None
    source, text = visible(segment, segment.text), visible(segment, answer)
    if "echo" in gates and (found := echo(request.context, source, text)):
        return Rejection("echo", f"repeats the context: {found[:60]!r}")
    if "script" in gates and (problem := script_problem(
            source, text, _scripts(request.target, source, engine))):
        return Rejection("script", problem)
    if "repetition" in gates and (problem := repetition(source, text)):
        return Rejection("repetition", problem)
    if "length" in gates and (problem := length_problem(source, text)):
        return Rejection("length", problem)
    return None


def unchanged(segment: Segment, answer: str) -> bool:
    """Whether `answer` returns a prose segment (two words, or four letters of a
    script written without spaces) as it came."""
    if answer.strip() != segment.text.strip():
        return False
    words = [w for w in _WORD_RE.findall(visible(segment, segment.text))
             if any(ch.isalpha() for ch in w)]
    return len(words) >= 2 or sum(map(len, words)) >= 4 and any(
        script_of(ch) in _UNSPACED for w in words for ch in w)


_UNSPACED = frozenset({"Han", "Kana", "Thai", "Khmer", "Myanmar", "Tibetan"})


def echo(context: str, source: str, answer: str) -> str | None:
    """A run of `context` in `answer` (ECHO_WORDS words or ECHO_CHARS characters)
    that `source` lacks, or None."""
    if not context.strip():
        return None
    ctx, src, ans = (" ".join(t.casefold().split()) for t in (context, source, answer))
    words, plain = _WORD_RE.findall(ans), " ".join(_WORD_RE.findall(src))
    seen = _ngrams(_WORD_RE.findall(ctx), ECHO_WORDS)
    for i in range(len(words) - ECHO_WORDS + 1):
        run = tuple(words[i : i + ECHO_WORDS])
        if run in seen and " ".join(run) not in plain:
            return " ".join(run)
    for i in range(len(ans) - ECHO_CHARS + 1):
        run = ans[i : i + ECHO_CHARS]
        if run in ctx and run not in src:
            return run
    return None


def _ngrams(words: list[str], n: int) -> set[tuple[str, ...]]:
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def _scripts(target: Language, source: str, engine: str) -> frozenset[str]:
    """The scripts an answer should be in: the target's, or for an engine that
    keeps the source language, those of the source's letters."""
    if engine in SOURCE_LANGUAGE_ENGINES:
        return frozenset(script_of(ch) for ch in source if ch.isalpha()) - {None}
    return SCRIPTS.get(target.code, frozenset())


def script_problem(source: str, answer: str, scripts: frozenset[str]) -> str | None:
    """Why `answer`'s own letters (words not copied from `source`) are mostly
    outside `scripts`, or None."""
    if not scripts:
        return None
    copied = {w.casefold() for w in _WORD_RE.findall(source)}
    own = Counter("".join(w for w in _WORD_RE.findall(answer) if w.casefold() not in copied))
    counts: Counter[str | None] = Counter()
    for ch, n in own.items():
        if ch.isalpha():
            counts[script_of(ch)] += n
    total = sum(counts.values())
    if total < SCRIPT_MIN_LETTERS:
        return None
    inside = sum(n for script, n in counts.items() if script in scripts)
    if inside >= SCRIPT_SHARE * total:
        return None
    main = max(counts, key=lambda s: counts[s]) or "other"
    return f"{total - inside} of {total} letters outside {'/'.join(sorted(scripts))} " \
           f"(mostly {main})"


def repetition(source: str, answer: str) -> str | None:
    """Why `answer` repeats itself where `source` does not (a 3-word n-gram
    REPEAT_COUNT times, or a decoding loop), or None."""
    loop = _LOOP_RE.search(answer)
    if loop and not _LOOP_RE.search(source):
        return f"{loop.group(1)[:30]!r} repeated back to back"
    found, count = _most_repeated(answer)
    _, in_source = _most_repeated(source)
    if count >= REPEAT_COUNT and count > 2 * in_source:
        return f"{' '.join(found)!r} {count} times (source: at most {in_source})"
    return None


def _most_repeated(text: str) -> tuple[tuple[str, ...], int]:
    """The most frequent 3-word n-gram of `text` and its count."""
    words = [w.casefold() for w in _WORD_RE.findall(text)]
    counts = Counter(tuple(words[i : i + 3]) for i in range(len(words) - 2))
    return counts.most_common(1)[0] if counts else ((), 0)


def weighted_length(text: str) -> float:
    """`text`'s length in English-equivalent characters (white space not counted)."""
    return sum(n * SCRIPT_WEIGHT.get(script_of(ch), 1.0)
               for ch, n in Counter(text).items() if not ch.isspace())


def length_problem(source: str, answer: str) -> str | None:
    """Why `answer` is too short or too long for `source` (LENGTH_BAND, with
    LENGTH_SLACK), or None."""
    low, high = LENGTH_BAND
    have, want = weighted_length(answer), weighted_length(source)
    if low * want - LENGTH_SLACK <= have <= high * want + LENGTH_SLACK:
        return None
    return f"{have / max(want, 1):.2f}x the source's length (band {low}-{high})"
