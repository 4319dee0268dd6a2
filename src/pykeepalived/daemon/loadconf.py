"""The configuration reader a reload runs in a child process (see :mod:`daemon.reload`).

``python -m pykeepalived.daemon.loadconf PATH [--config-id ID]`` reads and checks PATH and
writes the result, pickled, to standard output: ``{"result": LoadResult}``, or
``{"error": message}`` when the file cannot be used at all. The VRRP process has no use for
virtual servers, so they are left out of what it receives (their checks still ran) unless
``--keep-lvs`` (the checker process) asks for them.
"""

from __future__ import annotations

import argparse
import pickle
import sys
from typing import Any


def read(path: str, config_id: str | None, keep_lvs: bool = False) -> dict[str, Any]:
    from pykeepalived.config import ConfigError, load_config

    try:
        result = load_config(path, config_id=config_id)
    except ConfigError as exc:
        return {"error": str(exc.as_diagnostic())}
    if not keep_lvs:
        result.config.virtual_servers = []
        result.config.virtual_server_groups = {}
    return {"result": result}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pykeepalived.daemon.loadconf")
    parser.add_argument("path")
    parser.add_argument("--config-id")
    parser.add_argument("--keep-lvs", action="store_true")
    args = parser.parse_args(argv)
    reply = read(args.path, args.config_id, args.keep_lvs)
    sys.stdout.buffer.write(pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL))
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
