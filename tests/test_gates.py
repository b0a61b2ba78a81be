"""The answer gates: each rejects what it should, the pipeline retries and counts,
and pseudo and identity answers pass every gate for every language."""

from __future__ import annotations

from dataclasses import replace

from collections.abc import Callable, Sequence

import pytest
from hypothesis import given, settings, strategies as st

from hymt_cli import gates
from hymt_cli.document import Document, SegmentBuilder
from hymt_cli.engines.base import EngineBase, Request
from hymt_cli.engines.identity import IdentityEngine
from hymt_cli.engines.pseudo import PseudoEngine, pseudo_translate
from hymt_cli.gates import GATES, reject
from hymt_cli.languages import LANGUAGES, resolve
from hymt_cli.pipeline import Job, Settings, translate_document

ALL = frozenset(GATES)
FIRST = "The installer copies every file into the folder you chose before it starts."
SECOND = "Then it asks whether the service should start automatically at boot."
KOREAN = "그런 다음 부팅할 때 서비스를 자동으로 시작할지 묻습니다."
GERMAN = "Dann fragt es, ob der Dienst beim Booten automatisch starten soll."
SAMPLES = {
    "Latin": "Open the settings, then choose a language for new documents.",
    "Cyrillic": "Откройте настройки и выберите язык для новых документов.",
    "Han": "打开设置，然后为新文档选择一种语言。",
    "Kana": "設定を開き、新しい文書の言語を選んでください。",
    "Hangul": "설정을 열고 새 문서의 언어를 선택하세요.",
    "Arabic": "افتح الإعدادات ثم اختر لغة للمستندات الجديدة.",
    "Hebrew": "פתחו את ההגדרות ובחרו שפה למסמכים חדשים.",
    "Devanagari": "सेटिंग्स खोलें और नए दस्तावेज़ों के लिए भाषा चुनें।",
    "Thai": "เปิดการตั้งค่า แล้วเลือกภาษาสำหรับเอกสารใหม่",
    "Tibetan": "སྒྲིག་འགོད་ཁ་ཕྱེ་ནས་ཡིག་ཆ་གསར་པའི་སྐད་ཡིག་འདེམས།",
}


def _doc(*texts: str) -> Document:
    pieces: list = []
    for n, text in enumerate(texts, 1):
        builder = SegmentBuilder("paragraph", 0)
        builder.text(text)
        pieces += [builder.build(f"s{n}"), "\n"]
    return Document(tuple(pieces), "html")


class Scripted(EngineBase):
    """Answers from a function of the request; records every request."""

    name = "scripted"

    def __init__(self, answer: Callable[[Request], str]) -> None:
        self.answer, self.requests = answer, []

    def translate_batch(self, requests: Sequence[Request]) -> list[str]:
        self.requests.extend(requests)
        return [self.answer(r) for r in requests]


def _run(answer: Callable[[Request], str], *texts: str, to: str = "de"):
    engine = Scripted(answer)
    text, report = translate_document(Job("doc", _doc(*texts), resolve(to)), engine,
                                      Settings(context_tokens=64))
    return engine.requests, text, report


def _check(answer: str, source: str = SECOND, to: str = "de", context: str = "",
           engine: str = "hf") -> gates.Rejection | None:
    segment = _doc(source).segments()[0]
    request = Request(source, resolve(to), context=context)
    return reject(segment, request, answer, ALL, engine)


# each gate on its own ------------------------------------------------------------


def test_echo_of_the_context_is_rejected() -> None:
    found = _check(f"{FIRST} {GERMAN}", context=FIRST)
    assert found is not None and found.gate == "echo"
    assert _check(GERMAN, context=FIRST) is None
    shared = "every file into the folder you chose before it starts"
    assert _check(f"Kopiert {shared}.", source=f"It copies {shared}.",
                  context=FIRST) is None  # the run is in the source too


def test_echo_in_a_script_without_spaces_counts_characters() -> None:
    context = SAMPLES["Han"] * 3
    assert _check(SAMPLES["Han"] * 3 + "好", source="Pick one.", to="zh",
                  context=context).gate == "echo"


