"""keepalived's splitting of script strings (keepalived.conf(5) "Quoted strings")."""

from __future__ import annotations

import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pykeepalived.notify.split import ScriptSyntaxError, join_script, split_script


@pytest.mark.parametrize(
    ("cmd", "argv"),
    [
        # the two examples of keepalived.conf(5)
        ('abcd" efg h jkl "mnop', ["abcd efg h jkl mnop"]),
        ('abcd "efg h jkl" mnop', ["abcd", "efg h jkl", "mnop"]),
        ("/bin/notify.sh", ["/bin/notify.sh"]),
        ("  /bin/x\t a  \v b\f\r\nc  ", ["/bin/x", "a", "b", "c"]),
        ("/bin/x 'a b' \"c d\"e", ["/bin/x", "a b", "c de"]),
        ("/bin/x '\"' \"'\"", ["/bin/x", '"', "'"]),
        ('/bin/x a "" b', ["/bin/x", "a", "", "b"]),
        ("/bin/x ''", ["/bin/x", ""]),
        # escapes, outside and inside quotes (single quotes too, unlike the shell)
        (r"/bin/x a\ b", ["/bin/x", "a b"]),
        (r"/bin/x \"a", ["/bin/x", '"a']),
        (r"/bin/x 'it\'s'", ["/bin/x", "it's"]),
        (r"/bin/x \\", ["/bin/x", "\\"]),
        (r"/bin/x \a\b\E\f\n\r\t\v", ["/bin/x", "\a\b\x1b\f\n\r\t\v"]),
        (r"/bin/x \101\x42\cC", ["/bin/x", "AB\x03"]),
        (r"/bin/x \1012", ["/bin/x", "A2"]),  # at most three octal digits
        (r"/bin/x \x4142", ["/bin/x", "B"]),  # every hex digit shifts through one byte
        (r"/bin/x \q \x \c", ["/bin/x", "q", "x", "c"]),
        (r"/bin/x 'a\tb'", ["/bin/x", "a\tb"]),
        (r"/bin/x a\000b", ["/bin/x", "a"]),  # a NUL ends keepalived's C string
    ],
)
def test_split_like_keepalived(cmd: str, argv: list[str]) -> None:
    assert split_script(cmd) == argv


def test_high_bytes_reach_the_kernel_unchanged() -> None:
    word = split_script(r"/bin/x \377\x80")[1]
    assert os.fsencode(word) == b"\xff\x80"


@pytest.mark.parametrize(
    ("cmd", "message"),
    [
        ('/bin/x "abc', 'missing terminating "'),
        ("/bin/x 'abc", "missing terminating '"),
        ("/bin/x abc\\", "missing escaped character"),
        ("", "no command"),
        (" \t ", "no command"),
    ],
)
def test_bad_strings_are_clear_errors(cmd: str, message: str) -> None:
    with pytest.raises(ScriptSyntaxError, match=message) as info:
        split_script(cmd)
    assert isinstance(info.value, ValueError)
    assert repr(cmd) in str(info.value)


_SPECIAL = set(" \t\n\v\f\r'\"\\")
# After a backslash these letters mean something else (\n, \x41, \101, ...), so the quoting
# below must never put a backslash before them; it only escapes the characters in _SPECIAL.
_words = st.lists(st.text(alphabet=st.characters(blacklist_characters="\0",
                                                 blacklist_categories=("Cs",))),
                  min_size=1, max_size=6).filter(lambda ws: ws[0] != "")


def _quote(word: str) -> str:
    if word == "":
        return "''"
    return "".join("\\" + ch if ch in _SPECIAL else ch for ch in word)


@given(_words)
def test_backslash_quoting_round_trips(words: list[str]) -> None:
    assert split_script(" ".join(_quote(w) for w in words)) == words


@given(_words.filter(lambda ws: all("'" not in w and "\\" not in w for w in ws)))
def test_single_quoting_round_trips(words: list[str]) -> None:
    assert split_script(" ".join("'" + w + "'" for w in words)) == words


def test_join_script_quotes_each_word() -> None:
    assert join_script(["/bin/x", "a b", "it's"]) == "'/bin/x' 'a b' 'it'\\''s'"
