"""The translation memory: validated answers in SQLite, keyed by all they depend on.

A key is the SHA-256 of a canonical JSON of everything that shapes an answer: the
engine fingerprint (model, revision, quantisation, decoding), the prompt-template
version, source and target language, the segment text with its `<sN>` tags, its
context and the glossary entries applied. Human translations imported from TMX or
JSON lines carry none of that: they are `import` entries, found by exact source
text and target language (`lookup_imported`).

The file is SQLite in WAL mode, so readers never block the writer and a killed
run loses at most the transaction in flight; `store` is one transaction per call.
The schema moves forward by numbered migrations that are never edited, tracked in
`PRAGMA user_version`; `PRAGMA application_id` marks the file as ours. Every
`sqlite3` error reaching the public API becomes a one-line `MemoryFileError`.
"""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from hymt_cli.engines.base import Request
from hymt_cli.errors import UsageError

log = logging.getLogger(__name__)

APPLICATION_ID = 0x68796D74
"""`PRAGMA application_id` of a hymt memory: the bytes `hymt`."""

DEFAULT_RELATIVE_PATH = Path(".hymt") / "memory.sqlite"
"""Where the memory lives, relative to the working directory, unless overridden."""

ENV_VAR = "HYMT_MEMORY"
"""Environment variable naming the memory file."""

KEY_VERSION = 1
"""Part of every key; bump it when the canonical form below changes."""

BUSY_TIMEOUT_S = 30.0
"""How long a writer waits for another process's transaction to finish."""

ORIGINS = ("machine", "import")
"""`machine`: an engine answer the pipeline accepted; `import`: from a file."""

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # 1: entries and their lookups. Never edit a migration: append a new one.
    (
        """CREATE TABLE entries (
            key TEXT PRIMARY KEY,
            engine TEXT NOT NULL,
            template TEXT NOT NULL,
            source_lang TEXT NOT NULL,
            target_lang TEXT NOT NULL,
            text TEXT NOT NULL,
            context TEXT NOT NULL,
            terms TEXT NOT NULL,
            translation TEXT NOT NULL,
            origin TEXT NOT NULL CHECK (origin IN ('machine', 'import')),
            repairs INTEGER NOT NULL DEFAULT 0,
            created REAL NOT NULL,
            last_used REAL NOT NULL
        ) WITHOUT ROWID""",
        "CREATE INDEX entries_imported ON entries (target_lang, text)"
        " WHERE origin = 'import'",
        "CREATE INDEX entries_engine ON entries (engine)",
    ),
    # 2: the outputs hymt wrote, so that --prune deletes nothing else.
    (
        """CREATE TABLE outputs (
            path TEXT PRIMARY KEY,
            source TEXT NOT NULL,
            target_lang TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            written REAL NOT NULL
        ) WITHOUT ROWID""",
    ),
)
"""Schema migrations; the file's `user_version` is how many have been applied."""

_COLUMNS = (
    "key, engine, template, source_lang, target_lang, text, context, terms, "
    "translation, origin, repairs, created, last_used"
)
_HEADER = b"SQLite format 3\x00"
_FRESH_START = "move it away or pass --no-memory to run without it"


class MemoryFileError(UsageError):
    """The memory file cannot be used; the one-line message names it and a way out."""


class MemoryReadOnlyError(MemoryFileError):
    """The memory file or its folder cannot be written; it may still be read."""


@dataclass(frozen=True, slots=True)
class OutputRecord:
    """An output file hymt wrote, as the `outputs` table remembers it."""

    path: str
    """The output, as an absolute path with symlinks resolved."""
    source: str
    """The source it was translated from, absolute and resolved."""
    target: str
    """The target language code."""
    sha256: str
    """Hex SHA-256 of the bytes hymt wrote."""
    written: float
    """Unix time of the write."""


Terms = tuple[tuple[str, str], ...]


def default_path(cwd: Path | None = None) -> Path:
    """The memory file: `$HYMT_MEMORY` if set, else `.hymt/memory.sqlite` in `cwd`."""
    override = os.environ.get(ENV_VAR, "").strip()
    if override:
        return Path(override).expanduser()
    return (cwd if cwd is not None else Path.cwd()) / DEFAULT_RELATIVE_PATH


