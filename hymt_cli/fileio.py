"""Files in and out: discovery, decoding, output paths and atomic writes.

Everything here works on bytes and paths; nothing knows about engines. Problems
with one input raise `InputError`, which names the path and carries a hint, so
the caller can report it and go on with the other inputs.
"""

from __future__ import annotations

import codecs
import fnmatch
import glob
import logging
import os
import re
import stat
import string
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

from hymt_cli.documents import SUFFIXES
from hymt_cli.errors import FailedError
from hymt_cli.languages import LANGUAGES

log = logging.getLogger(__name__)

STDIN = "-"
"""The path argument that means standard input (and output)."""

DEFAULT_PATTERN = "{dir}/{stem}.{lang}{suffix}"
"""Where a translation goes unless `--out` says otherwise: beside its source."""

PATTERN_FIELDS = frozenset({"lang", "stem", "suffix", "relpath", "dir"})
"""The fields an output pattern may use."""

SKIPPED_DIRS = frozenset({"node_modules", "__pycache__", "venv", "site-packages"})
"""Directory names a walk never enters (hidden directories are skipped too)."""

BINARY_PROBE = 8192
"""How many leading bytes are searched for a NUL to call a file binary."""

MAX_FILE_SIZE = 100 * 1024 * 1024
"""Inputs larger than this many bytes are refused unless `--max-file-size` says."""

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_LANG_SUFFIXES = frozenset("." + code.lower() for code in LANGUAGES)


class InputError(FailedError):
    """One input cannot be used; `str()` is the problem, `hint` what to try."""

    def __init__(self, path: str, problem: str, hint: str = "") -> None:
        super().__init__(problem, hint)
        self.path, self.problem = path, problem


@dataclass(frozen=True, slots=True)
class Source:
    """An input found on the command line, before it is read."""

    path: Path | None
    """The file, or None for standard input."""
    root: Path | None = None
    """The directory argument it was found under (for `{relpath}`), if any."""
    walked: bool = False
    """Found by a directory walk or a glob rather than named explicitly."""

    @property
    def name(self) -> str:
        """How messages name it: the path as given, or `-`."""
        return STDIN if self.path is None else str(self.path)


@dataclass(frozen=True, slots=True)
class Decoded:
    """Text read from bytes, with what is needed to encode it back the same way."""

    text: str
    """The decoded text, byte-order mark removed, line endings untouched."""
    encoding: str
    """The codec used (without BOM handling)."""
    bom: bytes = b""
    """The byte-order mark the input started with, if any."""

    def encode(self, text: str, errors: str = "strict") -> bytes:
        """Encode `text` as the input was: same codec, same BOM."""
        return self.bom + text.encode(self.encoding, errors)


def check_encoding(name: str) -> str:
    """The canonical name of codec `name`; raises LookupError when unknown."""
    return codecs.lookup(name).name


def decode(name: str, data: bytes, encoding: str | None = None) -> Decoded:
    """Decode an input's bytes; raises `InputError` for empty, binary or bad text."""
    bom, detected = _sniff_bom(data)
    codec = encoding or detected or "utf-8"
    if encoding and detected and check_encoding(encoding) != check_encoding(detected):
        bom = b""  # the user knows better: decode everything with their codec
    body = data[len(bom) :]
    if not body:
        raise InputError(name, "file is empty", "there is nothing to translate")
    if not codec.lower().startswith(("utf-16", "utf-32", "utf16", "utf32")):
        _refuse_binary(name, body)
    try:
        return Decoded(body.decode(codec), codec, bom)
    except UnicodeDecodeError as exc:
        raise _decode_error(name, body, exc, len(bom), codec) from exc


def _sniff_bom(data: bytes) -> tuple[bytes, str | None]:
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return bom, codec
    return b"", None


def _refuse_binary(name: str, body: bytes) -> None:
    nul = body.find(b"\0", 0, BINARY_PROBE)
    if nul >= 0:
        raise InputError(name, f"looks like a binary file (NUL byte at offset {nul})")


def _decode_error(
    name: str, body: bytes, exc: UnicodeDecodeError, offset: int, codec: str
) -> InputError:
    at = exc.start
    line = body.count(b"\n", 0, at) + 1
    column = at - (body.rfind(b"\n", 0, at) + 1) + 1
    return InputError(
        name,
        f"not valid {codec} at byte {at + offset} (line {line}, column {column})",
        "if the file uses another encoding, pass it, e.g. --encoding cp1252",
    )


