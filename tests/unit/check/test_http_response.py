"""HTTP_GET / SSL_GET without sockets: keepalived's request bytes and its reading of answers."""

from __future__ import annotations

import hashlib
from ipaddress import ip_address

import pytest

from pykeepalived.check.http_response import (
    REGEX_BUFFER_MAX,
    ResponseReader,
    build_request,
    extract_content_length,
    extract_status_code,
    host_header,
    judge,
)
from pykeepalived.check.result import Target
from pykeepalived.config.model_lvs import HttpGet, Url


def answer(*chunks: bytes, keep: bool = True) -> ResponseReader:
    reader = ResponseReader(keep_body=keep)
    for chunk in chunks:
        reader.feed(chunk)
    return reader


def test_request_is_keepalived_bytes_for_each_protocol() -> None:
    assert build_request("/health", "192.0.2.10:80") == (
        b"GET /health HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nHost: 192.0.2.10:80\r\n\r\n")
    assert build_request("/", "www.example.com", "1.0C") == (
        b"GET / HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nConnection: close\r\n"
        b"Host: www.example.com\r\n\r\n")
    assert build_request("/", "h", "1.1") == (
        b"GET / HTTP/1.1\r\nUser-Agent: KeepAliveClient\r\nConnection: close\r\nHost: h\r\n\r\n")


def test_host_header_virtualhost_order_and_ipv6_brackets() -> None:
    target = Target(ip_address("2001:db8::7"), 8080, 3.0, virtualhost="rs.example")
    url = Url(path="/")
    assert host_header(url, HttpGet(), Target(ip_address("2001:db8::7"), 8080, 3.0)) == \
        "[2001:db8::7]:8080"
    assert host_header(url, HttpGet(), target) == "rs.example"
    assert host_header(url, HttpGet(virtualhost="chk.example"), target) == "chk.example"
    assert host_header(Url(path="/", virtualhost="url.example"),
                       HttpGet(virtualhost="chk.example"), target) == "url.example"


@pytest.mark.parametrize(("head", "code"), [
    (b"HTTP/1.0 200 OK\r\n\r\n", 200),
    (b"HTTP/1.1 503 Service Unavailable\r\n\r\n", 503),
    (b"HTTP/1.0 200 \r\n\r\n", 200),
    (b"HTTP/1.0 200\r\n\r\n", 0),  # no space after the code: keepalived sees no status
    (b"HTTP/1.0  200 OK\r\n\r\n", 0),
    (b"HTTP/1.0 2x0 OK\r\n\r\n", 0),
    (b"HTTP/1.0 2000 OK\r\n\r\n", 0),
    (b"garbage\r\n\r\n", 0),
])
def test_status_code_is_read_as_keepalived_reads_it(head: bytes, code: int) -> None:
    assert extract_status_code(head) == code


@pytest.mark.parametrize(("head", "length"), [
    (b"HTTP/1.0 200 OK\r\nContent-Length: 12\r\n\r\n", 12),
    (b"HTTP/1.0 200 OK\r\nContent-Length:7\r\n\r\n", 7),
    (b"HTTP/1.0 200 OK\r\ncontent-length: 12\r\n\r\n", None),  # keepalived matches case
    (b"HTTP/1.0 200 OK\r\nContent-Length: 12x\r\n\r\n", None),
    (b"HTTP/1.0 200 OK\r\n\r\n", None),
])
def test_content_length(head: bytes, length: int | None) -> None:
    assert extract_content_length(head) == length


def test_header_split_anywhere_gives_the_same_answer() -> None:
    raw = b"HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello"
    whole = answer(raw).finish()
    for cut in range(1, len(raw)):
        split = answer(raw[:cut], raw[cut:]).finish()
        assert (split.status_code, split.md5, split.body) == \
            (whole.status_code, whole.md5, whole.body), cut
    assert whole.md5 == hashlib.md5(b"hello").hexdigest()