def test_answers_in_another_script_are_rejected() -> None:
    found = _check(KOREAN)
    assert found is not None and found.gate == "script" and "Hangul" in found.detail
    assert _check(GERMAN) is None
    assert _check("Откройте настройки.", source="Open the settings.", to="uk") is None


def test_names_copied_from_the_source_do_not_count_against_the_script() -> None:
    source = "Install Python, pip and Homebrew with the GitHub CLI."
    assert _check("使用 GitHub CLI 安装 Python、pip 和 Homebrew。", source, "zh") is None
    assert _check("Installieren Sie Python.", source, "zh").gate == "script"


def test_locked_code_and_urls_do_not_count() -> None:
    builder = SegmentBuilder("paragraph", 0)
    builder.text("Run ")
    builder.atomic("<code>pip install hymt</code>", "pip install hymt")
    builder.text(" from https://example.com/some/long/path now.")
    segment = builder.build("s1")
    answer = "<s1>pip install hymt</s1> を https://example.com/some/long/path から実行。"
    assert gates.visible(segment, answer).split() == ["を", "から実行。"]
    assert reject(segment, Request(segment.text, resolve("ja")), answer, ALL) is None


def test_runaway_repetition_is_rejected() -> None:
    loop = "Dann fragt es " * 6
    assert _check(GERMAN + " " + loop).gate == "repetition"
    assert _check("好的" * 8, source="OK, fine.", to="zh").gate == "repetition"
    source = ". ".join(["Click the button"] * 4)
    assert _check(". ".join(["Klicken Sie die Taste"] * 4), source) is None


def test_lengths_outside_the_band_are_rejected() -> None:
    assert _check("Dann.").gate == "length"
    assert _check(GERMAN + " Erklärung: " + " ".join(SAMPLES["Latin"].split()[::-1]) * 3,
                  ).gate == "length"
    assert _check("好的", source="OK", to="zh") is None  # short: slack
    assert _check("然后它会询问服务是否应在启动时自动启动。", to="zh") is None
    assert _check("그런 다음 부팅 시 서비스를 자동으로 시작할지 묻습니다.", to="ko") is None


def test_an_unchanged_answer_passes_every_gate() -> None:
    assert _check(SECOND, to="ja") is None


# the pipeline: reject, retry with the changed request, count --------------------


def test_echo_is_retried_without_context() -> None:
    def answer(r: Request) -> str:
        return f"{r.context} {GERMAN}" if r.context else r.text.upper()

    requests, text, report = _run(answer, FIRST, SECOND)
    second = [r for r in requests if r.text == SECOND]
    assert [(r.attempt, bool(r.context)) for r in second] == [(0, True), (1, False)]
    assert report.gate_rejections == {"echo": 1} and report.retries == 1
    assert "s2: rejected by the echo gate" in report.problems[0]
    assert text == f"{FIRST.upper()}\n{SECOND.upper()}\n"


@pytest.mark.parametrize(("bad", "gate"), [
    (KOREAN, "script"), ("Dann fragt es " * 8, "repetition"), ("Dann.", "length"),
])
def test_a_rejected_answer_is_retried_with_sampling(bad: str, gate: str) -> None:
    requests, text, report = _run(lambda r: bad if r.attempt == 0 else GERMAN, SECOND)
    assert [(r.attempt, r.context) for r in requests] == [(0, ""), (1, "")]
    assert report.gate_rejections == {gate: 1} and report.retries == 1
    assert report.problems == [f"s1: rejected by the {gate} gate: "
                               f"{reject_detail(bad)}"]
    assert text == GERMAN + "\n" and report.gate_failures == []


def reject_detail(answer: str) -> str:
    found = _check(answer)
    assert found is not None
    return found.detail


def test_a_gate_failure_that_survives_keeps_the_source() -> None:
    requests, text, report = _run(lambda r: KOREAN, SECOND)
    assert [r.attempt for r in requests] == [0, 1, 2]  # the fallback samples again
    assert report.gate_rejections == {"script": 3} and report.fallbacks == 1
    assert report.gate_failures == ["s1: script"]
    assert text == SECOND + "\n"


