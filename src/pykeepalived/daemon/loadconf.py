"""The configuration readers of the daemon's children: a short-lived process reads and checks
the file, and the child receives the result, so that the parser never runs in it.

``python -m pykeepalived.daemon.loadconf PATH [--config-id ID]`` (a reload, see
:mod:`daemon.reload`) reads and checks PATH and writes the result, pickled, to standard
output: ``{"result": LoadResult}``, or ``{"error": message}`` when the file cannot be used
at all. The VRRP process has no use for virtual servers, so they are left out of what it
receives (their checks still ran) unless ``--keep-lvs`` (the checker process) asks for them;
with ``--vrrp`` the reply also holds ``"setup"``, the VRRP process's
:class:`~pykeepalived.daemon.instance.VrrpSetup` (the instances planned, their blocks left
out), which is what it applies.

:func:`read_forked` reads the VRRP process's setup at its start, in a forked child.
"""

from __future__ import annotations

import argparse
import os
import pickle
import sys
from typing import Any


def read(path: str, config_id: str | None, keep_lvs: bool = False,
         vrrp: bool = False) -> dict[str, Any]:
    from pykeepalived.config import ConfigError, load_config

    try:
        result = load_config(path, config_id=config_id)
    except ConfigError as exc:
        return {"error": str(exc.as_diagnostic())}
    if not keep_lvs:
        result.config.virtual_servers = []
        result.config.virtual_server_groups = {}
    if vrrp:
        from pykeepalived.daemon.instance import plan_setup

        setup = plan_setup(result.config)
        result.config = setup.config  # one copy of the rest, shared with the setup
        result.keyword_uses = {}  # only -t and the start report unsupported keywords
        return {"result": result, "setup": setup}
    return {"result": result}


class ReadFailed(RuntimeError):
    """The reader child failed for another reason than the configuration (it crashed)."""


def read_forked(path: str, config_id: str | None) -> Any | None:
    """The VRRP process's :class:`~pykeepalived.daemon.instance.VrrpSetup` of ``path``,
    read in a forked short-lived child; None when the configuration cannot be run (the
    reasons logged at debug level: the parent reported them when it checked the file).

    The parser's modules and its temporary objects stay in the child: the VRRP process
    unpickles the plans and the model's remaining sections only (1,000 instances: about
    5 MiB less in it than parsing the file itself). Raises :class:`ReadFailed` when the
    child fails otherwise.
    """
    from pykeepalived.daemon.process import EXIT_CONFIG, EXIT_OK, ending, run_reader

    def body(write_end: int) -> int:
        from pykeepalived.daemon.instance import plan_setup
        from pykeepalived.daemon.runner import load

        config = load(path, config_id, quiet=True)
        if config is None:
            return EXIT_CONFIG
        with os.fdopen(write_end, "wb") as pipe:
            pipe.write(pickle.dumps(plan_setup(config), protocol=pickle.HIGHEST_PROTOCOL))
        return EXIT_OK

    code, data = run_reader(body, f"Reading {path}")
    if code == EXIT_CONFIG:
        return None
    if code != EXIT_OK or not data:
        raise ReadFailed(f"the reader of {path} ended with {ending(code)}")
    return pickle.loads(data)  # our own child's output


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pykeepalived.daemon.loadconf")
    parser.add_argument("path")
    parser.add_argument("--config-id")
    parser.add_argument("--keep-lvs", action="store_true")
    parser.add_argument("--vrrp", action="store_true")
    args = parser.parse_args(argv)
    reply = read(args.path, args.config_id, args.keep_lvs, args.vrrp)
    sys.stdout.buffer.write(pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL))
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
