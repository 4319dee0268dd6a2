"""UDP_CHECK's HEX strings from a configuration file reach the checker as keepalived reads
them: the spaces between words separate bytes."""

from __future__ import annotations

from pathlib import Path

from pykeepalived.check.udp_check import reply_mismatch
from pykeepalived.config.model_lvs import UdpCheck

from ..config.helpers import load, messages

CONF = """virtual_server 192.0.2.15 53 {{
  protocol UDP
  lvs_sched wlc
  lvs_method NAT
  real_server 198.51.100.4 53 {{
    UDP_CHECK {{
      {lines}
    }}
  }}
}}
"""


def udp_check(tmp_path: Path, lines: str) -> tuple[UdpCheck, list[str]]:
    result = load(tmp_path, CONF.format(lines=lines))
    checker = result.config.virtual_servers[0].real_servers[0].checkers[0]
    assert isinstance(checker, UdpCheck)
    return checker, messages(result)


def test_payload_as_in_the_man_page(tmp_path: Path) -> None:
    checker, errors = udp_check(tmp_path, "payload Ab12f 3 456 546443123")
    assert errors == []
    assert checker.payload == bytes.fromhex("AB 12 0F 03 45 06 54 64 43 12 03")


def test_require_reply_words_are_separate_bytes(tmp_path: Path) -> None:
    checker, errors = udp_check(tmp_path, "require_reply 0a Xx 1 f")
    assert errors == [] and checker.require_reply
    # 0a, any byte, 01, 0f
    assert reply_mismatch(b"\x0a\xee\x01\x0f", checker) is None
    assert reply_mismatch(b"\x0a\xee\x1f", checker) is not None


def test_bad_hex_is_reported_with_its_line(tmp_path: Path) -> None:
    checker, errors = udp_check(tmp_path, "payload 0g\n      require_reply 1 Z")
    assert checker.payload is None and checker.require_reply_data is None
    assert len(errors) == 2
    assert errors[0].endswith(":7: Invalid hex string 0g for payload")
    assert errors[1].endswith(":8: Invalid hex string 1 Z for require_reply")