def test_unchanged_prose_is_reported_not_rejected() -> None:
    requests, text, report = _run(lambda r: r.text, SECOND, "GitHub")
    assert len(requests) == 2 and report.untranslated == 1 and report.retries == 0
    assert report.problems == ["s1: returned unchanged (untranslated)"]
    assert not report.gate_rejections


def test_the_identity_engine_is_never_reported() -> None:
    job = Job("doc", _doc(FIRST, SECOND), resolve("ja"))
    _, report = translate_document(job, IdentityEngine())
    assert report.untranslated == 0 and not report.problems


def test_gates_turned_off_accept_anything() -> None:
    engine = Scripted(lambda r: KOREAN)
    job = Job("doc", _doc(SECOND), resolve("de"))
    text, report = translate_document(job, engine, Settings(gates=frozenset()))
    assert text == KOREAN + "\n" and not report.gate_rejections


# no false positives: pseudo and identity answers, every language -------------------


@pytest.mark.parametrize("code", list(LANGUAGES))
def test_pseudo_documents_pass_every_gate(code: str) -> None:
    texts = [*SAMPLES.values(), "OK", "Version 2.0", "a" * 30, FIRST * 4]
    for engine in (PseudoEngine(), IdentityEngine()):
        job = Job("doc", _doc(*texts), resolve(code))
        _, report = translate_document(job, engine, Settings(context_tokens=64))
        assert not report.gate_rejections and not report.gate_failures, report.problems


LETTERS = "".join(SAMPLES.values()) + "0123456789 .,;:!?-'\"()"


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=LETTERS, min_size=1, max_size=300),
       st.text(alphabet=LETTERS, max_size=300), st.sampled_from(list(LANGUAGES)))
def test_pseudo_answers_pass_every_gate(text: str, context: str, code: str) -> None:
    segment = _doc(text).segments()[0]
    request = Request(segment.text, resolve(code), context=context)
    answer = pseudo_translate(segment.text)
    assert reject(segment, request, answer, ALL, "pseudo") is None
    assert reject(segment, request, segment.text, ALL, "identity") is None


def test_every_language_has_a_script() -> None:
    assert set(gates.SCRIPTS) == set(LANGUAGES)
    for script, sample in SAMPLES.items():
        letters = [gates.script_of(ch) for ch in sample if ch.isalpha()]
        assert letters.count(script) > len(letters) / 3, script


def test_a_failed_segment_is_not_remembered_when_strict(tmp_path) -> None:
    """Under `strict` a gate failure is not stored: the rerun asks again (and the
    document fails again); a good answer later is stored and then recalled."""
    from hymt_cli.memory import TranslationMemory

    strict = Settings(strict=True)
    with TranslationMemory.open(tmp_path / "m.sqlite") as memory:
        for answers, expected in ((KOREAN, SECOND), (GERMAN, GERMAN)):
            engine = Scripted(lambda r, a=answers: a)
            job = Job("doc", _doc(SECOND), resolve("de"))
            text, report = translate_document(job, engine,
                                              replace(strict, memory=memory))
            assert text == expected + "\n" and report.from_memory == 0
        _, report = translate_document(job, Scripted(lambda r: KOREAN),
                                       replace(strict, memory=memory))
        assert report.from_memory == 1


def test_a_failed_segment_keeps_its_source_text_in_memory_when_lenient(tmp_path) -> None:
    """Without `strict` the source text a failed segment keeps is stored: reruns
    send nothing to the engine, and `--check` sees the output current."""
    from hymt_cli.memory import TranslationMemory

    with TranslationMemory.open(tmp_path / "m.sqlite") as memory:
        job = Job("doc", _doc(SECOND), resolve("de"))
        text, report = translate_document(job, Scripted(lambda r: KOREAN),
                                          Settings(memory=memory))
        assert text == SECOND + "\n" and report.gate_failures
        engine = Scripted(lambda r: GERMAN)
        again, report = translate_document(job, engine, Settings(memory=memory))
        assert again == text and report.from_memory == 1 and not report.gate_failures
