"""Check an engine's answer against its segment: every tag exactly once, nested.

Between the engines and rendering. `clean_answer` is the one answer cleaner
(fences, prefixes, `<target>`/`<source>` wrappers); engines return raw answers
and `repair` cleans them first, then undoes the usual slips (wrappers, echoed prompts, notes, tags spelt
`<1>` or `<S1>`, unknown or duplicated tags, spaces moved inside tags); what still
fails is rejected, and the pipeline retries or falls back, so the document
structure is always intact.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hymt_cli.document import TAG_RE, Segment

_LOOSE_TAG_RE = re.compile(r"<\s*(/?)\s*[sS]?\s*(\d+)\s*>")
_WRAPPER_RE = re.compile(r"</?\s*(?:target|source|translation)\s*>", re.IGNORECASE)
_FENCE_RE = re.compile(r"\A```[\w+-]*[ \t]*\n(.*?)\n?```\Z", re.DOTALL)
_PREFIX_RE = re.compile(
    r"\A(?:here is the translation|translation|translated text|译文|翻译结果|翻译)"
    r"\s*[:：]\s*",
    re.IGNORECASE,
)
_SOURCE_ECHO_RE = re.compile(r"\A<source>.*?</source>\s*(?=\S)", re.DOTALL)
_TARGET_RE = re.compile(r"<target>(.*?)(?:</target>|\Z)", re.DOTALL | re.IGNORECASE)
_NOTE_RE = re.compile(
    r"\n\s*(?:\(?\s*(?:note|notes|explanation|translator'?s? note)\s*[:：)]"
    r"|[（(]?\s*(?:注|注意|说明|解释)\s*[:：])",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Checked:
    """An answer after validation."""

    text: str
    """The text to render: the answer, repaired, or the source when rejected."""
    problem: str | None = None
    """Why the answer was rejected, or None when it was accepted."""
    repairs: tuple[str, ...] = ()
    """What was fixed to make the answer acceptable."""

    @property
    def ok(self) -> bool:
        """Whether the answer was accepted."""
        return self.problem is None


def tag_problem(segment: Segment, answer: str) -> str | None:
    """What is wrong with the tags of `answer`, or None when they are exact."""
    expected = {tag.id for tag in segment.tags}
    seen: set[int] = set()
    stack: list[int] = []
    for match in TAG_RE.finditer(answer):
        closing, number = match.group(1) == "/", int(match.group(2))
        if number not in expected:
            return f"unknown tag s{number}"
        if not closing:
            if number in seen:
                return f"tag s{number} appears twice"
            seen.add(number)
            stack.append(number)
        elif not stack or stack.pop() != number:
            return f"tag s{number} closed out of order"
    if stack:
        return f"tag s{stack[-1]} left open"
    if missing := expected - seen:
        return f"tag s{min(missing)} missing"
    return None


def check(segment: Segment, answer: str) -> Checked:
    """Accept `answer` for `segment` as it is (after trimming), or reject it."""
    cleaned = answer.strip()
    problem = tag_problem(segment, cleaned)
    if problem is None and not cleaned and segment.text.strip():
        problem = "empty answer"
    if problem is not None:
        return Checked(segment.text, problem)
    return Checked(cleaned)


def repair(segment: Segment, answer: str) -> Checked:
    """Accept `answer` after undoing the usual slips; reject what remains broken."""
    fixes: list[str] = []
    text = answer
    for step in (_unwrap, _drop_notes, _respell_tags, _drop_unknown_tags,
                 _drop_duplicate_tags, _move_spaces_out_of_tags):
        fixed = step(segment, text)
        if fixed != text:
            fixes.append(step.__name__.strip("_").replace("_", " "))
            text = fixed
    checked = check(segment, text)
    if not checked.ok:
        return Checked(segment.text, checked.problem, tuple(fixes))
    return Checked(checked.text, None, tuple(fixes))


def clean_answer(answer: str, tagged: bool) -> str:
    """The translation inside a model answer: code fences, `Translation:`-style
    prefixes, an echoed `<source>` (tagged prompts) and wrappers removed; the
    text inside the first `<target>` when there is one."""
    text = _unfence(_PREFIX_RE.sub("", _unfence(answer.strip()), count=1).strip())
    if tagged:
        text = _SOURCE_ECHO_RE.sub("", text)
    if target := _TARGET_RE.search(text):
        text = target.group(1)
    text = _WRAPPER_RE.sub("", text).strip()
    return _PREFIX_RE.sub("", text).strip()


def _unfence(text: str) -> str:
    fence = _FENCE_RE.match(text)
    return fence.group(1).strip() if fence else text


def _unwrap(segment: Segment, text: str) -> str:
    return clean_answer(text, tagged=TAG_RE.search(segment.text) is not None)


def _drop_notes(segment: Segment, text: str) -> str:
    if "\n" in segment.text:
        return text
    match = _NOTE_RE.search(text)
    return text[: match.start()].strip() if match and match.start() > 0 else text


def _respell_tags(segment: Segment, text: str) -> str:
    return _LOOSE_TAG_RE.sub(lambda m: f"<{m.group(1)}s{int(m.group(2))}>", text)


def _drop_unknown_tags(segment: Segment, text: str) -> str:
    known = {tag.id for tag in segment.tags}
    return TAG_RE.sub(lambda m: m.group() if int(m.group(2)) in known else "", text)


def _drop_duplicate_tags(segment: Segment, text: str) -> str:
    """Keep the first open and the first close after it of each tag; drop repeats."""
    opened: set[int] = set()
    closed: set[int] = set()

    def keep(match: re.Match[str]) -> str:
        number = int(match.group(2))
        if match.group(1) != "/":
            if number in opened:
                return ""
            opened.add(number)
            return match.group()
        if number in closed or number not in opened:
            return ""
        closed.add(number)
        return match.group()

    return TAG_RE.sub(keep, text)


def _move_spaces_out_of_tags(segment: Segment, text: str) -> str:
    """`<s1> word </s1>` -> ` <s1>word</s1> ` where the source had no such spaces.

    One pass over the answer's runs (text and tags alternate), so the cost is
    linear in its length whatever the number of tags.
    """
    tight = _tight_tags(segment)
    if not tight:
        return text
    runs = [run for _, run in plain_runs(text)]  # even: text, odd: a tag
    for index in range(1, len(runs), 2):
        match = TAG_RE.fullmatch(runs[index])
        if match is None or int(match.group(2)) not in tight:
            continue
        if match.group(1) == "/":
            _space_after(runs, index)
        else:
            _space_before(runs, index)
    return "".join(runs)


def _tight_tags(segment: Segment) -> set[int]:
    """Unlocked tags whose content in the source has no outer white space."""
    opened: dict[int, int] = {}
    tight: set[int] = set()
    locked = {tag.id for tag in segment.tags if tag.is_locked}
    for match in TAG_RE.finditer(segment.text):
        number = int(match.group(2))
        if match.group(1) != "/":
            opened.setdefault(number, match.end())
        elif number in opened and number not in locked:
            inner = segment.text[opened[number] : match.start()]
            if not (inner[:1].isspace() or inner[-1:].isspace()):
                tight.add(number)
    return tight


def _space_before(runs: list[str], index: int) -> None:
    """Move the white space just inside an opening tag to before it."""
    after = runs[index + 1]
    inner = after[: len(after) - len(after.lstrip())]
    if not inner:
        return
    runs[index + 1] = after[len(inner) :]
    if not runs[index - 1][-1:].isspace():
        runs[index - 1] += inner


def _space_after(runs: list[str], index: int) -> None:
    """Move the white space just inside a closing tag to after it."""
    before = runs[index - 1]
    inner = before[len(before.rstrip()) :]
    if not inner:
        return
    runs[index - 1] = before[: len(before) - len(inner)]
    if not runs[index + 1][:1].isspace():
        runs[index + 1] = inner + runs[index + 1]


def plain_runs(text: str) -> list[tuple[bool, str]]:
    """Split tagged text into (is_plain, piece) runs; tags are pieces of their own."""
    runs: list[tuple[bool, str]] = []
    pos = 0
    for match in TAG_RE.finditer(text):
        runs.append((True, text[pos : match.start()]))
        runs.append((False, match.group()))
        pos = match.end()
    runs.append((True, text[pos:]))
    return runs


def strip_tags(text: str) -> str:
    """`text` without anything that looks like a format tag or a wrapper."""
    return _WRAPPER_RE.sub("", _LOOSE_TAG_RE.sub("", text))
