"""HTTP_GET and SSL_GET: every ``url {}`` fetched and judged, within one connect_timeout.

keepalived fetches one url per run of the checker and moves to the next url only when it
passed; the real server is up once each url has passed. Here one attempt fetches the urls in
order, each over a connection of its own (the request asks the server to close it), and
stops at the first that fails: the attempt passes when they all do. The whole attempt,
connects and TLS handshakes included, is bounded by ``target.timeout``.

The request and the judgement are keepalived's (see :mod:`.http_response`); they are written
on asyncio streams rather than with an HTTP client library because the digest operators
computed with genhash covers the body exactly as the server sent it (HTTP/1.0, no
``Accept-Encoding``, no de-chunking), which a client library would not give.

Reading ends at the end of the stream. A connection reset while reading fails HTTP_GET; for
SSL_GET, as with keepalived, any TLS read error ends the stream and what was received is
judged. TLS: see :func:`.context.build_tls_context`; with ``enable_sni`` the url's (else the
checker's, else the servers') virtualhost is sent as the server name.
"""

from __future__ import annotations

import asyncio
import ssl

from pykeepalived.check.context import CheckContext
from pykeepalived.check.http_response import (
    ResponseReader,
    build_request,
    host_header,
    judge,
    url_virtualhost,
)
from pykeepalived.check.result import CheckResult, Target
from pykeepalived.check.sockets import (
    CheckFailed,
    Phase,
    close_quietly,
    describe_os_error,
    open_stream_socket,
)
from pykeepalived.config.model_lvs import HttpGet, Url

__all__ = ["check_http_get", "check_ssl_get"]

_READ_SIZE = 65536


async def check_http_get(spec: HttpGet, target: Target,
                         context: CheckContext | None = None) -> CheckResult:
    """One HTTP_GET attempt: every url over plain TCP."""
    return await _check(spec, target, context, tls=False)


async def check_ssl_get(spec: HttpGet, target: Target,
                        context: CheckContext | None = None) -> CheckResult:
    """One SSL_GET attempt: every url over TLS."""
    return await _check(spec, target, context, tls=True)


async def _check(spec: HttpGet, target: Target, context: CheckContext | None,
                 tls: bool) -> CheckResult:
    # keepalived drops a url without a path ("url has no path - ignoring")
    urls = [url for url in spec.url if url.path]
    if not urls:
        return CheckResult(False, "no url with a path to check")
    context = context if context is not None else CheckContext()
    phase = Phase()
    passed: list[str] = []
    current = urls[0]
    try:
        async with asyncio.timeout(target.timeout):
            for current in urls:
                status = await _fetch(spec, current, target, context, tls, phase)
                passed.append(f"url {current.path}: HTTP status {status}")
    except TimeoutError:
        return CheckResult(False, f"{phase.timed_out(target.timeout)} (url {current.path})")
    except CheckFailed as failed:
        return CheckResult(False, f"{failed.detail} (url {current.path})")
    return CheckResult(True, "; ".join(passed))


def _server_name(spec: HttpGet, url: Url, target: Target) -> str | None:
    if not spec.enable_sni:
        return None
    return url_virtualhost(url, spec, target)


async def _fetch(spec: HttpGet, url: Url, target: Target, context: CheckContext, tls: bool,
                 phase: Phase) -> int:
    """Fetch one url; its status code when it passes, else CheckFailed."""
    assert url.path is not None
    sock = await open_stream_socket(target, phase)
    tls_context: ssl.SSLContext | None = None
    name: str | None = None
    if tls:
        name = _server_name(spec, url, target)
        try:
            tls_context = context.tls(check_name=name is not None)
        except CheckFailed:
            close_quietly(sock)
            raise
        phase.now = "in the TLS handshake"
    try:
        reader, writer = await asyncio.open_connection(
            sock=sock, ssl=tls_context, server_hostname=name or ("" if tls else None),
            limit=_READ_SIZE)
    except ssl.SSLCertVerificationError as exc:
        close_quietly(sock)
        raise CheckFailed(f"certificate verification failed: {exc.verify_message}") from None
    except ssl.SSLError as exc:
        close_quietly(sock)
        raise CheckFailed(f"TLS handshake failed: {exc.reason or exc}") from None
    except OSError as exc:
        close_quietly(sock)
        where = " in the TLS handshake" if tls else ""
        raise CheckFailed(f"{describe_os_error(exc)}{where}") from None
    except BaseException:
        close_quietly(sock)
        raise
    try:
        phase.now = "sending the request"
        writer.write(build_request(url.path, host_header(url, spec, target),
                                   spec.http_protocol))
        await writer.drain()
        phase.now = "reading the answer"
        response = ResponseReader(keep_body=url.regex is not None)
        await _read_all(reader, response, tls)
    except OSError as exc:
        raise CheckFailed(f"{describe_os_error(exc)} while {phase.now}") from None
    finally:
        # no TLS close_notify exchange: a check does not wait on a server's goodbye
        writer.transport.abort()
    result = response.finish()
    problem = judge(url, result)
    if problem is not None:
        raise CheckFailed(problem)
    return result.status_code


async def _read_all(reader: asyncio.StreamReader, response: ResponseReader, tls: bool) -> None:
    while True:
        try:
            data = await reader.read(_READ_SIZE)
        except OSError:  # ssl.SSLError included
            if tls:
                return  # keepalived: a TLS read error ends the stream
            raise
        if not data:
            return
        response.feed(data)
