"""Entry points: read a configuration into a :class:`LoadResult`.

lexer (files, includes, definitions, conditionals, ~SEQ) -> block tree -> keyword tables
(typed model) -> semantic checks. Bad contents never raise; they are diagnostics with
keepalived's categories, so that :attr:`LoadResult.exit_status` is what ``keepalived -t``
exits with on the same file and host.
"""

from __future__ import annotations

import contextlib
import gc
import glob
import os
import stat
import sys
import threading
from collections.abc import Iterator

from pykeepalived.config.errors import Category, ConfigError, Diagnostic, Diagnostics
from pykeepalived.config.keywords import top_table
from pykeepalived.config.kw_global import root_table
from pykeepalived.config.lexer import Lexer
from pykeepalived.config.lexer_text import (
    MAX_BRACE_ALTERNATIVES,
    brace_expand,
    default_config_id,
)
from pykeepalived.config.model import KeepalivedConfig, LoadResult
from pykeepalived.config.parent_pass import parent_only
from pykeepalived.config.parse_base import Ctx, MissingParameter
from pykeepalived.config.sysinfo import SystemInfo
from pykeepalived.config.validate_lvs import startup_script_security, validate_lvs
from pykeepalived.config.validate_vrrp import validate_vrrp
from pykeepalived.config.walk import walk

EXIT_MISSING_PARAMETER = 2  # keepalived exits KEEPALIVED_EXIT_CONFIG mid-parse
EXIT_NO_CONFIG = 6  # keepalived's KEEPALIVED_EXIT_NO_CONFIG after an include error


def check_main_file(path: str) -> list[Diagnostic]:
    """keepalived's check_conf_file(): can the main file be read at all?

    Returns the diagnostics; the file is usable when none of them is an error. keepalived
    treats a missing or non-regular main file as a message only (``-t`` then exits 0).
    """
    diags: list[Diagnostic] = []
    matches: list[str] = []
    for count, alt in enumerate(brace_expand(path)):
        if count == MAX_BRACE_ALTERNATIVES:
            diags.append(Diagnostic(path, 0, "error", f"Config file name '{path}': braces give "
                                    f"more than {MAX_BRACE_ALTERNATIVES} alternatives", None,
                                    Category.FATAL))
            return diags
        if glob.has_magic(alt):
            matches.extend(sorted(glob.glob(alt)))
        elif os.path.lexists(alt):
            matches.append(alt)
    if not matches:
        diags.append(Diagnostic(path, 0, "error", f"Config files missing '{path}': no such "
                                "configuration file", None, Category.OK))
        return diags
    readable = 0
    for match in matches:
        try:
            st = os.stat(match)
        except OSError as exc:
            diags.append(Diagnostic(match, 0, "error", f"Unable to read configuration file "
                                    f"{match} ({exc.strerror})", None, Category.FILE_NOT_FOUND))
            continue
        if stat.S_ISDIR(st.st_mode):
            diags.append(Diagnostic(match, 0, "error", f"Configuration file '{match}' is a "
                                    "directory - skipping", None, Category.OK))
            continue
        if not stat.S_ISREG(st.st_mode) or st.st_mode & 0o111:
            diags.append(Diagnostic(match, 0, "error", f"Configuration file '{match}' is not a "
                                    "regular non-executable file - skipping", None,
                                    Category.OK))
            continue
        if not os.access(match, os.R_OK):
            diags.append(Diagnostic(match, 0, "error", f"Unable to read configuration file "
                                    f"{match}", None, Category.FILE_NOT_FOUND))
            return diags
        readable += 1
    if readable > 1:
        diags.append(Diagnostic(path, 0, "warning", f"WARNING, multiple configuration file "
                                f"matches of {path}, starting with {matches[0]}", None,
                                Category.MULTIPLE_FILES))
    elif readable == 0 and not diags:
        diags.append(Diagnostic(path, 0, "error", f"Unable to find configuration file {path}",
                                None, Category.FILE_NOT_FOUND))
    return diags


def load_config(path: str, *, config_id: str | None = None,
                system: SystemInfo | None = None, keyword_uses: bool = True) -> LoadResult:
    """Read ``path`` (and what it includes) into the typed model.

    ``config_id`` selects ``@id`` lines (default: the short host name, as keepalived's
    ``-i``). ``system`` describes the host the configuration is checked against (default:
    this host's interfaces, users and files). ``keyword_uses`` False leaves
    :attr:`LoadResult.keyword_uses` empty: counting where each keyword is used is for the
    daemon's report of the keywords it does not act on, and ``-t``, which does not report
    them, spared about 2 ms of its 100 on the 1,000-instance benchmark file. Raises
    :class:`ConfigError` only when the main file cannot be used at all.
    """
    diags = check_main_file(path)
    if any(d.severity == "error" for d in diags):
        first = next(d for d in diags if d.severity == "error")
        raise ConfigError(first.file, first.line, first.message, first.category)
    with _cycle_collection_paused():
        return _load(path, config_id, system or SystemInfo.probe(), diags, keyword_uses)


_gc_lock = threading.Lock()
_gc_pausers = 0
_gc_was_enabled = False


