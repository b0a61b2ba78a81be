"""The pipeline: batching, target-set segments, validation and fallback counts."""

from __future__ import annotations

from collections.abc import Sequence

from hymt_cli.document import Document, SegmentBuilder
from hymt_cli.engines import create, engine_names
from hymt_cli.engines.base import Request
from hymt_cli.languages import resolve
from hymt_cli.pipeline import Job, translate, translate_document


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


class Recording:
    """Answers by a script and records the batches it was given."""

    name = "recording"

    def __init__(self, answer=lambda r: r.text.replace("a", "A")) -> None:
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


def test_broken_answers_fall_back_and_are_reported() -> None:
    engine = Recording(lambda r: "no tags at all")
    text, report = translate_document(Job("doc", _doc("a", "b"), resolve("fr")), engine)
    assert text == "<b>a</b>\n<b>b</b>\n"
    assert report.fallbacks == 2 and report.translated == 0
    assert report.problems == ["s1: tag s1 missing", "s2: tag s1 missing"]


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
