"""Request and response bodies of the service, as pydantic models (for `/docs`).

`TranslateRequest` is HY-MT's service format (`source_lang`, `target_lang`,
`text`, `context`, `glossary`) plus hymt's `format` and `dialect`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from hymt_cli.pipeline import Report
from hymt_cli.serve.service import Translated

Format = Literal["text", "markdown", "html", "txt", "md"]
FORMAT_NAMES = {"txt": "text", "md": "markdown", "html": "html"}
"""Adapter name -> the format name a response gives."""


class TranslateRequest(BaseModel):
    """One text or document to translate."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "source_lang": "zh", "target_lang": "en", "text": "混元是腾讯的大模型。",
        "context": "", "glossary": {"混元": "HunYuan"}}]})

    text: str = Field(description="The text, or a whole Markdown or HTML document.")
    target_lang: str = Field(description="Target language code or alias (zh-TW, "
                             "pt-BR, fil...); GET /languages lists them.")
    source_lang: str | None = Field(None, description="Source language (optional).")
    context: str = Field("", description="Text that precedes this one; it seeds "
                         "the context window of the first segments.")
    glossary: dict[str, str] = Field(default_factory=dict, description="Source "
                                     "term -> target term, for this request only.")
    format: Format = Field("text", description="text (default), markdown or html.")
    dialect: str | None = Field(None, description="Markdown dialect (commonmark, "
                                "mkdocs, vitepress, mdx, hugo, mdbook, jekyll, "
                                "myst); default the server's.")


class Counters(BaseModel):
    """What happened to the document's segments (as `hymt translate` reports)."""

    segments: int
    translated: int
    from_memory: int
    repairs: int
    retries: int
    realigned: int
    fallbacks: int
    untranslated: int
    engine_calls: int = Field(description="Engine calls its segments took part in "
                              "(shared with other requests; 0: all from memory).")
    glossary_misses: list[str]
    gate_failures: list[str]
    gate_rejections: dict[str, int]
    problems: list[str]

    @classmethod
    def of(cls, report: Report, engine_calls: int) -> Counters:
        """The counters of a pipeline report."""
        return cls(
            segments=report.segments, translated=report.translated,
            from_memory=report.from_memory, repairs=report.repairs,
            retries=report.retries, realigned=report.realigned,
            fallbacks=report.fallbacks, untranslated=report.untranslated,
            engine_calls=engine_calls, glossary_misses=report.glossary_misses,
            gate_failures=report.gate_failures,
            gate_rejections=dict(report.gate_rejections), problems=report.problems)


class TranslateResponse(BaseModel):
    """The translation, its languages and its counters."""

    translation: str
    target_lang: str
    source_lang: str | None
    format: str
    report: Counters

    @classmethod
    def of(cls, translated: Translated) -> TranslateResponse:
        """The response for a translated document."""
        source = translated.source.code if translated.source else None
        return cls(translation=translated.text, target_lang=translated.target.code,
                   source_lang=source, format=FORMAT_NAMES[translated.format],
                   report=Counters.of(translated.report, translated.engine_calls))


class LanguageInfo(BaseModel):
    """One supported language."""

    code: str
    english: str
    chinese: str
    rtl: bool


class Health(BaseModel):
    """Whether the service can translate."""

    status: Literal["ready", "loading", "failed"]
    engine: str
    loaded: bool = Field(description="The engine is loaded and answering.")
    error: str = ""
    in_flight: int = Field(description="Translate requests running or waiting.")
    pending_segments: int
    api_key_required: bool
    version: str


class GlossaryResponse(BaseModel):
    """An uploaded glossary's terms, ready to send as `glossary`."""

    glossary: dict[str, str]
    terms: int


class ErrorResponse(BaseModel):
    """Every error: one line, and sometimes a hint."""

    error: str
    hint: str = ""