def read_source(
    source: Source, encoding: str | None = None, max_size: int = MAX_FILE_SIZE
) -> Decoded:
    """Read and decode a file input; raises `InputError` when it cannot be used.

    The file is opened without blocking and must be a regular file (a FIFO or a
    device named `x.md` would hang or never end); at most `max_size` bytes are read.
    """
    assert source.path is not None
    try:
        fd = os.open(source.path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise InputError(source.name, f"cannot read: {exc.strerror or exc}") from exc
    with os.fdopen(fd, "rb") as handle:
        kind = file_kind(os.fstat(fd).st_mode)
        if kind:
            raise InputError(source.name, f"not a regular file ({kind})",
                             "hymt reads regular files only")
        try:
            data = handle.read(max_size + 1)
        except OSError as exc:
            raise InputError(source.name, f"cannot read: {exc.strerror or exc}") from exc
    if len(data) > max_size:
        raise InputError(source.name, f"larger than the {format_size(max_size)} limit",
                         "raise --max-file-size (or max_file_size in hymt.toml)")
    return decode(source.name, data, encoding)


def read_stream(name: str, stream: BinaryIO, max_size: int = MAX_FILE_SIZE) -> bytes:
    """Up to `max_size` bytes of `stream` (stdin); `InputError` when there are more."""
    data = stream.read(max_size + 1)
    if len(data) > max_size:
        raise InputError(name, f"larger than the {format_size(max_size)} limit",
                         "raise --max-file-size (or max_file_size in hymt.toml)")
    return data


def file_kind(mode: int) -> str:
    """'' for a regular file, else what it is (`FIFO`, `character device`...)."""
    kinds = ((stat.S_ISREG, ""), (stat.S_ISDIR, "directory"), (stat.S_ISFIFO, "FIFO"),
             (stat.S_ISCHR, "character device"), (stat.S_ISBLK, "block device"),
             (stat.S_ISSOCK, "socket"))
    return next((kind for test, kind in kinds if test(mode)), "special file")


def format_size(size: int) -> str:
    """A byte count for messages: `100 MB`, `512 KB`, `17 bytes`."""
    for unit, factor in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if size >= factor and size % factor == 0:
            return f"{size // factor} {unit}"
    return f"{size} bytes"


def parse_size(text: str | int) -> int:
    """`--max-file-size`: bytes, or a number with K/KB, M/MB or G/GB (powers of 1024).

    Raises ValueError for anything else or for a size below 1.
    """
    match = re.fullmatch(r"\s*(\d+)\s*([kmg]?)(?:i?b)?\s*", str(text), re.IGNORECASE)
    if match is None or int(match.group(1)) < 1:
        raise ValueError(f"not a size: {text!r} (e.g. 100MB, 512K, 1G, or bytes)")
    shift = {"": 0, "k": 10, "m": 20, "g": 30}[match.group(2).lower()]
    return int(match.group(1)) << shift


def display_name(name: str) -> str:
    """`name` as one line of a message: quoted, escaped, when it holds control
    characters or bytes that are not valid in the file-system encoding."""
    if name.isprintable() and not _has_surrogates(name):
        return name
    return repr(name)


def _has_surrogates(text: str) -> bool:
    return any("\ud800" <= ch <= "\udfff" for ch in text)


@contextmanager
def naming_input(name: str) -> Iterator[None]:
    """Prefix warnings logged by the document adapters with `name` meanwhile."""
    shown = display_name(name)
    # a filter on a parent logger never sees its children's records, and the
    # adapters' loggers may not exist yet: tag records as they are made instead
    make = logging.getLogRecordFactory()

    def named(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make(*args, **kwargs)
        if record.name.startswith("hymt_cli.documents"):
            record.msg = f"{shown}: {record.msg}"
        return record

    logging.setLogRecordFactory(named)
    try:
        yield
    finally:
        logging.setLogRecordFactory(make)


def check_pattern(pattern: str) -> None:
    """Raise ValueError when an output pattern uses unknown or positional fields."""
    for _, field, spec, conversion in string.Formatter().parse(pattern):
        if field is None:
            continue
        if field not in PATTERN_FIELDS or spec or conversion:
            known = ", ".join("{" + f + "}" for f in sorted(PATTERN_FIELDS))
            raise ValueError(
                f"bad field {{{field}}} in --out {pattern!r} (known: {known})"
            )


def output_path(source: Source, lang: str, pattern: str | None = None) -> Path:
    """Where the translation of file `source` into `lang` is written."""
    assert source.path is not None
    path = source.path
    root = source.root
    relpath = path.relative_to(root) if root is not None else Path(path.name)
    fields = {
        "lang": lang,
        "stem": path.stem,
        "suffix": path.suffix,
        "dir": str(path.parent),
        "relpath": relpath.as_posix(),
    }
    return Path(os.path.normpath((pattern or DEFAULT_PATTERN).format(**fields)))


def is_previous_output(path: Path) -> bool:
    """Whether a file is named like a translation (`name.<lang>.md`) of an input."""
    stem = Path(path.stem)
    return bool(stem.stem) and stem.suffix.lower() in _LANG_SUFFIXES


def is_document(path: Path) -> bool:
    """Whether a file's suffix names a format hymt reads."""
    return path.suffix.lower() in SUFFIXES


def walk(root: Path) -> Iterator[Path]:
    """Documents under directory `root`, sorted, minus hidden and earlier outputs.

    Symbolic links to directories are not followed; files that are not regular
    (FIFOs, devices) are skipped with a warning.
    """
    for path in walk_files(root):
        if path.name.startswith(".") or not is_document(path):
            continue
        if is_previous_output(path):
            log.debug("skipping %s: named like an earlier output", path)
            continue
        if _regular(path):
            yield path


def walk_files(root: Path) -> Iterator[Path]:
    """Every file under directory `root`, sorted, outside hidden and skipped
    folders (`SKIPPED_DIRS`); symbolic links to directories are not followed."""
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not _skipped_dir(d))
        for filename in sorted(filenames):
            yield Path(dirpath, filename)


def _regular(path: Path) -> bool:
    """Whether a walked or globbed path is a regular file; warn when it is not."""
    try:
        kind = file_kind(path.stat().st_mode)
    except OSError as exc:  # a dangling link, say: reading it reports the problem
        log.debug("cannot stat %s: %s", path, exc)
        return True
    if kind:
        log.warning("skipping %s: not a regular file (%s)", display_name(str(path)), kind)
    return not kind


def _skipped_dir(name: str) -> bool:
    return name.startswith(".") or name in SKIPPED_DIRS


def has_magic(arg: str) -> bool:
    """Whether a path argument is a glob pattern."""
    return glob.has_magic(arg)


def discover(args: list[str], any_suffix: bool = False) -> list[Source | InputError]:
    """Expand path arguments (files, directories, globs, `-`) into sources.

    Missing paths and globs that match nothing come back as `InputError`s in
    place, so one bad argument does not hide the others. `any_suffix` admits
    files of any suffix from globs (when `--format` says how to read them).
    """
    found: list[Source | InputError] = []
    for arg in args:
        if arg == STDIN:
            found.append(Source(None))
        elif Path(arg).is_dir():
            found.extend(Source(p, Path(arg), walked=True) for p in walk(Path(arg)))
        elif Path(arg).is_file() or not has_magic(arg):
            found.append(_explicit(arg))
        else:
            found.extend(_expand(arg, any_suffix))
    return _dedupe(found)


def _explicit(arg: str) -> Source | InputError:
    path = Path(arg)
    if not (path.exists() or path.is_symlink()):
        return InputError(arg, "no such file or directory")
    try:
        kind = file_kind(path.stat().st_mode)
    except OSError:
        kind = ""  # a dangling link: reading it reports the problem
    if kind:
        return InputError(arg, f"not a regular file ({kind})",
                          "hymt reads regular files only")
    return Source(path)


def _expand(pattern: str, any_suffix: bool) -> list[Source | InputError]:
    found: list[Source | InputError] = []
    root = glob_root(pattern)
    for path in sorted(set(glob_paths(pattern))):
        if path.is_dir():
            found.extend(Source(p, path, walked=True) for p in walk(path))
        elif ((any_suffix or is_document(path)) and not is_previous_output(path)
              and _regular(path)):
            found.append(Source(path, root, walked=True))
    if not found:
        return [InputError(pattern, "no documents match this pattern")]
    return found


def glob_paths(pattern: str) -> Iterator[Path]:
    """The paths matching a glob pattern (`**`: any number of folders).

    Like `glob.glob(pattern, recursive=True)`, hidden names match only a pattern
    part that starts with a dot; symbolic links to folders are followed, but never
    into a folder that is already being searched, so link loops end.
    """
    parts = Path(pattern).parts
    anchor = Path(parts[0]) if parts and Path(parts[0]).is_absolute() else None
    rest = list(parts[1:] if anchor else parts)
    yield from _glob_in(anchor or Path(""), rest, frozenset())


Folders = frozenset[tuple[int, int] | None]


def _glob_in(folder: Path, parts: list[str], above: Folders) -> Iterator[Path]:
    """Matches of `parts` under `folder`; `above` holds the folders being searched."""
    if not parts:
        yield folder
        return
    part, rest = parts[0], parts[1:]
    if part == "**":
        yield from _glob_in(folder, rest, above)
        if not rest:  # a trailing `**` matches files too
            yield from (folder / n for n in _names(folder)
                        if not n.startswith(".") and not (folder / n).is_dir())
        here = above | {_key(folder)}
        for sub, key in _subfolders(folder, here):
            yield from _glob_in(sub, parts, here | {key})
    elif has_magic(part):
        for name in _names(folder):
            if fnmatch.fnmatchcase(name, part) and (part.startswith(".")
                                                    or not name.startswith(".")):
                yield from _glob_in(folder / name, rest, above)
    elif os.path.lexists(folder / part):
        yield from _glob_in(folder / part, rest, above)


def _names(folder: Path) -> list[str]:
    try:
        return sorted(os.listdir(folder))
    except OSError:
        return []


def _subfolders(folder: Path, above: Folders) -> Iterator[tuple[Path, tuple[int, int]]]:
    """Non-hidden folders in `folder` (links followed) not already being searched."""
    for name in _names(folder):
        path = folder / name
        if name.startswith("."):
            continue
        try:
            info = path.stat()
        except OSError:
            continue
        key = (info.st_dev, info.st_ino)
        if not stat.S_ISDIR(info.st_mode):
            continue
        if key in above:
            log.debug("not following %s: a link loop", path)
            continue
        yield path, key


def _key(folder: Path) -> tuple[int, int] | None:
    try:
        info = (folder or Path(".")).stat()
    except OSError:
        return None
    return info.st_dev, info.st_ino


def glob_root(pattern: str) -> Path | None:
    """The folder before a glob's first magic component (`{relpath}` starts there)."""
    parts = Path(pattern).parts
    literal = []
    for part in parts[:-1]:
        if has_magic(part):
            break
        literal.append(part)
    return Path(*literal) if literal else None


def excluded(path: Path, patterns: tuple[str, ...], root: Path) -> bool:
    """Whether `path` (or a folder above it), relative to `root`, matches a pattern.

    Patterns are fnmatch-style, where `*` also crosses `/`: `drafts/*`, `*.tmp.md`.
    """
    if not patterns:
        return False
    try:
        rel = path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        rel = path.as_posix()
    prefixes = [rel] + [p.as_posix() for p in PurePosixPath(rel).parents][:-1]
    return any(fnmatch.fnmatchcase(p, pat) for p in prefixes for pat in patterns)


def pattern_regex(pattern: str, lang: str) -> re.Pattern[str]:
    """A regex matching the paths an output pattern yields for target `lang`.

    Each field but `{lang}` is a named group, so a match tells where its source was.
    """
    fields = {"stem": "[^/]+", "suffix": r"\.[^/.]+", "dir": ".+", "relpath": ".+"}
    out: list[str] = []
    for literal, name, _, _ in string.Formatter().parse(os.path.normpath(pattern)):
        out.append(re.escape(literal))
        if name == "lang":
            out.append(re.escape(lang))
        elif name is not None and f"(?P<{name}>" in "".join(out):
            out.append(f"(?P={name})")
        elif name is not None:
            out.append(f"(?P<{name}>{fields[name]})")
    return re.compile("".join(out))


def source_candidates(match: re.Match[str], roots: set[Path]) -> list[Path]:
    """Where the source of an output matched by `pattern_regex` would be."""
    found = match.groupdict()
    if "relpath" in found:
        return [root / found["relpath"] for root in roots]
    if {"dir", "stem", "suffix"} <= found.keys():
        return [Path(found["dir"], found["stem"] + found["suffix"])]
    return []


def pattern_base(pattern: str) -> Path:
    """The folder an output pattern's paths all lie under (its literal prefix)."""
    head = pattern.split("{", 1)[0]
    base = Path(head) if head.endswith("/") else Path(head).parent
    return base if str(base) else Path(".")


def _dedupe(found: list[Source | InputError]) -> list[Source | InputError]:
    seen: set[Path] = set()
    unique: list[Source | InputError] = []
    for item in found:
        if isinstance(item, Source) and item.path is not None:
            key = item.path.resolve()
            if key in seen:
                continue
            seen.add(key)
        unique.append(item)
    return unique


def write_atomic(path: Path, data: bytes) -> bool:
    """Write `data` to `path` via a temp file and rename; False when unchanged."""
    try:
        if path.is_file() and path.read_bytes() == data:
            return False
    except OSError:
        pass  # unreadable: try to replace it and let that report the problem
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())  # the bytes are on disk before the name moves
        os.chmod(temp, _mode_for(path))
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    sync_folder(path.parent)
    return True


def sync_folder(folder: Path) -> None:
    """fsync a folder, so a rename in it survives a power loss (where supported)."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError as exc:  # e.g. Windows: folders cannot be opened
        log.debug("cannot open %s to sync it: %s", folder, exc)
        return
    try:
        os.fsync(fd)
    except OSError as exc:  # some file systems refuse fsync on a folder
        log.debug("cannot sync %s: %s", folder, exc)
    finally:
        os.close(fd)


def _mode_for(path: Path) -> int:
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
