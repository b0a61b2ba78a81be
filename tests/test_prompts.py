"""Prompt building and answer parsing, on exact strings."""

from __future__ import annotations

import hashlib

import pytest

from hymt_cli import prompts
from hymt_cli.engines.base import Request
from hymt_cli.languages import LANGUAGES, Language
from hymt_cli.prompts import build_prompt
from hymt_cli.validate import clean_answer

EN, DE, ZH = LANGUAGES["en"], LANGUAGES["de"], LANGUAGES["zh"]
HANT, YUE, JA = LANGUAGES["zh-Hant"], LANGUAGES["yue"], LANGUAGES["ja"]


def test_official_templates_are_verbatim() -> None:
    assert prompts.ZH_XX == (
        "将以下文本翻译为{target_language}，注意只需要输出翻译后的结果，不要额外解释：\n\n"
        "{source_text}"
    )
    assert prompts.XX_XX == (
        "Translate the following segment into {target_language}, without additional "
        "explanation.\n\n{source_text}"
    )
    assert prompts.TERMINOLOGY == (
        "参考下面的翻译：\n{source_term} 翻译成 {target_term}\n\n将以下文本翻译为"
        "{target_language}，注意只需要输出翻译后的结果，不要额外解释：\n{source_text}"
    )
    assert prompts.CONTEXTUAL == (
        "{context}\n参考上面的信息，把下面的文本翻译成{target_language}，注意不需要翻译"
        "上文，也不要额外解释：\n{source_text}\n"
    )
    assert prompts.FORMATTED == (
        "将以下<source></source>之间的文本翻译为中文，注意只需要输出翻译后的结果，不要额外"
        "解释，原文中的<sn></sn>标签表示标签内文本包含格式信息，需要在译文中相应的位置尽量"
        "保留该标签。输出格式为：<target>str</target>\n\n<source>{src_text_with_format}"
        "</source>"
    )


def test_full_width_punctuation() -> None:
    for template in (prompts.ZH_XX, prompts.TERMINOLOGY, prompts.CONTEXTUAL):
        assert "\uff0c" in template and "\uff1a" in template
        assert "," not in template and ":" not in template


def test_template_version_tracks_the_prompt_text() -> None:
    """Changing any prompt text must bump TEMPLATE_VERSION (and this digest)."""
    texts = [
        prompts.ZH_XX, prompts.XX_XX, prompts.TERMINOLOGY, prompts.CONTEXTUAL,
        prompts.FORMATTED, prompts.TERMS_BLOCK, prompts.TERM_LINE, prompts.CONTEXT_BLOCK,
    ]
    digest = hashlib.sha256("\0".join(texts).encode()).hexdigest()[:16]
    assert (prompts.TEMPLATE_VERSION, digest) == ("hymt-prompts-1", "92446aaaa1f4510c")


def test_english_template_between_non_chinese_languages() -> None:
    request = Request("Guten Morgen.", EN, source=DE)
    assert build_prompt(request) == (
        "Translate the following segment into English, without additional "
        "explanation.\n\nGuten Morgen."
    )


def test_target_names_follow_the_template_language() -> None:
    assert build_prompt(Request("Hello.", HANT, source=EN)) == (
        "将以下文本翻译为繁体中文，注意只需要输出翻译后的结果，不要额外解释：\n\nHello."
    )
    assert build_prompt(Request("Hello.", JA)) == (
        "Translate the following segment into Japanese, without additional "
        "explanation.\n\nHello."
    )


def test_chinese_template_for_chinese_target() -> None:
    assert build_prompt(Request("Good morning.", ZH)) == (
        "将以下文本翻译为中文，注意只需要输出翻译后的结果，不要额外解释：\n\nGood morning."
    )


@pytest.mark.parametrize("source", [ZH, HANT, YUE])
def test_chinese_template_for_declared_chinese_source(source: Language) -> None:
    assert build_prompt(Request("早晨。", DE, source=source)) == (
        "将以下文本翻译为德语，注意只需要输出翻译后的结果，不要额外解释：\n\n早晨。"
    )


def test_chinese_template_for_detected_chinese_source() -> None:
    assert build_prompt(Request("今天天气很好。", EN)) == (
        "将以下文本翻译为英语，注意只需要输出翻译后的结果，不要额外解释：\n\n今天天气很好。"
    )


def test_japanese_source_is_not_taken_for_chinese() -> None:
    assert build_prompt(Request("今日はいい天気です。", EN)).startswith("Translate")


def test_terminology_one_term() -> None:
    request = Request("The model is small.", DE, terms=(("model", "Modell"),))
    assert build_prompt(request) == (
        "参考下面的翻译：\nmodel 翻译成 Modell\n\n"
        "将以下文本翻译为德语，注意只需要输出翻译后的结果，不要额外解释：\n"
        "The model is small."
    )


def test_terminology_one_line_per_term() -> None:
    terms = (("model", "Modell"), ("cache", "Zwischenspeicher"))
    request = Request("The model cache.", DE, terms=terms)
    assert build_prompt(request) == (
        "参考下面的翻译：\nmodel 翻译成 Modell\ncache 翻译成 Zwischenspeicher\n\n"
        "将以下文本翻译为德语，注意只需要输出翻译后的结果，不要额外解释：\n"
        "The model cache."
    )


