"""The fallback: whole-segment plain translation with tags realigned, then per run."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from hymt_cli import realign
from hymt_cli.document import TAG_RE
from hymt_cli.documents import segment
from hymt_cli.engines import base, create
from hymt_cli.engines.base import EngineBase, Request
from hymt_cli.languages import resolve
from hymt_cli.pipeline import Job, translate_document
from hymt_cli.prompts import is_tagged
from hymt_cli.validate import repair

WORDS = {"say": "sag", "hello": "hallo", "big": "große", "world": "welt", "to": "zu",
         "now": "jetzt", "the": "die", "red": "rote", "cat": "katze", "sleeps": "schläft"}


def word_by_word(text: str) -> str:
    """A dictionary translator: each known word mapped, case kept for the first letter."""
    out = []
    for word in text.split(" "):
        core = word.strip(".,")
        new = WORDS.get(core.lower(), core)
        new = new.capitalize() if core[:1].isupper() else new
        out.append(word.replace(core, new) if core else word)
    return " ".join(out)


class Scripted(EngineBase):
    """Breaks every tagged answer; translates plain requests with `plain`."""

    name = "scripted-fallback"

    def __init__(self, plain=word_by_word) -> None:
        self.plain = plain
        self.batches: list[list[Request]] = []

    def translate_batch(self, requests: Sequence[Request]) -> list[str]:
        self.batches.append(list(requests))
        return [TAG_RE.sub("", r.text) if is_tagged(r.text) else self.plain(r.text)
                for r in requests]


@pytest.fixture
def engine(monkeypatch: pytest.MonkeyPatch) -> Scripted:
    scripted = Scripted()
    monkeypatch.setitem(base._REGISTRY, "scripted-fallback", lambda **_: scripted)
    return create("scripted-fallback")  # type: ignore[return-value]


def _translate(source: str, engine: EngineBase) -> tuple[str, object]:
    return translate_document(Job("doc", segment(source, "md"), resolve("de")), engine)


def test_realigned_tags_surround_the_right_words(engine: Scripted) -> None:
    text, report = _translate("Say **hello** to the *red* cat now.\n", engine)
    assert text == "Sag **hallo** zu die *rote* katze jetzt.\n"
    assert (report.realigned, report.fallbacks, report.retries) == (1, 0, 1)
    assert "s1: realigned (translated without tags, tags put back)" in report.problems
    plain = [r.text for r in engine.batches[-1]]
    assert plain == ["Say hello to the red cat now.", "hello", "red"]  # one call


def test_a_lost_run_falls_back_to_per_run_translation(engine: Scripted) -> None:
    engine.plain = lambda text: {"hello": "servus"}.get(text, word_by_word(text))
    text, report = _translate("Say **hello** to the cat.\n", engine)
    assert text == "Sag **servus** zu die katze.\n"
    assert (report.realigned, report.fallbacks) == (0, 1)
    assert report.problems[-1] == "s1: fallback (runs between tags translated one by one)"


def test_nested_tags_and_locked_code_are_realigned(engine: Scripted) -> None:
    text, report = _translate("Say **hello *big* world** to `make` now.\n", engine)
    assert text == "Sag **hallo *große* welt** zu `make` jetzt.\n"
    assert (report.realigned, report.fallbacks) == (1, 0)


def test_locked_code_translated_in_the_sentence_is_found_by_its_translation(
    engine: Scripted,
) -> None:
    engine.plain = lambda text: word_by_word(text.replace("make", "machen"))
    text, report = _translate("Say `make` now.\n", engine)
    assert text == "Sag `make` jetzt.\n"  # the code is restored from the source
    assert (report.realigned, report.fallbacks) == (1, 0)


def test_locked_code_found_nowhere_falls_back(engine: Scripted) -> None:
    engine.plain = lambda text: "bauen" if text == "make" else word_by_word(
        text.replace("make", "machen"))
    text, report = _translate("Say `make` now.\n", engine)
    assert text == "Sag `make` jetzt.\n"
    assert (report.realigned, report.fallbacks) == (0, 1)


def test_an_empty_locked_tag_goes_to_its_proportional_place(engine: Scripted) -> None:
    text, report = _translate("Say hello  \nto the world.\n", engine)
    assert text == "Sag hallo  \nzu die welt.\n"
    assert (report.realigned, report.fallbacks) == (1, 0)


def test_several_segments_share_the_fallback_calls(engine: Scripted) -> None:
    text, report = _translate("Say **hello**.\n\nThe *cat* sleeps.\n", engine)
    assert text == "Sag **hallo**.\n\nDie *katze* schläft.\n"
    assert report.realigned == 2 and len(engine.batches) == 3


def test_a_realigned_answer_passes_validation() -> None:
    seg = segment("Say **hello *big* world** to `make` now.\n", "md").segments()[0]
    plan = realign.plan(seg, Request(seg.text, resolve("de")))
    assert plan is not None
    answers = {r: word_by_word(r.text) for r in plan.requests}
    answer = realign.finish(plan, answers)
    assert answer == "Sag <s1>hallo <s2>große</s2> welt</s1> zu <s3>make</s3> jetzt."
    assert repair(seg, answer).ok and not repair(seg, answer).repairs


def test_added_punctuation_and_case_are_matched() -> None:
    seg = segment("Say **hello** now.\n", "md").segments()[0]
    plan = realign.plan(seg, Request(seg.text, resolve("de")))
    assert plan is not None
    answers = {plan.whole: "Sag  HALLO jetzt.", plan.inner[1]: "«Hallo.»"}
    assert realign.finish(plan, answers) == "Sag  <s1>HALLO</s1> jetzt."


def test_a_word_inside_another_is_not_a_match() -> None:
    seg = segment("Say **hello** now.\n", "md").segments()[0]
    plan = realign.plan(seg, Request(seg.text, resolve("de")))
    assert plan is not None
    answers = {plan.whole: "Sag hallowelt jetzt.", plan.inner[1]: "hallo"}
    assert realign.finish(plan, answers) is None
