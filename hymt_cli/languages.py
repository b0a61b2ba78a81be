"""The 38 HY-MT1.5 languages, their names for prompts, and the codes users type."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Language:
    """One language HY-MT1.5 translates."""

    code: str
    """Canonical code, e.g. `zh-Hant`."""
    english: str
    """Name used inside the English prompt template."""
    chinese: str
    """Name used inside the Chinese prompt templates."""
    rtl: bool = False
    """Written right to left."""

    @property
    def is_chinese(self) -> bool:
        """Whether the Chinese prompt templates apply to this language."""
        return self.code in {"zh", "zh-Hant", "yue"}


_TABLE = """
zh Chinese 中文
en English 英语
fr French 法语
pt Portuguese 葡萄牙语
es Spanish 西班牙语
ja Japanese 日语
tr Turkish 土耳其语
ru Russian 俄语
ar Arabic 阿拉伯语 rtl
ko Korean 韩语
th Thai 泰语
it Italian 意大利语
de German 德语
vi Vietnamese 越南语
ms Malay 马来语
id Indonesian 印尼语
tl Filipino 菲律宾语
hi Hindi 印地语
zh-Hant Traditional_Chinese 繁体中文
pl Polish 波兰语
cs Czech 捷克语
nl Dutch 荷兰语
km Khmer 高棉语
my Burmese 缅甸语
fa Persian 波斯语 rtl
gu Gujarati 古吉拉特语
ur Urdu 乌尔都语 rtl
te Telugu 泰卢固语
mr Marathi 马拉地语
he Hebrew 希伯来语 rtl
bn Bengali 孟加拉语
ta Tamil 泰米尔语
uk Ukrainian 乌克兰语
bo Tibetan 藏语
kk Kazakh 哈萨克语
mn Mongolian 蒙古语
ug Uyghur 维吾尔语 rtl
yue Cantonese 粤语
"""


def _parse(table: str) -> dict[str, Language]:
    rows = (line.split() for line in table.strip().splitlines())
    return {
        r[0]: Language(r[0], r[1].replace("_", " "), r[2], rtl="rtl" in r[3:])
        for r in rows
    }


LANGUAGES: dict[str, Language] = _parse(_TABLE)
"""Canonical code -> language, in the order of the official table."""

ALIASES: dict[str, str] = {
    "zh-cn": "zh", "zh-hans": "zh", "zh-sg": "zh", "cmn": "zh", "chinese": "zh",
    "zh-tw": "zh-Hant", "zh-hk": "zh-Hant", "zh-mo": "zh-Hant", "zh-hant-tw": "zh-Hant",
    "yue-hk": "yue", "zh-yue": "yue",
    "en-us": "en", "en-gb": "en", "en-au": "en", "en-ca": "en",
    "pt-br": "pt", "pt-pt": "pt", "es-es": "es", "es-mx": "es", "es-419": "es",
    "fr-fr": "fr", "fr-ca": "fr", "de-de": "de", "de-at": "de", "de-ch": "de",
    "fil": "tl", "iw": "he", "in": "id", "jp": "ja", "kr": "ko", "ua": "uk",
    "pes": "fa", "zsm": "ms",
}


class UnknownLanguage(ValueError):
    """A language code that HY-MT1.5 does not support."""

    def __init__(self, code: str) -> None:
        known = ", ".join(LANGUAGES)
        super().__init__(f"unknown language {code!r}; supported: {known}")
        self.code = code


def resolve(code: str) -> Language:
    """The language a user-typed code or name means (zh-TW, pt-BR, fil, German...)."""
    key = code.strip().replace("_", "-").lower()
    for canonical, language in LANGUAGES.items():
        if key in (canonical.lower(), language.english.lower()):
            return language
    if key in ALIASES:
        return LANGUAGES[ALIASES[key]]
    base = key.split("-")[0]
    if base != key and base in LANGUAGES and base != "zh":
        return LANGUAGES[base]
    raise UnknownLanguage(code)


def detect(text: str) -> Language | None:
    """A cheap script test: Chinese when Han characters dominate the letters."""
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return None
    han = sum(1 for ch in letters if "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf")
    kana = sum(1 for ch in letters if "\u3040" <= ch <= "\u30ff")
    if han > len(letters) / 2 and kana == 0:
        return LANGUAGES["zh"]
    return None
