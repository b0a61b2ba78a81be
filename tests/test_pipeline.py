"""The pipeline: batching, target-set segments, validation and fallback counts."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from hymt_cli.document import Document, SegmentBuilder
from hymt_cli.engines import base, create, engine_names
from hymt_cli.engines.base import EngineBase, Request
from hymt_cli.languages import resolve
from hymt_cli.pipeline import Job, Settings, translate, translate_document


def _doc(*texts: str, lang: bool = False) -> Document:
    pieces: list = []
    for n, text in enumerate(texts, 1):
        b = SegmentBuilder("paragraph", 0)
        b.open("<b>", "b")
        b.text(text)
        b.close("</b>")
        pieces += [b.build(f"s{n}"), "\n"]
    if lang:
        pieces.insert(0, SegmentBuilder("lang", 0).build("lang"))
    return Document(tuple(pieces), "html")


class Recording(EngineBase):
    """Answers by a script and records the batches it was given."""

    name = "recording"

    def __init__(self, answer=lambda r: r.text.replace("a", "A")) -> None:
        self.count_tokens = lambda text: 1
        self.batches: list[list[Request]] = []
        self.answer = answer

    def translate_batch(self, requests: Sequence[Request]) -> list[str]:
        self.batches.append(list(requests))
        return [self.answer(r) for r in requests]


def test_segments_are_batched_in_order() -> None:
    engine = Recording(lambda r: r.text.replace("x", "y"))
    job = Job("doc", _doc("x1", "x2", "x3"), resolve("de"))
    text, report = translate_document(job, engine, batch_size=2)
    assert [len(b) for b in engine.batches] == [2, 1]
    assert text == "<b>y1</b>\n<b>y2</b>\n<b>y3</b>\n"
    assert (report.segments, report.translated, report.fallbacks) == (3, 3, 0)
    assert all(r.target.code == "de" for b in engine.batches for r in b)


def test_broken_answers_are_retried_then_realigned() -> None:
    def answer(r: Request) -> str:
        if r.attempt == 0 and "<s1>" in r.text:
            return "no tags at all"
        if "<s1>" in r.text:
            return "<s2>still broken</s2>"
        return f"<s7>{r.text.upper()}</s7>"  # a run: junk tags are stripped

    engine = Recording(answer)
    text, report = translate_document(Job("doc", _doc("a", "b"), resolve("fr")), engine)
    assert text == "<b>A</b>\n<b>B</b>\n"
    assert [len(b) for b in engine.batches] == [2, 2, 2]  # both fallbacks in one call
    assert (report.retries, report.realigned, report.fallbacks) == (2, 2, 0)
    assert report.problems[:2] == ["s1: rejected (tag s1 missing)",
                                   "s2: rejected (tag s1 missing)"]


MISBEHAVIOURS = {
    "wrapped": "<target>ONE <s1>TWO</s1> <s2>x</s2></target>",
    "explained": "ONE <s1>TWO</s1> <s2>x</s2>\n\nNote: I kept the tags.",
    "renamed": "ONE <1>TWO</1> <S2>x</S2>",
    "duplicated": "ONE <s1>TWO</s1> <s1>TWO</s1> <s2>x</s2>",
    "invented": "ONE <s1>TWO</s1> <s3></s3><s2>x</s2>",
    "fenced": "```\nONE <s1>TWO</s1> <s2>x</s2>\n```",
    "prefixed": "Translation: ONE <s1>TWO</s1> <s2>x</s2>",
    "spaced": "ONE<s1> TWO </s1><s2>x</s2>",
}


@pytest.mark.parametrize("behaviour", sorted(MISBEHAVIOURS))
def test_misbehaving_engine_is_repaired(behaviour: str) -> None:
    b = SegmentBuilder("paragraph", 0)
    b.text("one ")
    b.open("*", "em")
    b.text("two")
    b.close("*")
    b.text(" ")
    b.atomic("`x`", "x")
    doc = Document((b.build("s1"), "\n"), "md")
    engine = Recording(lambda r: MISBEHAVIOURS[behaviour])
    text, report = translate_document(Job("doc", doc, resolve("de")), engine)
    assert text.startswith("ONE *TWO*") and text.endswith("`x`\n")
    assert "?" not in text and "Note" not in text and "<" not in text
    assert (report.repairs, report.fallbacks, report.retries) == (1, 0, 0)
    assert report.problems[0].startswith("s1: repaired (")


def test_dropped_locked_tag_keeps_code_after_realignment() -> None:
    b = SegmentBuilder("paragraph", 0)
    b.text("run ")
    b.atomic("`make`", "make")
    b.text(" now")
    doc = Document((b.build("s1"),), "md")
    engine = Recording(lambda r: "LAUF JETZT" if "<s1>" in r.text else r.text.upper())
    text, report = translate_document(Job("doc", doc, resolve("de")), engine)
    assert text == "RUN `make` NOW"
    assert (report.realigned, report.fallbacks) == (1, 0)


def test_lang_segments_are_set_from_the_target_never_sent() -> None:
    engine = Recording()
    doc = _doc("a", lang=True)
    text, _ = translate_document(Job("doc", doc, resolve("zh-TW")), engine)
    assert all(r.kind != "lang" for b in engine.batches for r in b)
    assert text.startswith("zh-Hant<b>A</b>")


def test_translate_yields_every_job() -> None:
    jobs = [Job(f"d{i}", _doc(f"t{i}"), resolve("de")) for i in range(3)]
    done = [job.name for job, _, _ in translate(jobs, create("identity"))]
    assert done == ["d0", "d1", "d2"]


def test_builtin_engines_are_registered() -> None:
    assert {"identity", "pseudo"} <= set(engine_names())
    req = Request("Hi <s1>there</s1>", resolve("de"))
    assert create("identity").translate_batch([req]) == ["Hi <s1>there</s1>"]
    (pseudo,) = create("pseudo").translate_batch([req])
    assert pseudo.startswith("[Ĥí <s1>ŧĥéŕé</s1>") and pseudo.endswith("]")


def test_documents_share_batches_and_come_back_in_order() -> None:
    engine = Recording(lambda r: r.text.replace("t", "T"))
    jobs = [Job(f"d{i}", _doc(*(f"t{i}{j}" for j in range(i + 1))), resolve("de"))
            for i in range(3)]
    results = list(translate(jobs, engine, Settings(batch_size=4)))
    assert [len(b) for b in engine.batches] == [4, 2]
    assert [job.name for job, _, _ in results] == ["d0", "d1", "d2"]
    assert results[2][1] == "<b>T20</b>\n<b>T21</b>\n<b>T22</b>\n"


def test_context_is_preceding_source_trimmed_to_the_budget() -> None:
    engine = Recording(lambda r: r.text)
    texts = ["one two three", "four five", "six"]
    job = Job("doc", _doc(*texts), resolve("de"))
    counted = Settings(context_tokens=4)
    engine.count_tokens = lambda text: len(text.split())
    list(translate([job], engine, counted))
    contexts = [r.context for r in engine.batches[0]]
    assert contexts == ["", "one two three", "two three\nfour five"]
    # reset per document, and nothing from the context reaches the output
    again = list(translate([job, job], engine, counted))
    assert [r.context for r in engine.batches[1]][3] == ""
    assert again[1][1] == "<b>one two three</b>\n<b>four five</b>\n<b>six</b>\n"


def test_no_context_when_budget_is_zero() -> None:
    engine = Recording(lambda r: r.text)
    list(translate([Job("d", _doc("a", "b"), resolve("de"))], engine,
                   Settings(context_tokens=0)))
    assert [r.context for r in engine.batches[0]] == ["", ""]


def test_job_context_seeds_the_window_of_the_first_segments() -> None:
    engine = Recording(lambda r: r.text)
    engine.count_tokens = lambda text: len(text.split())
    job = Job("doc", _doc("four five", "six"), resolve("de"), context="one  two\nthree")
    text, _ = translate_document(job, engine, Settings(context_tokens=4))
    contexts = [r.context for r in engine.batches[0]]
    assert contexts == ["one two three", "two three\nfour five"]
    assert text == "<b>four five</b>\n<b>six</b>\n"  # the context is never rendered
    list(translate([job], engine, Settings(context_tokens=0)))
    assert [r.context for r in engine.batches[1]] == ["", ""]


def test_glossary_terms_go_to_their_segments_and_misses_are_reported() -> None:
    from hymt_cli.glossary import Glossary, Term

    glossary = Glossary((Term("branch", "Zweig"), Term("commit", "Commit", None, "fr")))
    engine = Recording(lambda r: r.text.replace("branch", "Ast"))
    job = Job("doc", _doc("a branch", "no terms", "commit"), resolve("de"))
    _, report = translate_document(job, engine, Settings(glossary=glossary))
    assert [r.terms for r in engine.batches[0]] == [(("branch", "Zweig"),), (), ()]
    assert report.glossary_misses == ["s1: branch -> Zweig"]


def test_long_segments_are_split_at_sentences_and_rejoined() -> None:
    engine = Recording(lambda r: r.text.upper())
    engine.count_tokens = lambda text: len(text.split())
    b = SegmentBuilder("paragraph", 0)
    b.text("One two. Three ")
    b.open("*", "em")
    b.text("four. five")
    b.close("*")
    b.text(". Six seven.")
    doc = Document((b.build("long"), "\n", *_doc("short").pieces), "md")
    text, report = translate_document(Job("d", doc, resolve("de")), engine,
                                      Settings(max_segment_tokens=3, context_tokens=0))
    assert [r.text for r in engine.batches[0]] == [
        "One two. ", "Three <s1>four. five</s1>. ", "Six seven.", "<s1>short</s1>"]
    assert text == "ONE TWO. THREE *FOUR. FIVE*. SIX SEVEN.\n<b>SHORT</b>\n"
    assert (report.segments, report.translated) == (2, 2)


def test_memory_answers_reruns_without_engine_calls(tmp_path) -> None:
    from hymt_cli.memory import TranslationMemory

    texts = ["one", "two", "three", "four"]
    with TranslationMemory.open(tmp_path / "m.sqlite") as memory:
        settings = Settings(memory=memory, context_tokens=0, batch_size=2)
        first = Recording(lambda r: r.text.upper())
        out1 = list(translate([Job("d", _doc(*texts), resolve("de"))], first, settings))
        assert sum(map(len, first.batches)) == 4

        again = Recording(lambda r: "SHOULD NOT BE ASKED")
        out2 = list(translate([Job("d", _doc(*texts), resolve("de"))], again, settings))
        assert again.batches == [] and out2[0][1] == out1[0][1]
        assert out2[0][2].from_memory == 4

        edited = Recording(lambda r: r.text.upper())
        texts[2] = "three, edited"
        out3 = list(translate([Job("d", _doc(*texts), resolve("de"))], edited, settings))
        assert [r.text for b in edited.batches for r in b] == ["<s1>three, edited</s1>"]
        assert "<b>THREE, EDITED</b>" in out3[0][1]
        # another target language is another key
        other = Recording(lambda r: r.text)
        list(translate([Job("d", _doc(*texts), resolve("fr"))], other, settings))
        assert sum(map(len, other.batches)) == 4


def test_edit_with_context_retranslates_the_segments_it_is_context_for(tmp_path) -> None:
    from hymt_cli.memory import TranslationMemory

    texts = ["alpha beta", "gamma delta", "epsilon zeta", "eta theta"]
    with TranslationMemory.open(tmp_path / "m.sqlite") as memory:
        settings = Settings(memory=memory, context_tokens=2)
        engine = Recording(lambda r: r.text.upper())
        engine.count_tokens = lambda text: len(text.split())
        list(translate([Job("d", _doc(*texts), resolve("de"))], engine, settings))
        engine.batches.clear()
        texts[1] = "gamma changed"
        list(translate([Job("d", _doc(*texts), resolve("de"))], engine, settings))
        # the edited segment, and the next one whose 2-token context it is
        assert [r.text for b in engine.batches for r in b] == [
            "<s1>gamma changed</s1>", "<s1>epsilon zeta</s1>"]


def test_imported_human_translations_are_used_when_their_tags_fit(tmp_path) -> None:
    from hymt_cli.memory import TranslationMemory, imported_entry

    with TranslationMemory.open(tmp_path / "m.sqlite") as memory:
        memory.store([
            imported_entry("en", "de", "<s1>one</s1>", "<s1>eins</s1>"),
            imported_entry("en", "de", "<s1>two</s1>", "zwei ohne Tags"),
        ])
        engine = Recording(lambda r: r.text.upper())
        _, text, report = next(translate([Job("d", _doc("one", "two"), resolve("de"))],
                                         engine, Settings(memory=memory)))
        assert text == "<b>eins</b>\n<b>TWO</b>\n"
        assert report.from_memory == 1
        assert [r.text for b in engine.batches for r in b] == ["<s1>two</s1>"]


def test_many_documents_beyond_one_chunk_all_come_out_in_order() -> None:
    engine = Recording(lambda r: r.text.replace("d", "D"))
    jobs = [Job(f"d{i}", _doc(*(f"d{i}-{j}" for j in range(3))), resolve("de"))
            for i in range(25)]
    results = list(translate(jobs, engine, Settings(batch_size=2)))
    assert [job.name for job, _, _ in results] == [f"d{i}" for i in range(25)]
    assert all(text.count("<b>D") == 3 for _, text, _ in results)


def test_a_retry_renders_the_answer_of_the_second_attempt(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def answer(r: Request) -> str:  # broken tags first, right on any retry
        return "<s1>oops" if r.attempt == 0 else r.text.replace("x", "y")

    monkeypatch.setitem(base._REGISTRY, "retrying", lambda **_: Recording(answer))
    engine = create("retrying")
    text, report = translate_document(Job("doc", _doc("x1"), resolve("de")), engine)
    assert text == "<b>y1</b>\n"
    assert (report.retries, report.fallbacks) == (1, 0)
    assert [[r.attempt for r in b] for b in engine.batches] == [[0], [1]]


def test_a_long_document_is_fed_to_the_engine_before_it_is_all_queued() -> None:
    """Requests (each with its context window) are made a window at a time: the
    engine answers the first batch before the last segment's context is built."""
    counted: list[str] = []
    first_call: list[int] = []

    class Watching(Recording):
        def translate_batch(self, requests: Sequence[Request]) -> list[str]:
            first_call.append(first_call[0] if first_call else len(counted))
            return super().translate_batch(requests)

    engine = Watching()
    engine.count_tokens = lambda text: counted.append(text) or 1
    texts = [f"a{n}" for n in range(200)]
    text, report = translate_document(Job("doc", _doc(*texts), resolve("de")), engine,
                                      Settings(batch_size=4, context_tokens=8))
    assert report.segments == report.translated == 200
    assert sum(len(b) for b in engine.batches) == 200
    assert 0 < first_call[0] < len(counted) / 4  # a window in, not the whole document
    assert text.count("<b>") == 200


