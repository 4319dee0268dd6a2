"""Diagnostics: every problem found in a configuration, as a value the operator can act on.

keepalived sorts what it reports while reading a configuration into categories
(``config_err_t`` in its lib/parser.h) and ``keepalived -t`` derives its exit status from
the numerically largest category reported (see ``man 8 keepalived``, "Exit status"):

* nothing reported                                     -> 0
* only "cannot run" categories (file not found, missing
  interface, fatal)                                    -> 4
* any other error or warning                           -> 5
* script security not enabled but scripts configured   -> 6

Because keepalived keeps the *largest* category number, a plain warning outranks a missing
interface; :func:`exit_status` reproduces that so that scripts wrapping ``keepalived -t``
see the same status from ``pykeepalived -t``.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import Literal

from pykeepalived.config.model_base import model

Severity = Literal["error", "warning"]


class Category(enum.IntEnum):
    """keepalived's configuration error categories, in keepalived's own order."""

    OK = 0
    # keepalived cannot run the configuration
    FILE_NOT_FOUND = 1
    BAD_IF = 2
    FATAL = 3
    # configuration errors, but keepalived will still run
    MULTIPLE_FILES = 4
    UNKNOWN_KEYWORD = 5
    UNEXPECTED_BOB = 6
    MISSING_BOB = 7
    UNEXPECTED_EOB = 8
    MISSING_EOB = 9
    UNMATCHED_QUOTE = 10
    MISSING_PARAMETER = 11
    INVALID_NUMBER = 12
    GENERAL_ERROR = 13
    WARNING = 14
    DEPRECATED = 15
    # scripts configured but script security not enabled
    SECURITY_ERROR = 16


# Exit statuses of `keepalived -t` (keepalived lib/scheduler.h, enum chk_exit_code).
EXIT_OK = 0
EXIT_CONFIG = 4
EXIT_CONFIG_TEST = 5
EXIT_CONFIG_TEST_SECURITY = 6


@model(frozen=True)
class Diagnostic:
    """One error or warning, tied to the place in the configuration it is about.

    ``line`` is 0 when the problem is not about one line (for example "no configuration
    file"); ``keyword`` is the keyword being processed, when there is one.
    """

    file: str
    line: int
    severity: Severity
    message: str
    keyword: str | None = None
    category: Category = Category.GENERAL_ERROR

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.message}"


class ConfigError(Exception):
    """A configuration that cannot be read at all (the main file is missing or unreadable).

    Bad contents never raise: they become :class:`Diagnostic` values. This carries the same
    information as a diagnostic so that callers can report it the same way.
    """

    def __init__(self, file: str, line: int, message: str,
                 category: Category = Category.FILE_NOT_FOUND) -> None:
        super().__init__(f"{file}:{line}: {message}" if line else f"{file}: {message}")
        self.file = file
        self.line = line
        self.message = message
        self.category = category

    def as_diagnostic(self) -> Diagnostic:
        return Diagnostic(self.file, self.line, "error", self.message, None, self.category)


# the diagnostics one load keeps; past these only counts are kept (see Diagnostics)
MAX_DIAGNOSTICS = 1000


class Diagnostics(list[Diagnostic]):
    """The diagnostics of one load: the first ``limit`` as reported, the rest counted.

    A generated configuration (~SEQ, ~LST, includes by brace expansion) can report
    millions of problems. keepalived writes each to its log and forgets it; held here they
    would cost more memory than the configuration. Past ``limit`` a diagnostic is kept only
    when it is the first of its severity and category, so the list still holds the
    diagnostic that decides the exit status and whether keepalived could run (and the one
    that says why a definition stopped expanding, after a thousand lines it produced);
    the others are counted, and :meth:`summary` is the one line that says how many.
    """

    def __init__(self, limit: int = MAX_DIAGNOSTICS) -> None:
        super().__init__()
        self.limit = limit
        self.hidden = 0
        self._kinds: set[tuple[str, Category]] = set()

    def append(self, diag: Diagnostic) -> None:
        kind = (diag.severity, diag.category)
        if len(self) < self.limit or kind not in self._kinds:
            self._kinds.add(kind)
            super().append(diag)
        else:
            self.hidden += 1

    def extend(self, diags: Iterable[Diagnostic]) -> None:
        for diag in diags:
            self.append(diag)

    def summary(self, file: str) -> Diagnostic | None:
        """One last line counting what was not kept (None when everything was)."""
        if not self.hidden:
            return None
        return Diagnostic(file, 0, "warning", f"... and {self.hidden} more problems of the "
                          f"kinds above, not listed (only the first {self.limit} are)", None,
                          Category.OK)


def worst_category(diagnostics: list[Diagnostic]) -> Category:
    """The category keepalived would remember: the numerically largest one reported."""
    return max((d.category for d in diagnostics), default=Category.OK)


def exit_status(diagnostics: list[Diagnostic]) -> int:
    """The status `keepalived -t` exits with after reporting ``diagnostics``."""
    worst = worst_category(diagnostics)
    if worst == Category.OK:
        return EXIT_OK
    if worst <= Category.FATAL:
        return EXIT_CONFIG
    if worst == Category.SECURITY_ERROR:
        return EXIT_CONFIG_TEST_SECURITY
    return EXIT_CONFIG_TEST
