"""The command line: keepalived's flags and `-t` exit codes."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pykeepalived.daemon import cli
from tests.unit.config.helpers import write

SRC = str(Path(__file__).resolve().parents[3] / "src")

GOOD = "global_defs {\n router_id test\n}\n"


def test_config_test_clean_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "k.conf", GOOD)
    assert cli.main(["-t", "-f", str(path)]) == 0
    assert capsys.readouterr().err == ""


def test_config_test_reports_and_exits_5(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "k.conf", "global_defs {\n prioritty 1\n}\n")
    assert cli.main(["--config-test", "--use-file", str(path)]) == 5
    err = capsys.readouterr().err
    assert f"{path}:2: warning: Unknown keyword 'prioritty'" in err


def test_config_test_to_file(tmp_path: Path) -> None:
    path = write(tmp_path, "k.conf", "bogus\n")
    report = tmp_path / "report.txt"
    assert cli.main(["-f", str(path), f"--config-test={report}"]) == 5
    assert f"{path}:1:" in report.read_text()


def test_missing_file_like_keepalived(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["-t", "-f", str(tmp_path / "absent.conf")]) == 0
    assert "absent.conf" in capsys.readouterr().err


def test_version_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["-v"]) == 0
    assert "pykeepalived" in capsys.readouterr().err
    assert cli.main(["-h"]) == 0
    err = capsys.readouterr().err
    for flag in ("--use-file", "--dont-fork", "--log-console", "--log-detail", "--log-facility",
                 "--vrrp", "--check", "--pid", "--vrrp_pid", "--checkers_pid", "--config-id",
                 "--config-test", "--version", "--help"):
        assert flag in err


@pytest.mark.parametrize("columns", [60, 140])
def test_help_is_as_wide_as_the_terminal(monkeypatch: pytest.MonkeyPatch,
                                         columns: int) -> None:
    # the formatters argparse makes while options are added and parsed have a fixed
    # width; the one that prints help follows the terminal (COLUMNS), as argparse's does
    monkeypatch.setenv("COLUMNS", str(columns))
    parser = cli.build_parser()
    text = parser.format_help()
    parser.formatter_class = argparse.HelpFormatter  # argparse's own, for the reference
    assert text == argparse.ArgumentParser.format_help(parser)
    assert len(text.splitlines()) < 100 if columns > 100 else len(text.splitlines()) > 100


def test_bad_option_exits_1() -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(["--bogus"])
    assert info.value.code == 1


def test_keepalived_flags_parse() -> None:
    args = cli.build_parser().parse_args(["-n", "-l", "-D", "-S", "local3", "-P", "-C", "-p",
                                          "/a", "-r", "/b", "-c", "/c", "-i", "r1"])
    assert (args.dont_fork, args.log_console, args.log_detail, args.log_facility) == (
        True, True, True, "local3")
    assert (args.vrrp, args.check, args.pid, args.vrrp_pid, args.checkers_pid) == (
        True, True, "/a", "/b", "/c")
    assert args.config_id == "r1" and args.use_file == "/a".replace("/a", cli.DEFAULT_CONFIG)


def test_daemon_started_lazily(monkeypatch: pytest.MonkeyPatch) -> None:
    import pykeepalived.daemon.runner as runner

    seen: list[argparse.Namespace] = []

    def fake(args: argparse.Namespace) -> int:
        seen.append(args)
        return 42

    monkeypatch.setattr(runner, "run_daemon", fake)
    assert cli.main(["-n", "-f", "/x.conf"]) == 42
    assert seen[0].use_file == "/x.conf" and seen[0].dont_fork


def test_config_id_selects_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "k.conf", "@r1 bogus\n@r2 global_defs {\n@r2 }\n")
    assert cli.main(["-t", "-f", str(path), "-i", "r2"]) == 0
    assert cli.main(["-t", "-f", str(path), "-i", "r1"]) == 5


def test_report_names_the_keyword(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "k.conf", "vrrp_instance VI_1 {\n interface eth0\n"
                 " virtual_router_id 0\n}\n")
    cli.main(["-t", "-f", str(path)])
    lines = [line for line in capsys.readouterr().err.splitlines() if f"{path}:3:" in line]
    assert lines and all("virtual_router_id" in line or "VRID" in line for line in lines)


def test_config_test_never_takes_a_separate_word_as_its_file(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`-t FILE` is keepalived's stray argument, not an output file: FILE is left untouched."""
    path = write(tmp_path, "keepalived.conf", "bogus\n")
    before = path.read_bytes()
    status = cli.main(["-f", str(path), "-t", str(path)])
    assert path.read_bytes() == before
    err = capsys.readouterr().err
    assert f"Unexpected argument(s): {path}" in err
    assert status == 5 and f"{path}:1:" in err  # the test itself still ran, on -f's file