@contextlib.contextmanager
def _cycle_collection_paused() -> Iterator[None]:
    """Python's cycle collector off while a configuration is read.

    Reading creates several tracked objects per line (nodes, token lists, addresses, model
    objects) and frees almost none, so each full collection walks everything read so far:
    with 100,000 VIPs that was half the time and made it grow faster than the file. The
    parser makes no reference cycles to collect; reference counting frees what it drops.
    Loads in several threads share one pause (the last to finish turns it back on).
    """
    global _gc_pausers, _gc_was_enabled
    with _gc_lock:
        if _gc_pausers == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_pausers += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pausers -= 1
            if _gc_pausers == 0 and _gc_was_enabled:
                gc.enable()


def load_config_text(text: str, *, name: str = "keepalived.conf",
                     config_id: str | None = None,
                     system: SystemInfo | None = None) -> LoadResult:
    """Parse configuration text (tests, tools); relative includes resolve from the cwd.

    The text is written to a temporary file named ``name`` so that every diagnostic names
    a real file and line. (``tempfile`` is imported here: it brings ``shutil`` and the
    compression modules, which ``-t`` and the daemon never use.)
    """
    import tempfile

    with tempfile.TemporaryDirectory(prefix="pykeepalived-") as tmp:
        path = os.path.join(tmp, name)
        with open(path, "w") as f:
            f.write(text)
        return load_config(path, config_id=config_id, system=system)


def _load(path: str, config_id: str | None, system: SystemInfo,
          diags: list[Diagnostic], keyword_uses: bool) -> LoadResult:
    cid = config_id if config_id is not None else default_config_id()
    found = Diagnostics()  # what every step reports, bounded
    found.extend(diags)
    lexer = Lexer(cid, diagnostics=found)
    config = KeepalivedConfig()
    ctx = Ctx(config, system, diagnostics=found, reader=lexer, count_uses=keyword_uses)
    lexer.section_of = lambda: ctx.section
    result = LoadResult(config)
    if not lexer.open_main(path):
        _finish(result, found, path)
        return result
    config.files = lexer.files  # the files read so far, while the walk reports
    lines = lexer.statements()
    stopped = False
    try:
        walk(ctx, top_table(), lines)
    except MissingParameter as stop:
        stopped = True
        result.fatal_exit = EXIT_MISSING_PARAMETER
        if not _read_by_parent(ctx.section, str(stop)):
            # keepalived's parent reads the whole file (global_defs and the outermost
            # level) before its VRRP and checker parsers, which stop here, read the copy:
            # an include it could not read ends it first, with its own status
            for _ in lines:
                pass
            if lexer.file_error:
                result.fatal_exit = EXIT_NO_CONFIG
    finally:
        config.files = list(dict.fromkeys(lexer.files))
    result.keyword_uses = ctx.uses
    if result.fatal_exit is None and lexer.file_error:
        result.fatal_exit = EXIT_NO_CONFIG
    if not stopped and lexer.readings_differ:
        # includes are the parent's to read, and only it reports what it alone finds
        more, file_error = parent_only(path, cid, system, found)
        found.extend(more)
        if file_error:
            result.fatal_exit = EXIT_NO_CONFIG
        elif result.fatal_exit == EXIT_NO_CONFIG:
            result.fatal_exit = None
            _not_included_by_parent(found, more)
    if result.fatal_exit is None:
        checks = Ctx(config, system, diagnostics=found, scratch=ctx.scratch)
        validate_lvs(checks)
        validate_vrrp(checks)
        startup_script_security(checks)
    _finish(result, found, path)
    _log_loaded(path, result)
    return result


def _log_loaded(path: str, result: LoadResult) -> None:
    """A debug line for the daemon's log. ``logging`` is only used when the process has
    imported it already (the daemon has; ``-t`` never does, and importing it was about 3 ms
    of every ``-t``): without it no handler exists that could show the line."""
    logging = sys.modules.get("logging")
    if logging is None:
        return
    config = result.config
    logging.getLogger(__name__).debug(
        "loaded %s: %d vrrp_instances, %d virtual_servers, %d diagnostics", path,
        len(config.vrrp_instances), len(config.virtual_servers), len(result.diagnostics))


def _not_included_by_parent(found: list[Diagnostic], parents: list[Diagnostic]) -> None:
    """The include errors of pykeepalived's reading that keepalived's parent does not
    report: the include is a line of a multi-line definition to the parent (which alone
    reads includes), so nothing is included; each becomes a note."""
    theirs = {(d.file, d.line, d.message) for d in parents}
    for i, d in enumerate(found):
        if d.category == Category.FILE_NOT_FOUND and (d.file, d.line, d.message) not in theirs:
            found[i] = Diagnostic(d.file, d.line, "warning", f"{d.message} (keepalived's "
                                  "parent reads this line inside a multi-line definition: "
                                  "it includes nothing)", d.keyword, Category.OK)


def _read_by_parent(section: str, keyword: str) -> bool:
    """Whether keepalived's parent process reads ``keyword`` in ``section`` (global_defs,
    and the global keywords of the outermost level), not its VRRP or checker parser."""
    if section.startswith("global_defs"):
        return True
    return section == "top" and (keyword == "global_defs" or keyword in root_table().keywords)


def _finish(result: LoadResult, found: Diagnostics, path: str) -> None:
    """The diagnostics in file order (main file first, then by line, stable for equal
    lines), and the line counting those past the limit last."""
    order = {f: i for i, f in enumerate(result.config.files)}
    result.diagnostics = sorted(found, key=lambda d: (d.line == 0, order.get(d.file, len(order)),
                                                      d.line))
    summary = found.summary(result.config.files[0] if result.config.files else path)
    if summary is not None:
        result.diagnostics.append(summary)