def test_a_translation_that_changes_the_structure_is_not_written() -> None:
    """An answer that would turn a paragraph into a heading (an escape an adapter
    missed) is caught before writing: that segment keeps its source text."""
    from functools import partial

    from hymt_cli.documents.markdown import structure_events

    pieces: list = []
    for n, text in enumerate(["First para", "Second para", "Third para"], 1):
        builder = SegmentBuilder("paragraph", 0)  # escape `keep`: nothing escaped
        builder.text(text)
        pieces += [builder.build(f"s{n}"), "\n\n"]
    doc = Document(tuple(pieces), "md", structure=partial(structure_events))
    answers = {"First para": "Erster", "Second para": "# Zweiter", "Third para": "Dritter"}
    engine = Recording(lambda r: answers[r.text])
    text, report = translate_document(Job("doc", doc, resolve("de")), engine)
    assert text == "Erster\n\nSecond para\n\nDritter\n\n"
    assert report.fallbacks == 1
    assert any(p.startswith("s2: its translation changed") for p in report.problems)


def test_structure_is_checked_only_when_the_format_has_one() -> None:
    engine = Recording(lambda r: r.text.replace("x", "# x"))
    text, report = translate_document(Job("doc", _doc("x"), resolve("de")), engine)
    assert text == "<b># x</b>\n" and report.fallbacks == 0


def test_a_source_structure_is_parsed_once_for_all_targets() -> None:
    from functools import partial

    from hymt_cli.documents.markdown import structure_events

    parsed: list[str] = []

    def counting(text: str):
        parsed.append(text)
        return structure_events(text)

    doc = _doc("a1", "a2")
    doc = Document(doc.pieces, "md", structure=partial(counting))
    jobs = [Job("doc", doc, resolve(code)) for code in ("de", "fr", "es")]
    results = list(translate(jobs, Recording()))
    assert len(results) == 3
    assert parsed.count(doc.source) == 1  # the source once, each rendering once
    assert len(parsed) == 4