def test_config_test_bare_t_then_words(tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "k.conf", "bogus\n")
    status = cli.main(["-nt", "x1", "-f", str(path), "x2"])
    err = capsys.readouterr().err
    assert "Unexpected argument(s): x1 x2" in err and status == 5
    assert not (tmp_path / "x1").exists()


def test_config_test_attached_file_is_appended(tmp_path: Path) -> None:
    path = write(tmp_path, "k.conf", "bogus\n")
    report = tmp_path / "report.txt"
    report.write_text("earlier run\n")
    assert cli.main(["-f", str(path), f"-t{report}"]) == 5
    text = report.read_text()
    assert text.startswith("earlier run\n") and f"{path}:1:" in text


@pytest.mark.parametrize("target", ["main", "include", "symlink"])
def test_config_test_never_writes_a_configuration_file(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], target: str) -> None:
    inc = write(tmp_path, "inc.conf", "global_defs {\n router_id a\n}\n")
    path = write(tmp_path, "k.conf", f"include {inc}\nbogus\n")
    (tmp_path / "link.conf").symlink_to(path)
    out = {"main": path, "include": inc, "symlink": tmp_path / "link.conf"}[target]
    saved = {p: p.read_bytes() for p in (path, inc)}
    assert cli.main(["-f", str(path), f"--config-test={out}"]) == 5
    assert {p: p.read_bytes() for p in (path, inc)} == saved
    err = capsys.readouterr().err
    assert "a file of the configuration" in err and f"{path}:2:" in err


def test_config_test_leaves_the_cycle_collector_as_it_found_it(tmp_path: Path) -> None:
    """``-t`` pauses the collector while it imports and reads; a caller's setting stays."""
    import gc

    path = write(tmp_path, "keepalived.conf",
                 "vrrp_instance VI_1 {\n    virtual_router_id 300\n}\n")
    assert gc.isenabled()
    assert cli.main(["-t", "-f", str(path)]) != 0
    assert gc.isenabled()
    gc.disable()
    try:
        assert cli.main(["-t", "-f", str(tmp_path / "absent.conf")]) == 0
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_the_command_reports_whole_and_exits_with_the_status(tmp_path: Path) -> None:
    """``pykeepalived -t`` as a command ends without the interpreter's teardown: the report
    still reaches a pipe and a -t FILE whole, and the exit status is keepalived's."""
    import os
    import subprocess
    import sys

    src = str(Path(__file__).resolve().parents[3] / "src")
    path = write(tmp_path, "keepalived.conf",
                 "vrrp_instance VI_1 {\n    virtual_router_id 300\n    bogus_kw 1\n}\n")
    env = dict(os.environ, PYTHONPATH=src)
    proc = subprocess.run([sys.executable, "-m", "pykeepalived", "-t", "-f", str(path)],
                          capture_output=True, text=True, timeout=60, env=env)
    assert proc.returncode == 5, proc.stderr
    lines = proc.stderr.splitlines()
    assert "Unknown keyword 'bogus_kw' in vrrp_instance" in lines[-2]
    assert lines[-1].endswith("1 error(s), 3 warning(s); exit status 5")
    report = tmp_path / "report"
    proc = subprocess.run([sys.executable, "-m", "pykeepalived", "-f", str(path),
                           f"--config-test={report}"], capture_output=True, text=True,
                          timeout=60, env=env)
    assert proc.returncode == 5, proc.stderr
    assert report.read_text().splitlines() == lines


def test_config_test_command_never_runs_the_cycle_collector(tmp_path: Path) -> None:
    # the command exits with os._exit once its report is out: a collection after the load
    # would walk every object of the model for nothing
    conf = tmp_path / "keepalived.conf"
    conf.write_text("".join(f"vrrp_instance VI_{i} {{\n    interface lo\n    virtual_router_id "
                            f"{i + 1}\n    virtual_ipaddress {{\n        192.0.2.{i + 1}\n"
                            "    }\n}\n" for i in range(100)))
    code = f"""
import gc, os, sys
from pykeepalived.daemon import cli
passes = []
real_config_test, real_exit = cli.config_test, os._exit
def config_test(args):
    gc.callbacks.append(lambda phase, info: passes.append(phase) if phase == "start" else None)
    return real_config_test(args)
def exit_now(status):
    sys.stdout.write(f"passes={{len(passes)}} status={{status}}\\n")
    sys.stdout.flush()
    real_exit(status)
cli.config_test, os._exit = config_test, exit_now
sys.argv = ["pykeepalived", "-t", "-f", {str(conf)!r}]
cli.main()
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, env=dict(os.environ, PYTHONPATH=SRC))
    assert proc.stdout.split() == ["passes=0", "status=5"], (proc.stdout, proc.stderr[-500:])
