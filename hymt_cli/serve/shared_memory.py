"""The translation memory shared by every request of a service.

An `sqlite3` connection belongs to the thread that opened it, and a
`TranslationMemory` is one connection. `SharedMemory` opens the memory on a
thread of its own (with `run.open_memory`, so read-only fallbacks and
`--no-memory` behave as in `hymt translate`) and runs every call there, one at a
time: requests on any thread see one memory, and what one request stores the
next one finds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from typing import TypeVar

from hymt_cli.memory import Entry, TranslationMemory
from hymt_cli.plan import RunConfig
from hymt_cli.run import open_memory

T = TypeVar("T")


class SharedMemory:
    """A `TranslationMemory` confined to one thread; the pipeline's memory calls
    (`lookup`, `lookup_imported`, `store`) are run there in turn."""

    def __init__(self, memory: TranslationMemory, thread: ThreadPoolExecutor,
                 stack: ExitStack) -> None:
        self._memory, self._thread, self._stack = memory, thread, stack

    @classmethod
    def open(cls, config: RunConfig) -> SharedMemory | None:
        """The run's memory on its own thread; None when the run has none."""
        thread = ThreadPoolExecutor(1, thread_name_prefix="hymt-memory")
        stack = ExitStack()

        def enter() -> TranslationMemory | None:
            return stack.enter_context(open_memory(config, create=True))

        try:
            memory = thread.submit(enter).result()
        except BaseException:
            thread.shutdown()
            raise
        if memory is None:
            thread.shutdown()
            return None
        return cls(memory, thread, stack)

    def _call(self, function: Callable[[], T]) -> T:
        return self._thread.submit(function).result()

    @property
    def path(self) -> str:
        """The memory file."""
        return str(self._memory.path)

    def lookup(self, keys: Sequence[str]) -> dict[str, str]:
        """`TranslationMemory.lookup`, on the memory's thread."""
        return self._call(lambda: self._memory.lookup(keys))

    def lookup_imported(
        self, target_lang: str, texts: Sequence[str], source_lang: str | None = None
    ) -> dict[str, str]:
        """`TranslationMemory.lookup_imported`, on the memory's thread."""
        return self._call(
            lambda: self._memory.lookup_imported(target_lang, texts, source_lang))

    def store(self, entries: Sequence[Entry]) -> None:
        """`TranslationMemory.store`, on the memory's thread."""
        self._call(lambda: self._memory.store(entries))

    def close(self) -> None:
        """Close the memory file and stop its thread."""
        try:
            self._call(self._stack.close)
        finally:
            self._thread.shutdown()
