"""Translation-memory exchange: JSON lines (lossless) and TMX 1.4.

JSON lines hold one object per entry with every field (times as ISO 8601 UTC).
An imported object with a `key` keeps its key and its fields, so a memory moves
whole from one machine to another; an object without one is a human translation
(origin `import`: only `text`, `translation`, `target_lang` and optionally
`source_lang` count).

TMX: each entry is a `<tu>` whose `<seg>`s hold the segment text as plain text,
so the `<sN>` tags are written escaped (`&lt;s1&gt;`), not as TMX inline markup.
They are hymt's own placeholders, not the document's markup, so mapping them to
`<bpt>`/`<ept>` would claim a native code they do not have; escaped text survives
every TMX tool unchanged. hymt's key and the fields behind it ride along as
`x-hymt-*` `<prop>`s, so a TMX written by hymt comes back as the same entries.
A `<tu>` from another tool becomes one `import` entry per target `<tuv>`; inline
`<bpt>`, `<ept>`, `<ph>`, `<it>` and `<hi>` elements are read as their text.
XML cannot carry carriage returns or most control characters: entries holding
those are left out of a TMX export with a warning (JSON lines keeps them).
"""

from __future__ import annotations

import json
import logging
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

from hymt_cli.errors import FailedError
from hymt_cli.languages import UnknownLanguage, resolve
from hymt_cli.memory import Entry, TranslationMemory, imported_entry

log = logging.getLogger(__name__)

FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".tmx": "tmx"}
"""File suffix -> exchange format."""

TOOL_VERSION = "0.1.0"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_PROP = "x-hymt-"
_UNKNOWN_LANGS = {"", "und", "*all*"}
_XML_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0d\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_TMX_TIME = "%Y%m%dT%H%M%SZ"


class MemoryImportError(FailedError, ValueError):
    """An exchange file that cannot be imported; the message names file and line."""


def export_memory(memory: TranslationMemory, path: Path) -> int:
    """Write every entry to `path` (`.jsonl` or `.tmx`); how many were written."""
    kind = _format(path)
    with Path(path).open("wb") as file:
        if kind == "tmx":
            return write_tmx(memory.entries(), file)
        return write_jsonl(memory.entries(), file)


def import_memory(memory: TranslationMemory, path: Path) -> int:
    """Add the entries of `path` (`.jsonl` or `.tmx`) in one transaction; how many."""
    kind = _format(path)
    try:
        with Path(path).open("rb") as file:
            entries = read_tmx(file, str(path)) if kind == "tmx" else read_jsonl(
                file, str(path))
    except OSError as error:
        raise MemoryImportError(f"{path}: cannot be read ({error.strerror})") from None
    memory.store(entries)
    log.info("imported %d entries from %s", len(entries), path)
    return len(entries)


def _format(path: Path) -> str:
    """The exchange format named by the suffix of `path`."""
    try:
        return FORMATS[Path(path).suffix.lower()]
    except KeyError:
        known = ", ".join(FORMATS)
        raise MemoryImportError(f"{path}: unknown format (use {known})") from None


def write_jsonl(entries: Iterable[Entry], file: IO[bytes]) -> int:
    """One JSON object per line, every field; how many lines."""
    count = 0
    for entry in entries:
        line = json.dumps(_jsonl_object(entry), ensure_ascii=False) + "\n"
        file.write(line.encode("utf-8"))
        count += 1
    return count


def _jsonl_object(entry: Entry) -> dict[str, Any]:
    return {
        "key": entry.key, "engine": entry.engine, "template": entry.template,
        "source_lang": entry.source_lang, "target_lang": entry.target_lang,
        "text": entry.text, "context": entry.context,
        "terms": [list(pair) for pair in entry.terms],
        "translation": entry.translation, "origin": entry.origin,
        "repairs": entry.repairs, "created": _iso(entry.created),
        "last_used": _iso(entry.last_used),
    }


