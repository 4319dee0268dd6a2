"""Entry points: read a configuration file into a :class:`LoadResult`."""

from __future__ import annotations

import os

from pykeepalived.config.errors import Category, ConfigError, Diagnostic
from pykeepalived.config.model import KeepalivedConfig, LoadResult


def load_config(path: str, *, config_id: str | None = None) -> LoadResult:
    """Read ``path`` (and what it includes) into the typed model.

    Bad contents never raise: they are diagnostics. Only a main file that cannot be read
    at all raises :class:`ConfigError`.
    """
    if not os.path.exists(path):
        raise ConfigError(path, 0, "configuration file not found", Category.FILE_NOT_FOUND)
    return LoadResult(KeepalivedConfig(files=[path]),
                      [Diagnostic(path, 0, "warning", "parser not implemented yet",
                                  None, Category.WARNING)])


def load_config_text(text: str, *, name: str = "<string>",
                     config_id: str | None = None) -> LoadResult:
    """Parse configuration text (for tests and tools); includes resolve from the cwd."""
    return LoadResult(KeepalivedConfig(files=[name]))
