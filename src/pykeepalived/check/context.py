"""What some checkers need beyond their own block: shared settings built once.

- SSL_GET uses the top-level ``SSL { password; ca; certificate; key }`` block;
- FILE_CHECK names a ``track_file`` block, whose file path (and default weight) lives there;
- MISC_CHECK runs its script through the daemon's :class:`ScriptRunner`, so that
  ``script_user`` and ``enable_script_security`` apply to it as to every other script.

One :class:`CheckContext` is made per configuration (a reload makes a new one), and handed to
every check of that configuration. TLS contexts are built from it on first use and kept.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from types import MappingProxyType

from pykeepalived.check.sockets import CheckFailed
from pykeepalived.config.model_lvs import SslConfig
from pykeepalived.config.model_vrrp import VrrpTrackFile
from pykeepalived.notify.script import ScriptRunner

__all__ = ["CheckContext", "build_tls_context"]

_EMPTY: Mapping[str, VrrpTrackFile] = MappingProxyType({})


def build_tls_context(config: SslConfig | None, *, check_name: bool) -> ssl.SSLContext:
    """The client TLS context of SSL_GET.

    Like keepalived, no ``SSL`` block (or one without ``ca``) means the server's certificate
    is not verified: a health check asks whether the service answers, and real servers
    commonly present self-signed certificates. ``certificate``/``key``/``password`` give the
    client certificate a server may ask for.

    With ``ca`` pykeepalived verifies the certificate chain against it (keepalived 2.2.7
    loads the file but never asks OpenSSL to verify); and when ``check_name`` is set (the
    checker sends SNI) the certificate must also be for that name. A failed verification
    fails the check, with OpenSSL's reason in the detail.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if config is not None and config.ca:
        try:
            context.load_verify_locations(cafile=config.ca)
        except (OSError, ssl.SSLError) as exc:
            raise CheckFailed(f"SSL ca {config.ca}: cannot load: {exc}") from None
        context.check_hostname = check_name
        context.verify_mode = ssl.CERT_REQUIRED
    else:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if config is not None and (config.certificate or config.key):
        if not config.certificate:
            raise CheckFailed("SSL key given without certificate")
        try:
            context.load_cert_chain(config.certificate, config.key, config.password)
        except (OSError, ssl.SSLError) as exc:
            raise CheckFailed(f"SSL certificate {config.certificate}: cannot load: "
                              f"{exc}") from None
    return context


class CheckContext:
    """Settings shared by the checks of one configuration; see the module docstring.

    ``scripts`` None makes MISC_CHECK use a runner of its own with keepalived's defaults
    (``keepalived_script`` if that user exists, no script security).
    """

    def __init__(self, *, ssl_config: SslConfig | None = None,
                 track_files: Mapping[str, VrrpTrackFile] | None = None,
                 scripts: ScriptRunner | None = None) -> None:
        self.ssl_config = ssl_config
        self.track_files: Mapping[str, VrrpTrackFile] = \
            _EMPTY if track_files is None else track_files
        self.scripts = scripts
        self._tls: dict[bool, ssl.SSLContext] = {}

    def tls(self, *, check_name: bool) -> ssl.SSLContext:
        """The TLS client context (built on first use; raises CheckFailed if it cannot be)."""
        found = self._tls.get(check_name)
        if found is None:
            found = build_tls_context(self.ssl_config, check_name=check_name)
            self._tls[check_name] = found
        return found

    def script_runner(self) -> ScriptRunner:
        """The runner MISC_CHECK scripts go through."""
        if self.scripts is None:
            self.scripts = ScriptRunner()
        return self.scripts