def read_jsonl(file: IO[bytes], name: str) -> list[Entry]:
    """The entries of a JSON-lines file; `name` is used in error messages."""
    entries = []
    for number, raw in enumerate(file, 1):
        if not raw.strip():
            continue
        try:
            entries.append(_jsonl_entry(json.loads(raw)))
        except (ValueError, TypeError, KeyError) as error:
            problem = f"missing field {error}" if isinstance(error, KeyError) else error
            raise MemoryImportError(f"{name}:{number}: {problem}") from None
    return entries


def _jsonl_entry(data: Any) -> Entry:
    """An entry from one decoded JSON line: keyed as exported, or an import."""
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    text, translation = _string(data, "text"), _string(data, "translation")
    created, last_used = _time(data.get("created")), _time(data.get("last_used"))
    if not data.get("key"):
        return imported_entry(_source(data.get("source_lang")),
                              _target(_string(data, "target_lang")), text, translation,
                              created, last_used)
    terms = tuple((str(s), str(t)) for s, t in data.get("terms") or ())
    return Entry(
        str(data.get("engine", "")), str(data.get("template", "")),
        data.get("source_lang") or None, _string(data, "target_lang"), text,
        translation, str(data.get("context", "")), terms,
        str(data.get("origin", "machine")), int(data.get("repairs", 0)),
        created, last_used, key=str(data["key"]),
    )


def _string(data: dict[str, Any], name: str) -> str:
    value = data[name]
    if not isinstance(value, str):
        raise ValueError(f"field {name!r} must be a string")
    return value


def write_tmx(entries: Iterable[Entry], file: IO[bytes]) -> int:
    """A TMX 1.4 document of `entries`; how many `<tu>`s (unsafe ones are skipped)."""
    root = ET.Element("tmx", version="1.4")
    ET.SubElement(root, "header", {
        "creationtool": "hymt", "creationtoolversion": TOOL_VERSION,
        "segtype": "paragraph", "o-tmf": "hymt", "adminlang": "en",
        "srclang": "*all*", "datatype": "plaintext",
    })
    body = ET.SubElement(root, "body")
    count = 0
    for entry in entries:
        if _XML_UNSAFE.search(entry.text + entry.translation + entry.context):
            log.warning("TMX export: entry %s left out (control characters)", entry.key)
            continue
        body.append(_tu(entry))
        count += 1
    ET.indent(root)
    ET.ElementTree(root).write(file, encoding="utf-8", xml_declaration=True)
    return count


def _tu(entry: Entry) -> ET.Element:
    """The `<tu>` of one entry: hymt's fields as props, then source and target."""
    source = entry.source_lang or "und"
    tu = ET.Element("tu", {
        "tuid": entry.key, "srclang": source,
        "creationdate": _tmx_time(entry.created),
        "lastusagedate": _tmx_time(entry.last_used),
    })
    props = {"origin": entry.origin, "repairs": str(entry.repairs)}
    if entry.origin != "import":
        terms = json.dumps([list(p) for p in entry.terms], ensure_ascii=False)
        props |= {"engine": entry.engine, "template": entry.template,
                  "context": entry.context, "terms": terms}
    for name, value in props.items():
        ET.SubElement(tu, "prop", type=_PROP + name).text = value
    for lang, text in ((source, entry.text), (entry.target_lang, entry.translation)):
        tuv = ET.SubElement(tu, "tuv", {XML_LANG: lang})
        ET.SubElement(tuv, "seg").text = text
    return tu


def read_tmx(file: IO[bytes], name: str) -> list[Entry]:
    """The entries of a TMX file (hymt's own or another tool's)."""
    header_lang = "*all*"
    entries: list[Entry] = []
    try:
        for event, element in ET.iterparse(file, events=("start", "end")):
            if event == "start" and element.tag == "header":
                header_lang = element.get("srclang", "*all*")
            elif event == "end" and element.tag == "tu":
                entries.extend(_tu_entries(element, header_lang))
                element.clear()
    except ET.ParseError as error:
        raise MemoryImportError(f"{name}:{error.position[0]}: {error}") from None
    except ValueError as error:
        raise MemoryImportError(f"{name}: {error}") from None
    return entries


