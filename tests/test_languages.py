"""The language table, aliases and the script test."""

from __future__ import annotations

import pytest

from hymt_cli.languages import LANGUAGES, UnknownLanguage, detect, resolve


def test_table_has_the_38_official_rows() -> None:
    assert len(LANGUAGES) == 38
    assert LANGUAGES["zh-Hant"].english == "Traditional Chinese"
    assert LANGUAGES["de"].chinese == "德语"
    assert {c for c, lang in LANGUAGES.items() if lang.rtl} == {"ar", "fa", "ur", "he", "ug"}


@pytest.mark.parametrize(
    ("typed", "code"),
    [("zh-CN", "zh"), ("zh-TW", "zh-Hant"), ("zh_hk", "zh-Hant"), ("pt-BR", "pt"),
     ("fil", "tl"), ("DE", "de"), ("German", "de"), ("de-AT", "de"), ("yue", "yue"),
     ("iw", "he")],
)
def test_aliases(typed: str, code: str) -> None:
    assert resolve(typed).code == code


def test_unknown_code_lists_the_supported_ones() -> None:
    with pytest.raises(UnknownLanguage) as info:
        resolve("xx")
    assert "'xx'" in str(info.value) and "zh-Hant" in str(info.value)


def test_chinese_templates_apply_to_chinese_variants() -> None:
    assert [c for c, lang in LANGUAGES.items() if lang.is_chinese] == ["zh", "zh-Hant", "yue"]


def test_detect_finds_chinese_by_script() -> None:
    assert detect("这是一个测试。") == LANGUAGES["zh"]
    assert detect("This is a test.") is None
    assert detect("これはテストです") is None
    assert detect("1234") is None
