"""The keepalived.conf language: lexer, block tree, typed model, semantic checks.

Public API::

    result = load_config("/etc/keepalived/keepalived.conf", config_id="r1")
    result.config            # KeepalivedConfig
    result.diagnostics       # list[Diagnostic] ("file:line: message")
    result.ok                # no errors (warnings allowed)
"""

from __future__ import annotations

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

__all__ = [
    "Authentication", "Category", "ConfigError", "Diagnostic", "GlobalDefs", "IpAddress",
    "KeepalivedConfig", "LoadResult", "RealServer", "TrackFileRef", "TrackInterface",
    "TrackScriptRef", "VirtualIpAddress", "VirtualServer", "VirtualServerGroup",
    "VrrpInstance", "VrrpScript", "VrrpSyncGroup", "VrrpTrackFile", "exit_status",
    "load_config", "load_config_text",
]
