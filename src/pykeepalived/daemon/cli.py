"""The ``pykeepalived`` command line: keepalived's own flags (``man 8 keepalived``).

``-t/--config-test[=FILE]`` checks the configuration and exits with keepalived's status
(0 clean; 4 cannot run it; 5 errors or warnings it would run with; 6 script security;
2 when a keyword lacks its parameter), so scripts wrapping ``keepalived -t`` keep working.
Diagnostics go to stderr, or are appended to FILE, as ``file:line: severity: message``.
As with keepalived's getopt, FILE is only ever attached (``-tFILE``, ``--config-test=FILE``):
``-t /etc/keepalived/keepalived.conf`` is a test of the default file plus a stray argument,
reported as "Unexpected argument(s)", and a file of the configuration is never written.
Without -t/-v/-h the daemon starts (``pykeepalived.daemon.runner.run_daemon``). Flags
that this version does not act on yet are accepted and listed in ``--help``.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from pykeepalived import __version__

DEFAULT_CONFIG = "/etc/keepalived/keepalived.conf"
KEEPALIVED_COMPAT = "2.2.7"
EXIT_BAD_USAGE = 1  # keepalived exits 1 on an unknown option
_CHECK_WIDTH = 80  # the width of argparse's formatters whose text is never shown


class _Parser(argparse.ArgumentParser):
    """argparse that exits like keepalived (status 1) on a bad option.

    argparse makes a help formatter for every ``add_argument`` (to check the metavar), and
    each one reads the terminal's width through ``shutil``, whose import brings ``bz2`` and
    ``lzma``: about 1.3 ms of every ``-t``. Those formatters get a fixed width; ``--help``
    still fits the terminal.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._for_output = False
        kwargs["formatter_class"] = self._formatter
        super().__init__(*args, **kwargs)

    def _formatter(self, prog: str) -> argparse.HelpFormatter:
        if self._for_output:
            return argparse.HelpFormatter(prog)
        return argparse.HelpFormatter(prog, width=_CHECK_WIDTH)

    def format_help(self) -> str:
        self._for_output = True
        try:
            return super().format_help()
        finally:
            self._for_output = False

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"pykeepalived: {message}\n")
        raise SystemExit(EXIT_BAD_USAGE)

    def parse_known_intermixed_args(  # type: ignore[override]
            self, args: Sequence[str] | None = None,
            namespace: argparse.Namespace | None = None) -> tuple[argparse.Namespace, list[str]]:
        """argparse's, without the usage line it would write first for its error messages
        (about 0.3 ms of every command: this parser's ``error`` never shows it)."""
        if self.usage is not None:
            return super().parse_known_intermixed_args(args, namespace)
        self.usage = "(not shown)"
        try:
            return super().parse_known_intermixed_args(args, namespace)
        finally:
            self.usage = None


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="pykeepalived", add_help=False,
                description="keepalived's VRRP stack, health checkers and load-balancer "
                "rules, in Python. Flags are keepalived's.",
                epilog="Exit status with -t: 0 OK; 4 configuration cannot be run; 5 errors "
                "keepalived would run with; 6 scripts without enable_script_security; 2 a "
                "keyword lacks its parameter.")
    a = p.add_argument
    a("-f", "--use-file", metavar="FILE", default=DEFAULT_CONFIG,
      help=f"use the specified configuration file (default {DEFAULT_CONFIG})")
    a("-P", "--vrrp", action="store_true", help="only run the VRRP subsystem")
    a("-C", "--check", action="store_true", help="only run the health-checker subsystem")
    a("-B", "--no_bfd", action="store_true", help="don't run the BFD subsystem (accepted)")
    a("--all", action="store_true", help="run all subsystems, even unconfigured (accepted)")
    a("-l", "--log-console", action="store_true", help="log messages to the local console")
    a("-D", "--log-detail", action="store_true", help="detailed log messages")
    a("-S", "--log-facility", metavar="{0-7|local{0-7}|user|daemon}",
      help="syslog facility (default daemon)")
    a("-g", "--log-file", metavar="FILE", help="log to FILE (accepted)")
    a("--flush-log-file", action="store_true", help="flush the log file after each write "
      "(accepted)")
    a("-G", "--no-syslog", action="store_true", help="don't log to syslog")
    a("-X", "--release-vips", action="store_true", help="drop VIPs on transition from signal "
      "(accepted)")
    a("-V", "--dont-release-vrrp", action="store_true", help="don't remove VRRP VIPs and "
      "routes on stop")
    a("-I", "--dont-release-ipvs", action="store_true", help="don't remove IPVS topology on "
      "stop")
    a("-R", "--dont-respawn", action="store_true", help="don't respawn child processes")
    a("-n", "--dont-fork", action="store_true", help="don't fork the daemon process")
    a("-d", "--dump-conf", action="store_true", help="dump the configuration data (accepted)")
    a("-p", "--pid", metavar="FILE", help="pid file of the parent process "
      "(default /run/keepalived.pid)")
    a("-r", "--vrrp_pid", metavar="FILE", help="pid file of the VRRP child "
      "(default /run/keepalived_vrrp.pid)")
    a("-c", "--checkers_pid", metavar="FILE", help="pid file of the checker child "
      "(default /run/keepalived_checkers.pid)")
    a("-b", "--bfd_pid", metavar="FILE", help="pid file of the BFD child (accepted)")
    a("-a", "--address-monitoring", action="store_true", help="log address changes "
      "(accepted)")
    a("-s", "--namespace", metavar="NAME", help="run in network namespace NAME (accepted)")
    a("-e", "--all-config", action="store_true", help="don't load if a configuration file "
      "is missing (accepted)")
    a("-i", "--config-id", metavar="ID", help="configuration id for @ID conditional lines "
      "(default: host name without domain)")
    a("-x", "--snmp", action="store_true", help="enable SNMP (accepted)")
    a("-A", "--snmp-agent-socket", metavar="FILE", help="SNMP agent socket (accepted)")
    a("-u", "--umask", metavar="NUMBER", help="umask (accepted)")
    a("-m", "--core-dump", action="store_true", help="enable core dumps (accepted)")
    a("-M", "--core-dump-pattern", nargs="?", const="core", metavar="PATTERN",
      help="core dump pattern (accepted)")
    a("--signum", metavar="SIGFUNC", help="print the signal number for STOP, RELOAD, DATA, "
      "STATS, STATS_CLEAR, JSON or TDATA")
    a("-t", "--config-test", nargs="?", const="", metavar="FILE",
      help="check the configuration and exit; diagnostics to stderr, or appended to FILE "
      "(attached: -tFILE or --config-test=FILE)")
    a("--perf", nargs="?", const="run", help="record perf data (accepted)")
    a("--debug", nargs="?", const="", help="debug options (accepted)")
    a("--no-mem-check", action="store_true", help="(accepted)")
    a("-T", "--genhash", action="store_true", help="genhash mode (not supported)")
    a("--status", action="store_true", help="print the state of the running daemon (every "
      "instance, sync group and virtual server, the load-balancer table in ipvsadm -Ln form) "
      "and exit; finds it through -p")
    a("--json", action="store_true", help="with --status: the same as JSON")
    a("--history", action="store_true", help="with --status: each virtual router's "
      "transitions and failovers (gap without a master, MTBF, MTTR, availability)")
    a("--svg", metavar="FILE", help="with --status --history: also write each virtual "
      "router's state over time, with its failovers' gaps, as an SVG picture to FILE")
    a("--handover", metavar="NAME", help="hand over the VRRP instance NAME (its sync group, "
      "if it has one), the vrrp_sync_group NAME, or 'all' without loss: each MASTER sends "
      "priority 0 but keeps its VIPs until the new master is in place, then stays BACKUP "
      "and does not preempt back; waits until done (finds the daemon through -p)")
    a("--drain", metavar="NAME", help="as --handover, and lower the effective priority to 1 "
      "until --resume: the node serves NAME only if no other node can")
    a("--resume", metavar="NAME", help="undo --drain and --handover: NAME follows its "
      "configuration again (a higher-priority node preempts, as configured)")
    a("--demo", action="store_true", help="run the live demonstration on network namespaces "
      "(needs root; touches nothing outside the namespaces it creates)")
    a("-v", "--version", action="store_true", help="display the version and exit")
    a("-h", "--help", action="store_true", help="display this help and exit")
    a("unexpected", nargs="*", help=argparse.SUPPRESS)
    return p


