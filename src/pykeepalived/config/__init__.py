"""The keepalived.conf language: lexer, block tree, typed model, semantic checks.

Public API::

    result = load_config("/etc/keepalived/keepalived.conf", config_id="r1")
    result.config            # KeepalivedConfig
    result.diagnostics       # list[Diagnostic] ("file:line: message")
    result.ok                # no errors (warnings allowed)

The names are imported when first used (PEP 562): a process that only unpickles model
classes (the VRRP process receives its configuration read by a short-lived child) imports
``config.model*`` without the parser's modules, which it never runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pykeepalived.config.errors import Category, ConfigError, Diagnostic, exit_status
    from pykeepalived.config.loader import load_config, load_config_text
    from pykeepalived.config.model import (
        Authentication,
        GlobalDefs,
        IpAddress,
        KeepalivedConfig,
        LoadResult,
        RealServer,
        TrackFileRef,
        TrackInterface,
        TrackScriptRef,
        VirtualIpAddress,
        VirtualServer,
        VirtualServerGroup,
        VrrpInstance,
        VrrpScript,
        VrrpSyncGroup,
        VrrpTrackFile,
    )

_FROM = {
    **dict.fromkeys(("Category", "ConfigError", "Diagnostic", "exit_status"), "errors"),
    **dict.fromkeys(("load_config", "load_config_text"), "loader"),
    **dict.fromkeys((
        "Authentication", "GlobalDefs", "IpAddress", "KeepalivedConfig", "LoadResult",
        "RealServer", "TrackFileRef", "TrackInterface", "TrackScriptRef", "VirtualIpAddress",
        "VirtualServer", "VirtualServerGroup", "VrrpInstance", "VrrpScript", "VrrpSyncGroup",
        "VrrpTrackFile"), "model"),
}

__all__ = [
    "Authentication", "Category", "ConfigError", "Diagnostic", "GlobalDefs", "IpAddress",
    "KeepalivedConfig", "LoadResult", "RealServer", "TrackFileRef", "TrackInterface",
    "TrackScriptRef", "VirtualIpAddress", "VirtualServer", "VirtualServerGroup",
    "VrrpInstance", "VrrpScript", "VrrpSyncGroup", "VrrpTrackFile", "exit_status",
    "load_config", "load_config_text",
]


def __getattr__(name: str) -> Any:
    module = _FROM.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    # the import statement's own path (not importlib.import_module), which -X importtime
    # reports like any other import
    value = getattr(__import__(f"{__name__}.{module}", fromlist=[name]), name)
    globals()[name] = value
    return value
