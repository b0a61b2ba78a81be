"""The errors hymt reports to its users: one line, a hint, and an exit code.

Every error a user can cause derives from `HymtError`; the CLI maps one to its
message and `exit_code` in one place (`cli.run`). Anything else is a bug.
"""

from __future__ import annotations

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
"""0 success; 1 some inputs failed (or --check found drift); 2 usage error."""


class HymtError(Exception):
    """A problem to report as `Error: <message>`, then `hint:` when there is one."""

    exit_code = EXIT_FAILED

    def __init__(self, message: str = "", hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint


class UsageError(HymtError):
    """The command line, a project or glossary file, or a model choice is wrong."""

    exit_code = EXIT_USAGE


class FailedError(HymtError):
    """Work was attempted and failed (a quantisation, an import, the engine)."""

    exit_code = EXIT_FAILED