# Short flags that take no argument: they may precede ``t`` in one cluster (``-nt``).
_NO_ARG_SHORT = frozenset("PCBlDGXVIRndaexmvh")


def _attached_optional(argv: Sequence[str]) -> list[str]:
    """Give ``-t`` getopt's ``optional_argument`` meaning: its FILE only ever attached.

    argparse would take the next word as FILE (``-t keepalived.conf``); getopt does not, so
    a bare ``-t`` (alone, or ending a cluster of no-argument flags) becomes
    ``--config-test=`` with no file, and the next word stays an argument of its own.
    """
    out: list[str] = []
    for i, word in enumerate(argv):
        if word == "--":
            out.extend(argv[i:])
            break
        if word == "--config-test":
            out.append("--config-test=")
        elif (len(word) >= 2 and word[0] == "-" and word[1] != "-" and word.endswith("t")
              and all(c in _NO_ARG_SHORT for c in word[1:-1])):
            if len(word) > 2:
                out.append(word[:-1])
            out.append("--config-test=")
        else:
            out.append(word)
    return out


SIGNUMS = {"STOP": 15, "RELOAD": 1, "DATA": 10, "STATS": 12, "STATS_CLEAR": 12, "JSON": 10,
           "TDATA": 10}


def config_test(args: argparse.Namespace) -> tuple[int, list[str], list[str]]:
    """``-t``: load; return keepalived's exit status, the report lines, and the files read.

    The cycle collector is off while the parser's modules are imported (as it is while the
    configuration is read): importing them makes objects by the ten thousand and frees none,
    so its collections found nothing and cost a few milliseconds of every ``-t``.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        from pykeepalived.config import ConfigError, load_config
        from pykeepalived.config.errors import exit_status

        try:
            result = load_config(args.use_file, config_id=args.config_id, keyword_uses=False)
        except ConfigError as exc:
            return (exit_status([exc.as_diagnostic()]), [str(exc.as_diagnostic())],
                    [args.use_file])
    finally:
        if enabled:
            gc.enable()
    lines = []
    for diag in result.diagnostics:
        where = f"{diag.file}:{diag.line}" if diag.line else diag.file
        kw = f"'{diag.keyword}': " if diag.keyword and diag.keyword not in diag.message else ""
        lines.append(f"{where}: {diag.severity}: {kw}{diag.message}")
    status = result.exit_status
    if result.diagnostics:
        errors = len(result.errors)
        lines.append(f"{args.use_file}: {errors} error(s), {len(result.warnings)} warning(s); "
                     f"exit status {status}")
    return status, lines, [args.use_file, *result.config.files]


def _is_one_of(path: str, files: Sequence[str]) -> bool:
    """Is ``path`` (which may not exist yet) the same file as one of ``files``?"""
    real = os.path.realpath(path)
    for other in files:
        try:
            if os.path.realpath(other) == real or os.path.samefile(other, path):
                return True
        except OSError:
            continue
    return False


def _report(lines: list[str], out_path: str, files: Sequence[str]) -> None:
    """Append the report to ``out_path`` (keepalived appends), or say why it cannot."""
    text = "".join(f"{line}\n" for line in lines)
    if out_path:
        if _is_one_of(out_path, files):
            sys.stderr.write(f"pykeepalived: not writing the -t report into {out_path}: it is "
                             "a file of the configuration; reporting here instead\n")
        else:
            try:
                with open(out_path, "a") as out:
                    out.write(text)
                return
            except OSError as exc:
                sys.stderr.write(f"pykeepalived: cannot write {out_path}: {exc.strerror}; "
                                 "reporting here instead\n")
    sys.stderr.write(text)


def _exit_now(status: int) -> NoReturn:
    """End ``-t`` without the interpreter's teardown: freeing the model and every module
    object by object took about 10 ms of the 150 ms of ``-t`` on the 1,000-instance,
    1,000-virtual-server benchmark file, for memory the kernel takes back at once. What was
    written is flushed first: the logging handlers too, when something imported
    ``logging`` (``-t`` itself does not: importing it only to shut it down was 3 ms)."""
    logging = sys.modules.get("logging")
    if logging is not None:
        logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(status)


def main(argv: Sequence[str] | None = None) -> int:
    words = _attached_optional(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_intermixed_args(words)
    if args.unexpected:
        # keepalived reports stray words and carries on with the flags it understood
        sys.stderr.write(f"Unexpected argument(s): {' '.join(args.unexpected)} \n")
    if args.help:
        build_parser().print_help(sys.stderr)
        return 0
    if args.version:
        sys.stderr.write(f"pykeepalived {__version__} (keepalived {KEEPALIVED_COMPAT} "
                         "configuration and behaviour)\n")
        return 0
    if args.signum is not None:
        num = SIGNUMS.get(args.signum.upper())
        if num is None:
            sys.stderr.write(f"Unknown sigfunc {args.signum}\n")
            return 1
        print(num)
        return 0
    if args.status:
        from pykeepalived.control.status import print_status

        return print_status(args.pid or "/run/keepalived.pid", as_json=args.json,
                            history=args.history or args.svg is not None, svg=args.svg)
    verbs = [(v, getattr(args, v)) for v in ("handover", "drain", "resume")
             if getattr(args, v) is not None]
    if len(verbs) > 1:
        sys.stderr.write("pykeepalived: give one of --handover, --drain, --resume\n")
        return EXIT_BAD_USAGE
    if verbs:
        from pykeepalived.control.handover import run as control_run

        verb, target = verbs[0]
        return control_run(args.pid or "/run/keepalived.pid", verb, target, as_json=args.json)
    if args.demo:
        from pykeepalived.demo.run import main as demo_main

        return demo_main()
    if args.config_test is not None:
        if argv is None:
            # the command ends with os._exit once its report is out: turned back on, the
            # cycle collector's next pass would walk every object of the model (all of
            # them still young), about 5 ms on a 1,000-instance configuration, to free
            # nothing
            gc.disable()
        status, lines, files = config_test(args)
        _report(lines, args.config_test, files)
        if argv is None:  # the command itself, not a caller in the same process
            _exit_now(status)
        return status
    from pykeepalived.daemon.runner import run_daemon

    return run_daemon(args)
