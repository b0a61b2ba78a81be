"""HY-MT1.5 prompt text: the official templates and our compositions.

Everything here is pure string work: no tokenizer, no model. The chat wrapping
(special tokens, generation prompt) is left to the tokenizer's own chat template;
answers are cleaned in one place, `validate.clean_answer`.

Template choice, following Tencent's README:

* plain text: `ZH_XX` when the source or the target is Chinese (zh, zh-Hant, yue),
  `XX_XX` (English wording, English language names) otherwise;
* glossary terms only: `TERMINOLOGY`; context only: `CONTEXTUAL`;
  `<sN>` format tags only: `FORMATTED` with 中文 replaced by the target's name.

Combining terms, context and tags in one prompt is *our* composition (Tencent
publishes no template for it): `compose_default` prefixes the terms block
(`TERMS_BLOCK`) and, for tagged text, the context block (`CONTEXT_BLOCK`) to the
matching official template. Pass another `Composer` to `build_prompt` to change it.
"""

from __future__ import annotations

from collections.abc import Callable

from hymt_cli.document import TAG_RE
from hymt_cli.engines.base import Request
from hymt_cli.languages import Language, detect

TEMPLATE_VERSION = "hymt-prompts-1"
"""Changes whenever any prompt text below changes (a translation-memory key)."""

# Verbatim from Tencent's HY-MT README (full-width ，U+FF0C and ：U+FF1A).
ZH_XX = (
    "将以下文本翻译为{target_language}，注意只需要输出翻译后的结果，不要额外解释：\n\n"
    "{source_text}"
)
XX_XX = (
    "Translate the following segment into {target_language}, "
    "without additional explanation.\n\n{source_text}"
)
TERMINOLOGY = (
    "参考下面的翻译：\n{source_term} 翻译成 {target_term}\n\n"
    "将以下文本翻译为{target_language}，注意只需要输出翻译后的结果，不要额外解释：\n"
    "{source_text}"
)
CONTEXTUAL = (
    "{context}\n参考上面的信息，把下面的文本翻译成{target_language}，"
    "注意不需要翻译上文，也不要额外解释：\n{source_text}\n"
)
FORMATTED = (
    "将以下<source></source>之间的文本翻译为中文，注意只需要输出翻译后的结果，"
    "不要额外解释，原文中的<sn></sn>标签表示标签内文本包含格式信息，"
    "需要在译文中相应的位置尽量保留该标签。输出格式为：<target>str</target>\n\n"
    "<source>{src_text_with_format}</source>"
)

# Our own pieces, used only when a request needs more than one official feature.
TERMS_BLOCK = "参考下面的翻译：\n{term_lines}\n\n"
"""Glossary prefix, worded as TERMINOLOGY's first paragraph."""
TERM_LINE = "{source_term} 翻译成 {target_term}"
CONTEXT_BLOCK = "{context}\n参考上面的信息，注意不需要翻译上文。\n\n"
"""Context prefix for tagged text, worded after CONTEXTUAL."""

Composer = Callable[[Request], str]
"""Builds the user-turn text for one request."""



def is_tagged(text: str) -> bool:
    """Whether `text` holds `<sN>`/`</sN>` format tags."""
    return TAG_RE.search(text) is not None


def source_language(request: Request) -> Language | None:
    """The request's source language, or a guess from its text (Chinese or None)."""
    if request.source is not None:
        return request.source
    return detect(TAG_RE.sub("", request.text))


def uses_chinese_template(request: Request) -> bool:
    """Whether either side is Chinese, which selects ZH_XX over XX_XX."""
    source = source_language(request)
    return request.target.is_chinese or (source is not None and source.is_chinese)


def term_lines(terms: tuple[tuple[str, str], ...]) -> str:
    """One `X 翻译成 Y` line per glossary entry."""
    return "\n".join(TERM_LINE.format(source_term=s, target_term=t) for s, t in terms)


def formatted(request: Request) -> str:
    """FORMATTED with 中文 replaced by the target's Chinese name."""
    template = FORMATTED.replace("翻译为中文", "翻译为" + request.target.chinese, 1)
    return template.format(src_text_with_format=request.text)


def plain(request: Request) -> str:
    """ZH_XX or XX_XX, with the target name in the template's language."""
    if uses_chinese_template(request):
        template, name = ZH_XX, request.target.chinese
    else:
        template, name = XX_XX, request.target.english
    return template.format(target_language=name, source_text=request.text)


def terminology(request: Request) -> str:
    """TERMINOLOGY with one line per term."""
    head, _, tail = TERMINOLOGY.partition("{source_term} 翻译成 {target_term}")
    return head + term_lines(request.terms) + tail.format(
        target_language=request.target.chinese, source_text=request.text
    )


def contextual(request: Request) -> str:
    """CONTEXTUAL with the request's context."""
    return CONTEXTUAL.format(
        context=request.context,
        target_language=request.target.chinese,
        source_text=request.text,
    )


def compose_default(request: Request) -> str:
    """Official template for one feature; terms/context prefixes for combinations."""
    tagged = is_tagged(request.text)
    has_context = bool(request.context.strip())
    if not tagged and not has_context:
        return terminology(request) if request.terms else plain(request)
    prefix = ""
    if request.terms:
        prefix = TERMS_BLOCK.format(term_lines=term_lines(request.terms))
    if not tagged:
        return prefix + contextual(request)
    if has_context:
        prefix += CONTEXT_BLOCK.format(context=request.context)
    return prefix + formatted(request)


def compose_english_first(request: Request) -> str:
    """As `compose_default`, but plain text into a non-Chinese target always uses
    XX_XX: int4 1.8B checkpoints answer the Chinese ZH_XX prompt in the wrong
    language (a known field problem that the English template fixes)."""
    plain_request = not (is_tagged(request.text) or request.context.strip() or request.terms)
    if plain_request and not request.target.is_chinese:
        return XX_XX.format(target_language=request.target.english,
                            source_text=request.text)
    return compose_default(request)


TEMPLATE_CHOICES = ("auto", "official", "english")
"""`auto`: official, except English-first for small low-bit checkpoints."""


def check_template_choice(choice: str) -> str:
    """`choice` if it is one of TEMPLATE_CHOICES, else a ValueError."""
    if choice not in TEMPLATE_CHOICES:
        raise ValueError(f"unknown template choice {choice!r} "
                         f"({', '.join(TEMPLATE_CHOICES)})")
    return choice


def choose_composer(choice: str, small_low_bit: bool) -> Composer:
    """The composer for a template choice; `auto` picks English-first for 1.8B
    checkpoints at 4 bits or fewer, where the Chinese template misfires."""
    english = choice == "english" or (choice == "auto" and small_low_bit)
    return compose_english_first if english else compose_default


def build_prompt(request: Request, compose: Composer = compose_default) -> str:
    """The user-turn text for `request` (no chat markup)."""
    return compose(request)