def memory_key(
    engine: str,
    template: str,
    source_lang: str | None,
    target_lang: str,
    text: str,
    context: str,
    terms: Sequence[tuple[str, str]],
) -> str:
    """The hex SHA-256 of a canonical JSON of every part an answer depends on."""
    parts = {
        "v": KEY_VERSION,
        "engine": engine,
        "template": template,
        "source_lang": source_lang or "",
        "target_lang": target_lang,
        "text": text,
        "context": context,
        "terms": sorted([s, t] for s, t in terms),
    }
    canonical = json.dumps(
        parts, ensure_ascii=False, sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Entry:
    """One remembered translation with what it was made from."""

    engine: str
    """Engine fingerprint (model, revision/quantisation, decoding); '' if imported."""
    template: str
    """Prompt-template version; '' if imported."""
    source_lang: str | None
    """Canonical source language code, or None when unknown."""
    target_lang: str
    """Canonical target language code."""
    text: str
    """Source segment with `<sN>` tags."""
    translation: str
    """The validated answer."""
    context: str = ""
    """Preceding source text given with the segment."""
    terms: Terms = ()
    """Glossary entries (source term, target term) the prompt carried."""
    origin: str = "machine"
    """`machine` or `import`."""
    repairs: int = 0
    """Repairs the answer needed before it was accepted."""
    created: float | None = None
    """Unix time first stored; None: now."""
    last_used: float | None = None
    """Unix time last stored or looked up; None: now."""
    key: str = field(default="")
    """The memory key; computed from the fields above when left empty."""

    def __post_init__(self) -> None:
        if self.origin not in ORIGINS:
            raise ValueError(f"origin must be one of {ORIGINS}, not {self.origin!r}")
        if not self.key:
            object.__setattr__(self, "key", memory_key(
                self.engine, self.template, self.source_lang, self.target_lang,
                self.text, self.context, self.terms,
            ))


def imported_entry(
    source_lang: str | None,
    target_lang: str,
    text: str,
    translation: str,
    created: float | None = None,
    last_used: float | None = None,
) -> Entry:
    """A human translation (no engine, template, context or terms): origin `import`."""
    return Entry("", "", source_lang, target_lang, text, translation, origin="import",
                 created=created, last_used=last_used)


def request_key(request: Request, engine: str, template: str) -> str:
    """The memory key of an engine request, for engine fingerprint and template."""
    source = request.source.code if request.source else None
    return memory_key(engine, template, source, request.target.code, request.text,
                      request.context, request.terms)


def request_entry(
    request: Request, engine: str, template: str, translation: str, repairs: int = 0
) -> Entry:
    """The machine entry that remembers `translation` as the answer to `request`."""
    source = request.source.code if request.source else None
    return Entry(engine, template, source, request.target.code, request.text,
                 translation, request.context, tuple(request.terms), repairs=repairs)


@dataclass(frozen=True, slots=True)
class MemoryStats:
    """What a memory holds."""

    entries: int
    by_target: dict[str, int]
    """Entries per target language code."""
    by_engine: dict[str, int]
    """Entries per engine fingerprint ('' for imported ones)."""
    by_origin: dict[str, int]
    """Entries per origin (`machine`, `import`)."""
    size_bytes: int
    """Size of the file plus its write-ahead log."""


class TranslationMemory:
    """An open memory file; use `TranslationMemory.open(path)`, then `close()`.

    A read-only memory answers lookups and stores nothing. A writable one whose
    writes start failing (the file made read-only, the disk full) turns read-only
    and says why once, through `notify`, instead of failing every document.
    """

    def __init__(
        self, path: Path, connection: sqlite3.Connection, readonly: bool = False
    ) -> None:
        self.path, self._db = path, connection
        self.readonly = readonly
        """Whether writes are skipped (opened read-only, or a write failed)."""
        self.notify: Callable[[str], None] = log.warning
        """Told once, in one line, when a failed write turns the memory read-only."""
        with self._guard():
            self._tables = frozenset(row[0] for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"))

    @classmethod
    def open(cls, path: Path, readonly: bool = False) -> TranslationMemory:
        """Open or create the memory at `path`, migrating it to the current schema.

        With `readonly`, open an existing file without writing anything to it or
        its folder (no migration either). `MemoryReadOnlyError` means the file or
        its folder cannot be written: `readonly=True` may still open it.
        """
        path = Path(path)
        _check_header(path)
        if readonly:
            return cls(path, _connect_read_only(path), readonly=True)
        _check_writable(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        except (OSError, sqlite3.Error) as error:
            if _is_read_only(error):
                raise _read_only_error(path, error) from None
            raise _file_error(path, f"cannot be opened ({error})") from None
        try:
            _prepare(path, db)
        except BaseException:
            db.close()
            raise
        log.debug("memory %s open", path)
        return cls(path, db)

    def __enter__(self) -> TranslationMemory:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the file (safe to call twice)."""
        with self._guard():
            self._db.close()

    def lookup(self, keys: Sequence[str]) -> dict[str, str]:
        """Translations of the `keys` found, in one query; marks them used now."""
        if not keys or "entries" not in self._tables:
            return {}
        wanted = json.dumps(list(dict.fromkeys(keys)))
        with self._guard():
            rows = self._db.execute(
                "SELECT key, translation FROM entries"
                " WHERE key IN (SELECT value FROM json_each(?))", (wanted,),
            ).fetchall()
            if rows:
                self._touch([key for key, _ in rows])
        return dict(rows)

    def lookup_imported(
        self, target_lang: str, texts: Sequence[str], source_lang: str | None = None
    ) -> dict[str, str]:
        """Imported translations into `target_lang` of exactly these source `texts`."""
        if not texts or "entries" not in self._tables:
            return {}
        sources = ("", source_lang) if source_lang else None
        with self._guard():
            rows = self._db.execute(
                "SELECT key, text, translation, source_lang FROM entries"
                " WHERE origin = 'import' AND target_lang = ?"
                " AND text IN (SELECT value FROM json_each(?))"
                " ORDER BY last_used",
                (target_lang, json.dumps(list(dict.fromkeys(texts)))),
            ).fetchall()
            rows = [r for r in rows if sources is None or r[3] in sources]
            if rows:
                self._touch([r[0] for r in rows])
        return {text: translation for _, text, translation, _ in rows}

    def _touch(self, keys: list[str]) -> None:
        self._write("entries", "UPDATE entries SET last_used = ?"
                    " WHERE key IN (SELECT value FROM json_each(?))",
                    [(time.time(), json.dumps(keys))])

    def store(self, entries: Sequence[Entry]) -> None:
        """Add or replace `entries` in one transaction (all of them or none)."""
        if not entries:
            return
        now = time.time()
        rows = [_row(entry, now) for entry in entries]
        self._write(
            "entries",
            f"INSERT INTO entries ({_COLUMNS}) VALUES ({', '.join('?' * 13)})"
            " ON CONFLICT (key) DO UPDATE SET translation = excluded.translation,"
            " origin = excluded.origin, repairs = excluded.repairs,"
            " last_used = max(last_used, excluded.last_used)",
            rows,
        )

    def record_output(self, path: Path, source: Path, target: str, data: bytes) -> None:
        """Remember that hymt wrote `data` to `path`, translated from `source`."""
        row = (str(Path(path).resolve()), str(Path(source).resolve()), target,
               hashlib.sha256(data).hexdigest(), time.time())
        self._write(
            "outputs",
            "INSERT INTO outputs (path, source, target_lang, sha256, written)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (path) DO UPDATE SET"
            " source = excluded.source, target_lang = excluded.target_lang,"
            " sha256 = excluded.sha256, written = excluded.written",
            [row],
        )

    def outputs(self) -> Iterator[OutputRecord]:
        """Every output hymt recorded writing, by path."""
        if "outputs" not in self._tables:
            return
        with self._guard():
            rows = self._db.execute(
                "SELECT path, source, target_lang, sha256, written FROM outputs"
                " ORDER BY path"
            ).fetchall()
        for row in rows:
            yield OutputRecord(*row)

    def forget_outputs(self, paths: Sequence[str]) -> None:
        """Drop the records of these outputs (deleted, or gone)."""
        if not paths:
            return
        self._write("outputs", "DELETE FROM outputs"
                    " WHERE path IN (SELECT value FROM json_each(?))",
                    [(json.dumps(list(paths)),)])

    def entries(self) -> Iterator[Entry]:
        """Every entry, oldest first."""
        if "entries" not in self._tables:
            return
        with self._guard():
            cursor = self._db.execute(
                f"SELECT {_COLUMNS} FROM entries ORDER BY created, key"
            )
            for row in cursor:
                yield _entry(row)

    def stats(self) -> MemoryStats:
        """Counts by target language, engine and origin, and the size on disk."""
        if "entries" not in self._tables:
            counts: dict[str, dict[str, int]] = {
                c: {} for c in ("target_lang", "engine", "origin")}
        else:
            counts = self._counts()
        size = sum(_size(Path(f"{self.path}{suffix}")) for suffix in ("", "-wal"))
        return MemoryStats(
            entries=sum(counts["origin"].values()), by_target=counts["target_lang"],
            by_engine=counts["engine"], by_origin=counts["origin"], size_bytes=size,
        )

    def _counts(self) -> dict[str, dict[str, int]]:
        with self._guard():
            return {
                column: dict(self._db.execute(
                    f"SELECT {column}, count(*) FROM entries"
                    f" GROUP BY {column} ORDER BY count(*) DESC, {column}"
                ).fetchall())
                for column in ("target_lang", "engine", "origin")
            }

    def prune(
        self,
        older_than_days: float | None = None,
        engine: str | None = None,
        unused_since_days: float | None = None,
    ) -> int:
        """Delete entries matching every given criterion; how many went.

        `engine` is a GLOB pattern (`*`, `?`); a plain name matches only itself.
        """
        where, params = _prune_filter(older_than_days, engine, unused_since_days)
        with self._guard(), self._transaction():
            cursor = self._db.execute(f"DELETE FROM entries WHERE {where}", params)
        log.info("memory %s: pruned %d entries", self.path, cursor.rowcount)
        return cursor.rowcount

    def vacuum(self) -> None:
        """Give the space of deleted entries back to the file system."""
        with self._guard():
            self._db.execute("VACUUM")
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def _write(self, table: str, sql: str, rows: list[tuple[object, ...]]) -> None:
        """Run `sql` for every row in one transaction; nothing when read-only.

        A write the file refuses (read-only, disk full, locked past the timeout)
        makes the memory read-only and says so once instead of raising: the
        documents of the run do not depend on it.
        """
        if self.readonly or table not in self._tables:
            return
        try:
            with self._transaction():
                self._db.executemany(sql, rows)
        except sqlite3.OperationalError as error:
            self.readonly = True
            self.notify(f"translation memory {self.path} cannot be written ({error}):"
                        " new answers and outputs are not stored from now on")
        except sqlite3.Error as error:
            raise _file_error(self.path, f"failed: {error}") from None

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """An IMMEDIATE transaction: the write lock is taken (or awaited) up front."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    @contextmanager
    def _guard(self) -> Iterator[None]:
        """Turn `sqlite3` errors into `MemoryFileError`."""
        try:
            yield
        except sqlite3.Error as error:
            raise _file_error(self.path, f"failed: {error}") from None


def _prune_filter(
    older_than_days: float | None, engine: str | None, unused_since_days: float | None
) -> tuple[str, list[object]]:
    """The WHERE clause of `prune`; at least one criterion is required."""
    now, day = time.time(), 86400.0
    clauses: list[str] = []
    params: list[object] = []
    if older_than_days is not None:
        clauses.append("created < ?")
        params.append(now - older_than_days * day)
    if engine is not None:
        clauses.append("engine GLOB ?")
        params.append(engine)
    if unused_since_days is not None:
        clauses.append("last_used < ?")
        params.append(now - unused_since_days * day)
    if not clauses:
        raise ValueError("prune needs at least one criterion (age, engine or last use)")
    return " AND ".join(clauses), params


def _row(entry: Entry, now: float) -> tuple[object, ...]:
    """The `entries` row of `entry`, in `_COLUMNS` order."""
    created = entry.created if entry.created is not None else now
    last_used = entry.last_used if entry.last_used is not None else max(now, created)
    return (
        entry.key, entry.engine, entry.template, entry.source_lang or "",
        entry.target_lang, entry.text, entry.context,
        json.dumps([list(pair) for pair in entry.terms], ensure_ascii=False),
        entry.translation, entry.origin, entry.repairs, created, last_used,
    )


def _entry(row: tuple) -> Entry:  # type: ignore[type-arg]
    """The `Entry` of an `entries` row."""
    key, engine, template, source, target, text, context, terms = row[:8]
    translation, origin, repairs, created, last_used = row[8:]
    return Entry(
        engine, template, source or None, target, text, translation, context,
        tuple((s, t) for s, t in json.loads(terms)), origin, repairs, created,
        last_used, key,
    )


def _check_header(path: Path) -> None:
    """Refuse a non-empty file that does not start like an SQLite database."""
    try:
        with path.open("rb") as file:
            header = file.read(len(_HEADER))
    except FileNotFoundError:
        return
    except OSError as error:
        raise _file_error(path, f"cannot be read ({error.strerror})") from None
    if header and header != _HEADER:
        raise _file_error(path, "is not an SQLite database")


def _is_read_only(error: BaseException) -> bool:
    """Whether an error means the file or its folder cannot be written."""
    if isinstance(error, OSError):
        return error.errno in (errno.EACCES, errno.EPERM, errno.EROFS)
    code = getattr(error, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in (sqlite3.SQLITE_READONLY,
                                                 sqlite3.SQLITE_CANTOPEN)


def _check_writable(path: Path) -> None:
    """`MemoryReadOnlyError` up front when the file, or the folder that must hold
    its write-ahead log, cannot be written: SQLite itself would open such a file
    read-only without a word and fail on the first write."""
    for where in (path, path.parent):
        if where.exists() and not os.access(where, os.W_OK):
            raise _read_only_error(path, f"{where} is not writable")


def _read_only_error(path: Path, error: BaseException | str) -> MemoryReadOnlyError:
    return MemoryReadOnlyError(
        f"translation memory {path} is read-only ({error}); make it writable, "
        "or pass --no-memory to run without it")


def _connect_read_only(path: Path) -> sqlite3.Connection:
    """A connection that writes nothing, to the file nor beside it.

    `mode=ro` still needs the write-ahead log's `-shm` file, which a read-only
    folder cannot hold; then the file is read as `immutable`, which skips the log
    (a cleanly closed memory has none).
    """
    if not path.is_file():
        raise _file_error(path, "does not exist")
    uri = path.resolve().as_uri()
    last: sqlite3.Error | None = None
    for query in ("mode=ro", "immutable=1"):
        db = sqlite3.connect(f"{uri}?{query}", uri=True, timeout=BUSY_TIMEOUT_S,
                             isolation_level=None)
        try:
            _check_identity(path, db)
        except sqlite3.OperationalError as error:
            db.close()
            last = error
            continue
        except BaseException:
            db.close()
            raise
        log.debug("memory %s open read-only (%s)", path, query)
        return db
    raise _file_error(path, f"cannot be read ({last})")


def _prepare(path: Path, db: sqlite3.Connection) -> None:
    """Check the file is ours (or empty), switch to WAL, apply pending migrations."""
    try:
        _check_identity(path, db)
        db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        mode = _switch_to_wal(db)
        if mode != "wal":
            log.warning("memory %s: journal mode %s, not WAL", path, mode)
        db.execute("PRAGMA synchronous = NORMAL")
        _migrate(path, db)
    except sqlite3.Error as error:
        if _is_read_only(error):
            raise _read_only_error(path, error) from None
        raise _file_error(path, f"is not a usable memory ({error})") from None


def _switch_to_wal(db: sqlite3.Connection) -> str:
    """Set WAL mode; SQLite answers a journal-mode change that races another
    process's first transaction with `locked` at once, without waiting, so wait."""
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while True:
        try:
            return str(db.execute("PRAGMA journal_mode = WAL").fetchone()[0])
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _check_identity(path: Path, db: sqlite3.Connection) -> None:
    """Raise unless the file is a hymt memory we can read, or an empty database."""
    # one statement, one snapshot: read apart, another process's first migration
    # could commit between the reads (tables, yet no application id)
    app_id, version, tables = db.execute(
        "SELECT a.application_id, v.user_version, (SELECT count(*) FROM sqlite_master)"
        " FROM pragma_application_id AS a, pragma_user_version AS v").fetchone()
    if app_id == 0 and version == 0 and tables == 0:
        return
    if app_id != APPLICATION_ID:
        raise _file_error(path, "belongs to another application, not hymt")
    if version > len(MIGRATIONS):
        raise _file_error(
            path, f"has schema version {version}, newer than this hymt's"
            f" {len(MIGRATIONS)}", "upgrade hymt, " + _FRESH_START,
        )


def _migrate(path: Path, db: sqlite3.Connection) -> None:
    """Apply the migrations the file lacks, in one transaction."""
    db.execute("BEGIN IMMEDIATE")
    try:
        _check_identity(path, db)  # another process may have migrated meanwhile
        version = db.execute("PRAGMA user_version").fetchone()[0]
        for number in range(version, len(MIGRATIONS)):
            log.info("memory %s: applying migration %d", path, number + 1)
            for statement in MIGRATIONS[number]:
                db.execute(statement)
        if version < len(MIGRATIONS):
            db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            db.execute(f"PRAGMA user_version = {len(MIGRATIONS)}")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def _file_error(path: Path, problem: str, hint: str = _FRESH_START) -> MemoryFileError:
    """The one-line error for a memory file that cannot be used."""
    return MemoryFileError(f"translation memory {path} {problem}; {hint}")


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