def test_contextual() -> None:
    request = Request("It is fast.", FR := LANGUAGES["fr"], context="The engine.")
    assert FR.chinese == "法语"
    assert build_prompt(request) == (
        "The engine.\n参考上面的信息，把下面的文本翻译成法语，"
        "注意不需要翻译上文，也不要额外解释：\nIt is fast.\n"
    )


def test_blank_context_is_ignored() -> None:
    assert build_prompt(Request("Hi.", EN, context="  \n")) == build_prompt(
        Request("Hi.", EN)
    )


def test_formatted_substitutes_the_target_name() -> None:
    request = Request("Press <s1>Save</s1> now.", DE)
    assert build_prompt(request) == (
        "将以下<source></source>之间的文本翻译为德语，注意只需要输出翻译后的结果，不要额外"
        "解释，原文中的<sn></sn>标签表示标签内文本包含格式信息，需要在译文中相应的位置尽量"
        "保留该标签。输出格式为：<target>str</target>\n\n"
        "<source>Press <s1>Save</s1> now.</source>"
    )


def test_formatted_into_chinese_is_the_official_text() -> None:
    request = Request("Press <s1>Save</s1>.", ZH)
    expected = prompts.FORMATTED.format(src_text_with_format="Press <s1>Save</s1>.")
    assert build_prompt(request) == expected


def test_terms_and_context_compose() -> None:
    terms = (("fast", "schnell"),)
    request = Request("It is fast.", DE, context="The model.", terms=terms)
    assert build_prompt(request) == (
        "参考下面的翻译：\nfast 翻译成 schnell\n\n"
        "The model.\n参考上面的信息，把下面的文本翻译成德语，"
        "注意不需要翻译上文，也不要额外解释：\nIt is fast.\n"
    )


def test_terms_context_and_tags_compose() -> None:
    request = Request(
        "<s1>Save</s1> it.", DE, context="A button.", terms=(("Save", "Speichern"),)
    )
    assert build_prompt(request) == (
        "参考下面的翻译：\nSave 翻译成 Speichern\n\n"
        "A button.\n参考上面的信息，注意不需要翻译上文。\n\n"
        "将以下<source></source>之间的文本翻译为德语，注意只需要输出翻译后的结果，不要额外"
        "解释，原文中的<sn></sn>标签表示标签内文本包含格式信息，需要在译文中相应的位置尽量"
        "保留该标签。输出格式为：<target>str</target>\n\n"
        "<source><s1>Save</s1> it.</source>"
    )


def test_terms_and_tags_compose() -> None:
    request = Request("<s1>Save</s1>", EN, terms=(("Save", "Store"),))
    assert build_prompt(request).startswith(
        "参考下面的翻译：\nSave 翻译成 Store\n\n将以下<source></source>之间的文本翻译为英语，"
    )


def test_composer_is_overridable() -> None:
    request = Request("Hi.", DE)
    prompt = build_prompt(request, lambda r: f"{r.target.english}: {r.text}")
    assert prompt == "German: Hi."


def test_braces_in_text_are_kept() -> None:
    request = Request("Use {name} and {0}.", DE, source=EN)
    assert build_prompt(request).endswith("\n\nUse {name} and {0}.")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Hallo Welt.  \n", "Hallo Welt."),
        ("Translation: Hallo Welt.", "Hallo Welt."),
        ("translated text:  Hallo", "Hallo"),
        ("译文：你好", "你好"),
        ("```\nHallo Welt.\n```", "Hallo Welt."),
        ("```text\nHallo\nWelt\n```", "Hallo\nWelt"),
        ("<target>Hallo</target>", "Hallo"),
        # What the pipeline always stored: repair's unwrap ran after parse_answer.
        ("Hallo <target> bleibt", "bleibt"),
        ("Use `code` here.", "Use `code` here."),
    ],
)
def test_parse_untagged(raw: str, expected: str) -> None:
    assert clean_answer(raw, tagged=False) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("<target>Drücken Sie <s1>OK</s1>.</target>", "Drücken Sie <s1>OK</s1>."),
        ("\n<target> <s1>Ja</s1> </target>\n", "<s1>Ja</s1>"),
        ("<source><s1>Yes</s1></source>\n<target><s1>Ja</s1></target>", "<s1>Ja</s1>"),
        ("<source><s1>Ja</s1></source>", "<s1>Ja</s1>"),
        ("<target><s1>Ja</s1>", "<s1>Ja</s1>"),
        ("```xml\n<target><s1>Ja</s1></target>\n```", "<s1>Ja</s1>"),
        ("Translation: <target><s1>Ja</s1></target>", "<s1>Ja</s1>"),
        ("<s1>Ja</s1>", "<s1>Ja</s1>"),
    ],
)
def test_parse_tagged(raw: str, expected: str) -> None:
    assert clean_answer(raw, tagged=True) == expected


def test_is_tagged() -> None:
    assert prompts.is_tagged("a <s12>b</s12>")
    assert not prompts.is_tagged("a <b>c</b> <s>")