def _tu_entries(tu: ET.Element, header_lang: str) -> Iterator[Entry]:
    """The entries of one `<tu>`: the one hymt wrote, or one per target `<tuv>`."""
    props = {p.get("type", ""): p.text or "" for p in tu.findall("prop")}
    tuvs = [(tuv.get(XML_LANG) or tuv.get("lang") or "", _seg_text(tuv))
            for tuv in tu.findall("tuv")]
    tuvs = [(lang, text) for lang, text in tuvs if text is not None]
    if len(tuvs) < 2:
        return
    source_index = _source_index(tuvs, tu.get("srclang") or header_lang)
    source_lang, text = tuvs[source_index]
    created = _tmx_parse(tu.get("creationdate"))
    last_used = _tmx_parse(tu.get("lastusagedate") or tu.get("changedate"))
    if tu.get("tuid") and _PROP + "engine" in props:
        yield _own_entry(tu.get("tuid", ""), props, tuvs, created, last_used)
        return
    for index, (lang, translation) in enumerate(tuvs):
        if index != source_index and text.strip() and translation.strip():
            yield imported_entry(_source(source_lang), _target(lang), text, translation,
                                 created, last_used)


def _own_entry(
    key: str,
    props: dict[str, str],
    tuvs: list[tuple[str, str]],
    created: float | None,
    last_used: float | None,
) -> Entry:
    """An entry exported by hymt, with its key and fields as they were."""
    (source, text), (target, translation) = tuvs[:2]
    terms = tuple((s, t) for s, t in json.loads(props.get(_PROP + "terms") or "[]"))
    return Entry(
        props[_PROP + "engine"], props.get(_PROP + "template", ""),
        None if source in _UNKNOWN_LANGS else source, target, text, translation,
        props.get(_PROP + "context", ""), terms,
        props.get(_PROP + "origin", "machine"), int(props.get(_PROP + "repairs", 0)),
        created, last_used, key=key,
    )


def _seg_text(tuv: ET.Element) -> str | None:
    """The text of a `<tuv>`'s `<seg>`, inline elements (`<bpt>`, `<ph>`...) read."""
    seg = tuv.find("seg")
    return None if seg is None else "".join(seg.itertext())


def _source_index(tuvs: list[tuple[str, str]], srclang: str) -> int:
    """Which `<tuv>` holds the source: the one in `srclang`, else the first."""
    if srclang.lower() not in _UNKNOWN_LANGS:
        for index, (lang, _) in enumerate(tuvs):
            if lang.lower() == srclang.lower():
                return index
    return 0


def _source(code: str | None) -> str | None:
    """A canonical source language code, or None when unknown or unsupported."""
    if code is None or code.lower() in _UNKNOWN_LANGS:
        return None
    try:
        return resolve(code).code
    except UnknownLanguage:
        return code


def _target(code: str) -> str:
    """A canonical target code (`de-DE` -> `de`); unsupported codes stay as they are."""
    if code.lower() in _UNKNOWN_LANGS:
        raise ValueError("a target <tuv> or target_lang has no language")
    try:
        return resolve(code).code
    except UnknownLanguage:
        return code


def _iso(stamp: float | None) -> str | None:
    if stamp is None:
        return None
    moment = datetime.fromtimestamp(stamp, timezone.utc)
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def _time(value: Any) -> float | None:
    """A time from JSON: ISO 8601 text, Unix seconds, or nothing."""
    if value is None or isinstance(value, (int, float)):
        return value
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def _tmx_time(stamp: float | None) -> str:
    moment = datetime.fromtimestamp(stamp, timezone.utc) if stamp else None
    return (moment or datetime.now(timezone.utc)).strftime(_TMX_TIME)


def _tmx_parse(value: str | None) -> float | None:
    if not value:
        return None
    try:
        moment = datetime.strptime(value, _TMX_TIME).replace(tzinfo=timezone.utc)
    except ValueError:
        log.debug("TMX date %r not understood", value)
        return None
    return moment.timestamp()
