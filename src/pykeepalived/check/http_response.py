"""HTTP_GET / SSL_GET without I/O: the request keepalived sends, and how it judges the answer.

keepalived does not speak HTTP through a library; it writes one fixed request and reads the
answer to the end of the stream (keepalived/check/check_http.c, lib/html.c), and operators
compute their ``digest`` lines with ``genhash``, which hashes exactly what keepalived hashes.
So the bytes matter, and this module reproduces them:

- the request is ``GET <path> HTTP/1.0`` (``HTTP/1.1`` with ``http_protocol 1.1``), then
  ``User-Agent: KeepAliveClient``, then ``Connection: close`` for ``http_protocol 1.0C`` and
  ``1.1``, then ``Host:`` with the virtualhost (url's, else checker's, else the real or
  virtual server's) or else the address and port connected to (IPv6 in brackets);
- the header ends at the first CRLF CRLF; a stream that ends before it fails the check;
- the status code is the 3 digits between the first space of the status line and the next
  space (``HTTP/1.0 200\\r\\n``, without a reason phrase, is no status); it must lie in
  100-999 and in the url's ``status_code`` ranges (default 200-299);
- ``digest`` is the MD5 of the body as it came on the wire (no de-chunking, no decoding),
  cut at ``Content-Length:`` (matched case-sensitively, as keepalived does) when that header
  is present;
- ``regex`` is searched in the body from ``regex_min_offset``, and a match must start at or
  before ``regex_max_offset``; ``regex_no_match`` reverses the verdict.

keepalived matches with PCRE2; here Python's ``re`` on bytes does, which agrees for the
usual patterns. ``regex_options`` caseless, multiline, dotall, extended and firstline are
applied; the others (JIT and PCRE-specific switches) have no ``re`` counterpart and are
ignored with a warning. keepalived searches the whole stream with partial matching; here the
first :data:`REGEX_BUFFER_MAX` bytes of the body are searched.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import re
from dataclasses import dataclass
from typing import Final

from pykeepalived.check.result import Target
from pykeepalived.config.model_lvs import HttpGet, Url

__all__ = [
    "DEFAULT_STATUS",
    "REGEX_BUFFER_MAX",
    "ResponseReader",
    "build_request",
    "compile_regex",
    "host_header",
    "judge",
    "status_ranges_text",
    "url_virtualhost",
]

log = logging.getLogger(__name__)

DEFAULT_STATUS: Final = ((200, 299),)
#: How much of the body is kept for the regex search.
REGEX_BUFFER_MAX: Final = 4 * 1024 * 1024
_HEADER_MAX: Final = 64 * 1024  # a header larger than this is not an HTTP answer
_CONTENT_LENGTH: Final = b"Content-Length:"

_REGEX_FLAGS: Final = {
    "caseless": re.IGNORECASE,
    "multiline": re.MULTILINE,
    "dotall": re.DOTALL,
    "extended": re.VERBOSE,
}
# Options that change nothing for Python's re on bytes, or only PCRE's speed.
_REGEX_NEUTRAL: Final = frozenset({
    "utf", "ucp", "never_ucp", "never_utf", "no_auto_possess", "no_start_optimize",
    "no_dotstar_anchor", "never_backslash_c", "dupnames", "auto_callout", "use_offset_limit",
})


def url_virtualhost(url: Url, spec: HttpGet, target: Target) -> str | None:
    """The virtualhost of one url: the url's, else the checker's, else the servers'."""
    return url.virtualhost or spec.virtualhost or target.virtualhost


def host_header(url: Url, spec: HttpGet, target: Target) -> str:
    """The Host header's value: the virtualhost as written, or the address and port."""
    vhost = url_virtualhost(url, spec, target)
    if vhost:
        return vhost
    host = f"[{target.address}]" if target.address.version == 6 else str(target.address)
    return f"{host}:{target.port}"


def build_request(path: str, host: str, http_protocol: str = "1.0") -> bytes:
    """keepalived's GET request, byte for byte."""
    version = "1.1" if http_protocol == "1.1" else "1.0"
    close = "Connection: close\r\n" if http_protocol.upper() in ("1.0C", "1.1") else ""
    text = (f"GET {path} HTTP/{version}\r\nUser-Agent: KeepAliveClient\r\n{close}"
            f"Host: {host}\r\n\r\n")
    return text.encode("utf-8", "surrogateescape")


def extract_status_code(head: bytes) -> int:
    """The status code of a status line, keepalived's way; 0 when there is none."""
    i = 0
    n = len(head)
    while i < n and head[i] not in b" \r":
        i += 1
    if i >= n or head[i] != 0x20:
        return 0
    i += 1
    if i + 3 >= n or head[i + 3] != 0x20:
        return 0
    digits = head[i:i + 3]
    if not digits.isdigit():
        return 0
    return int(digits)