def test_digest_stops_at_content_length_and_keeps_chunked_framing() -> None:
    cut = answer(b"HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nabcdef").finish()
    assert cut.md5 == hashlib.md5(b"abc").hexdigest() and cut.body_bytes == 6
    chunked = b"5\r\nhello\r\n0\r\n\r\n"
    raw = answer(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked).finish()
    assert raw.md5 == hashlib.md5(chunked).hexdigest()


def test_judge_order_status_then_digest_then_regex() -> None:
    body = b"all good here"
    ok = answer(b"HTTP/1.0 200 OK\r\n\r\n" + body).finish()
    digest = hashlib.md5(body).hexdigest()
    assert judge(Url(path="/", digest=digest, regex="good"), ok) is None
    assert judge(Url(path="/", digest="0" * 32), ok) == \
        f"MD5 digest {digest}, expected {'0' * 32}"
    bad = answer(b"HTTP/1.0 500 Oops\r\n\r\n" + body).finish()
    assert judge(Url(path="/", digest="0" * 32), bad) == "HTTP status 500, expected 200-299"
    assert judge(Url(path="/", status_code=[(500, 500), (301, 302)]), bad) is None
    assert judge(Url(path="/", status_code=[(200, 200)]), bad) == \
        "HTTP status 500, expected 200"


def test_no_header_and_no_answer_fail_with_what_was_seen() -> None:
    assert judge(Url(path="/"), answer().finish()) == "connection closed without an answer"
    assert judge(Url(path="/"), answer(b"SSH-2.0-OpenSSH\r\n").finish()) == \
        "no HTTP header in the 17 bytes received"
    assert judge(Url(path="/"), answer(b"HTTP/1.0 200\r\n\r\n").finish()) == \
        "no HTTP status code, expected 200-299"


def test_regex_offsets_no_match_and_options() -> None:
    resp = answer(b"HTTP/1.0 200 OK\r\n\r\n", b"0123456789 status=UP\nnext line").finish()
    assert judge(Url(path="/", regex="status=UP"), resp) is None
    assert judge(Url(path="/", regex="status=DOWN"), resp) == \
        "regex 'status=DOWN' did not match"
    assert judge(Url(path="/", regex="status=UP", regex_no_match=True), resp) == \
        "regex 'status=UP' matched at offset 11 (regex_no_match)"
    assert judge(Url(path="/", regex="status=DOWN", regex_no_match=True), resp) is None
    # the match must start at or before regex_max_offset, and at or after regex_min_offset
    assert judge(Url(path="/", regex="status", regex_max_offset=11), resp) is None
    assert judge(Url(path="/", regex="status", regex_max_offset=10), resp) is not None
    assert judge(Url(path="/", regex="0123", regex_min_offset=1), resp) is not None
    assert judge(Url(path="/", regex="STATUS=up", regex_options=["caseless"]), resp) is None
    assert judge(Url(path="/", regex="STATUS=up"), resp) is not None
    assert judge(Url(path="/", regex="next", regex_options=["firstline"]), resp) is not None
    assert judge(Url(path="/", regex="^next", regex_options=["multiline"]), resp) is None
    assert (judge(Url(path="/", regex="(unclosed"), resp) or "").startswith(
        "invalid regex '(unclosed'")


def test_regex_body_is_bounded() -> None:
    reader = ResponseReader(keep_body=True)
    reader.feed(b"HTTP/1.0 200 OK\r\n\r\n")
    for _ in range(6):
        reader.feed(b"x" * (1024 * 1024))
    resp = reader.finish()
    assert len(resp.body) == REGEX_BUFFER_MAX and resp.body_bytes == 6 * 1024 * 1024
    assert judge(Url(path="/", regex="y"), resp) == \
        "regex 'y' did not match (searched the first 4 MiB)"
    assert ResponseReader(keep_body=False).finish().body == b""