def extract_content_length(head: bytes) -> int | None:
    """``Content-Length:`` from the header, as keepalived reads it; None when absent or bad."""
    at = head.find(_CONTENT_LENGTH)
    if at < 0:
        return None
    rest = head[at + len(_CONTENT_LENGTH):]
    match = re.match(rb"[ \t\n\v\f\r]*\+?([0-9]+)", rest)
    if match is None:
        return 0 if rest[:1] in (b"\r", b"\n", b"") else None  # strtoul read nothing: 0
    after = rest[match.end():match.end() + 1]
    if after not in (b"", b"\r", b"\n"):
        return None
    return int(match.group(1))


@functools.lru_cache(maxsize=256)
def compile_regex(pattern: str, options: tuple[str, ...]) -> tuple[re.Pattern[bytes], bool]:
    """``(compiled, firstline)`` for a url's regex and regex_options; raises re.error."""
    flags = 0
    firstline = False
    for option in options:
        if option in _REGEX_FLAGS:
            flags |= _REGEX_FLAGS[option]
        elif option == "firstline":
            firstline = True
        elif option not in _REGEX_NEUTRAL:
            log.warning("regex_options %s has no equivalent here - ignored", option)
    return re.compile(pattern.encode("utf-8", "surrogateescape"), flags), firstline


def status_ranges_text(ranges: list[tuple[int, int]] | tuple[tuple[int, int], ...]) -> str:
    """``200-299`` / ``200, 301-302`` for a detail."""
    return ", ".join(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in ranges)


@dataclass(slots=True)
class Response:
    """What was read of one answer."""

    header_found: bool
    status_code: int
    content_length: int | None
    body_bytes: int
    md5: str
    body: bytes  # the first REGEX_BUFFER_MAX bytes, kept only when a regex needs them
    received: int  # every byte, header included


class ResponseReader:
    """Feed the answer's bytes in as they come; :meth:`finish` at the end of the stream."""

    def __init__(self, keep_body: bool) -> None:
        self._head = bytearray()
        self._header_found = False
        self._status = 0
        self._length: int | None = None
        self._md5 = hashlib.md5(usedforsecurity=False)
        self._body_bytes = 0
        self._hashed = 0
        self._keep = keep_body
        self._body = bytearray()
        self._received = 0

    @property
    def header_found(self) -> bool:
        return self._header_found

    def feed(self, data: bytes) -> None:
        self._received += len(data)
        if not self._header_found:
            self._head += data
            end = self._head.find(b"\r\n\r\n")
            if end < 0:
                if len(self._head) > _HEADER_MAX:
                    # keep only enough to find the terminator when it straddles two reads
                    del self._head[:-3]
                return
            head = bytes(self._head[:end + 4])
            rest = bytes(self._head[end + 4:])
            self._head.clear()
            self._header_found = True
            self._status = extract_status_code(head)
            self._length = extract_content_length(head)
            data = rest
        self._body_bytes += len(data)
        if self._length is None:
            self._md5.update(data)
        elif self._hashed < self._length:
            piece = data[:self._length - self._hashed]
            self._md5.update(piece)
            self._hashed += len(piece)
        if self._keep and len(self._body) < REGEX_BUFFER_MAX:
            self._body += data[:REGEX_BUFFER_MAX - len(self._body)]

    def finish(self) -> Response:
        return Response(self._header_found, self._status, self._length, self._body_bytes,
                        self._md5.hexdigest(), bytes(self._body), self._received)


def judge(url: Url, response: Response) -> str | None:
    """None when the answer passes ``url``; else why not (keepalived's order of tests)."""
    if not response.header_found:
        if response.received == 0:
            return "connection closed without an answer"
        return f"no HTTP header in the {response.received} bytes received"
    ranges = url.status_code or list(DEFAULT_STATUS)
    code = response.status_code
    if not 100 <= code <= 999 or not any(lo <= code <= hi for lo, hi in ranges):
        shown = f"HTTP status {code}" if code else "no HTTP status code"
        return f"{shown}, expected {status_ranges_text(ranges)}"
    if url.digest is not None and response.md5 != url.digest.lower():
        return f"MD5 digest {response.md5}, expected {url.digest.lower()}"
    if url.regex is not None:
        return _judge_regex(url, url.regex, response.body)
    return None


def _judge_regex(url: Url, pattern: str, body: bytes) -> str | None:
    try:
        compiled, firstline = compile_regex(pattern, tuple(url.regex_options))
    except re.error as exc:
        return f"invalid regex {pattern!r}: {exc}"
    start = url.regex_min_offset or 0
    match = compiled.search(body, start)
    matched = match is not None
    if match is not None and url.regex_max_offset is not None \
            and match.start() > url.regex_max_offset:
        matched = False
    if match is not None and firstline:
        newline = body.find(b"\n", start)
        matched = matched and (newline < 0 or match.start() <= newline)
    if matched and url.regex_no_match:
        assert match is not None
        return f"regex {pattern!r} matched at offset {match.start()} (regex_no_match)"
    if not matched and not url.regex_no_match:
        cut = " (searched the first 4 MiB)" if len(body) >= REGEX_BUFFER_MAX else ""
        return f"regex {pattern!r} did not match{cut}"
    return None
