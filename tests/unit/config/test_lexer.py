"""The language: comments, quotes, braces, include, $definitions, @conditionals, ~SEQ,
~LST and continuation; every error case names file:line."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pykeepalived.config.errors import Category
from pykeepalived.config.lexer import Lexer
from pykeepalived.config.lexer_text import brace_expand, decomment, physical_lines, strtol
from tests.unit.config.helpers import instance, load, messages, write


def lex(tmp: Path, text: str, config_id: str | None = "r1") -> tuple[list[list[str]], Lexer]:
    path = write(tmp, "keepalived.conf", text)
    lexer = Lexer(config_id)
    assert lexer.open_main(str(path))
    return [line.tokens for line in lexer.lines()], lexer


# ------------------------------------------------------------------ comments and quotes
def test_comments_bang_and_hash(tmp_path: Path) -> None:
    tokens, _ = lex(tmp_path, "a b # c\n! whole line\nd ! e\nf \\# g\n")
    assert tokens == [["a", "b"], ["d"], ["f"]]


def test_one_line_needing_work_in_a_plain_file(tmp_path: Path) -> None:
    # a file is read line by line without the full read_line() only when none of its lines
    # needs it: one comment, definition or include anywhere still takes its line the long way
    plain = "".join(f"k{i} v {{\n  w x\n}}\n" for i in range(50))
    for special in ("y # c", "y ! c", "$D=v", "@r2 y", "include none.conf", "~SEQ(i,1,1) y",
                    'y "q z"'):
        tokens, _ = lex(tmp_path, plain + special + "\n" + plain)
        assert len(tokens) == 400 + (special.startswith(("y", "~"))), special
        assert tokens[:3] == [["k0", "v"], ["{"], ["w", "x"]]
        middle = tokens[200:201]
        assert middle in ([["y"]], [["y", "q z"]]) or special[0] in "$@i", (special, middle)
    tokens, _ = lex(tmp_path, plain)
    assert len(tokens) == 200 and tokens[-1] == ["}"]


def test_escaped_comment_characters_are_text_in_global_defs_only(tmp_path: Path) -> None:
    """keepalived's parent reads "\\#" as "#" (global_defs is its section); the VRRP and
    checker parsers read the parent's decommented copy, where that "#" starts a comment."""
    result = load(tmp_path, "global_defs {\n router_id a\\#b\\!c\n}\n"
                  + instance(body="    authentication {\n        auth_type PASS\n"
                             "        auth_pass abc\\#def\n    }\n"))
    assert result.config.global_defs.router_id == "a#b!c"
    auth = result.config.vrrp_instances["VI_1"].authentication
    assert auth is not None and auth.auth_pass == "abc"


def test_definition_line_reads_as_the_vrrp_parser_reads_it_in_vrrp_instance(
        tmp_path: Path) -> None:
    """keepalived's parent reads "\\#" as "#"; its VRRP parser reads the parent's copy,
    where that "#" starts a comment: in a vrrp_instance the line is nothing."""
    text = "$D=priority 50 \\\n\\# priority 7 \\\n\n" + instance(body="    $D\n")
    result = load(tmp_path, text)
    assert result.exit_status == 0, messages(result)
    assert result.config.vrrp_instances["VI_1"].priority == 50


def test_definition_line_reads_as_the_parent_reads_it_in_global_defs(tmp_path: Path) -> None:
    """In global_defs the parent's reading counts: "\\ \\#" is "\\ #" there, a keyword
    (to the VRRP parser, a continuation mark and a comment: nothing)."""
    result = load(tmp_path, "$D=router_id r1 \\\n\\ \\#\n\nglobal_defs {\n$D\n}\n"
                  + instance())
    assert result.exit_status == 5, messages(result)
    assert any("Unknown keyword '\\'" in m and ":5:" in m for m in messages(result))


@pytest.mark.parametrize(("after", "status"), [(" \\#", 5), (" \\# x", 5), ("", 0)])
def test_escaped_hash_after_a_block_the_parent_skips(tmp_path: Path, after: str,
                                                     status: int) -> None:
    """keepalived's parent skips a vrrp_instance by counting braces and reads what follows
    its '}' with "\\#" a literal: a keyword '#' there is unknown (the VRRP parser reads
    a comment)."""
    result = load(tmp_path, instance().rstrip("\n") + after + "\n")
    assert result.exit_status == status, messages(result)
    assert any("Unknown keyword '#'" in m and ":7:" in m for m in messages(result)) == \
        bool(after), messages(result)
    assert result.config.vrrp_instances["VI_1"].virtual_router_id == 51


def test_include_the_parent_reads_outside_a_definition(tmp_path: Path) -> None:
    """keepalived's parent ends the definition at "\\ \\#" ("\\ #" to it): the includem
    after it is its to read, and a missing one stops the configuration (6)."""
    result = load(tmp_path, "$D=router_id r1 \\\n\\ \\#\nsmtp_helo_name h \\\n"
                  "includem nothere.conf\n" + instance())
    assert result.exit_status == 6, messages(result)
    assert any("nothere.conf" in m and ":4:" in m for m in messages(result)), messages(result)


@pytest.mark.parametrize(("after", "status"), [("includem nothere.conf\n", 0),
                                               (instance(), 5)])
def test_comment_line_in_definition_as_the_parent_reads_it(tmp_path: Path, after: str,
                                                           status: int) -> None:
    """keepalived's parent skips a line that is all comment and takes the next line into
    the definition: an include there is not read; a vrrp_instance line there is gone."""
    result = load(tmp_path, "$D=router_id x \\\n# c\n" + after)
    assert result.exit_status == status, messages(result)


def test_comment_characters_inside_quotes_are_text(tmp_path: Path) -> None:
    tokens, _ = lex(tmp_path, 'router_id "a # b ! c"\n')
    assert tokens == [["router_id", "a # b ! c"]]


def test_decomment_reports_unterminated_quote() -> None:
    text, open_quote = decomment('router_id "abc')
    assert text == 'router_id "abc' and open_quote


def test_unterminated_quote_named_at_its_line(tmp_path: Path) -> None:
    result = load(tmp_path, 'global_defs {\n  router_id "abc\n}\n')
    assert any(":2:" in m and "quote" in m for m in messages(result))
    assert result.exit_status == 5


# ------------------------------------------------------------------ braces
def test_braces_become_lines_of_their_own(tmp_path: Path) -> None:
    tokens, _ = lex(tmp_path, "track_interface { eth0 eth1 }\nvrrp_instance X{\n}\n")
    assert tokens == [["track_interface"], ["{"], ["eth0", "eth1"], ["}"],
                      ["vrrp_instance", "X"], ["{"], ["}"]]


def test_inline_block_configures_the_model(tmp_path: Path) -> None:
    text = ("vrrp_instance VI_1 { interface eth0\n virtual_router_id 5\n"
            " virtual_ipaddress { 192.0.2.7/24 }\n track_interface { eth1 weight -20 } }\n")
    result = load(tmp_path, text)
    vi = result.config.vrrp_instances["VI_1"]
    assert [str(v.address) for v in vi.virtual_ipaddress] == ["192.0.2.7/24"]
    assert vi.track_interface[0].name == "eth1" and vi.track_interface[0].weight == -20


def test_extra_closing_brace_named(tmp_path: Path) -> None:
    result = load(tmp_path, instance() + "}\n")
    assert any("keepalived.conf:8" in m and "Extra '}'" in m for m in messages(result))
    assert result.exit_status == 5


def test_unterminated_block(tmp_path: Path) -> None:
    result = load(tmp_path, "vrrp_instance VI_1 {\n interface eth0\n")
    assert any("missing '}'" in m for m in messages(result))
    assert any("keepalived.conf:1" in m and "not closed" in m for m in messages(result))


@pytest.mark.parametrize("refused", ["vrrp_instance", "vrrp_instance ! VI_2 {",
                                     "vrrp_instance VI_1", "virtual_server 192.0.2.300 80"])
def test_refused_block_without_open_is_read_with_its_keywords(tmp_path: Path,
                                                              refused: str) -> None:
    """keepalived skips a refused block only from its '{': without one, the lines up to
    the next '}' are read with the block's keywords (a missing parameter stops it)."""
    result = load(tmp_path, instance() + f"{refused}\n priority\n delay_loop\n}}\n")
    assert result.exit_status == 2, messages(result)
    assert any("Missing '{'" in m for m in messages(result)), messages(result)


def test_refused_block_lines_do_not_change_the_previous_instance(tmp_path: Path) -> None:
    result = load(tmp_path, instance(body="    priority 100\n")
                  + "vrrp_instance\n priority 50\n advert_int 3\n}\n")
    vi = result.config.vrrp_instances["VI_1"]
    assert (vi.priority, list(result.config.vrrp_instances)) == (100, ["VI_1"])
    # read with vrrp_instance's keywords, not at the outermost level
    assert not any("Unknown keyword" in m for m in messages(result)), messages(result)
    assert result.exit_status == 5, messages(result)


def test_refused_block_sees_the_previous_instance_notify_script(tmp_path: Path) -> None:
    """keepalived's handlers act on the previous instance: its notify_master is given, so
    another without a script stops the configuration."""
    result = load(tmp_path, instance(body="    notify_master /bin/true\n")
                  + 'vrrp_instance\n notify_master "\n}\n')
    assert result.exit_status == 2, messages(result)
    assert result.config.vrrp_instances["VI_1"].notify_master == "/bin/true"


@pytest.mark.parametrize("again", ['notify_master "', "notify_master"])
def test_notify_script_given_twice_names_the_second(tmp_path: Path, again: str) -> None:
    result = load(tmp_path, instance(body=f"    notify_master /bin/true\n    {again}\n"))
    assert result.exit_status == 2, messages(result)


# ------------------------------------------------------------------ include
def test_include_relative_to_including_file(tmp_path: Path) -> None:
    write(tmp_path, "conf.d/vi.conf", instance())
    write(tmp_path, "conf.d/sub/extra.conf", "global_defs {\n router_id sub\n}\n")
    text = "include conf.d/vi.conf\ninclude conf.d/nested.conf\n"
    write(tmp_path, "conf.d/nested.conf", "include sub/extra.conf\n")
    result = load(tmp_path, text)
    assert "VI_1" in result.config.vrrp_instances
    assert result.config.global_defs.router_id == "sub"
    assert result.config.vrrp_instances["VI_1"].location.file.endswith("conf.d/vi.conf")
    assert result.exit_status == 0, messages(result)


def test_include_glob_and_braces_in_order(tmp_path: Path) -> None:
    for i in (2, 1, 3):
        write(tmp_path, f"d/{i}.conf", instance(vrid=i, name=f"VI_{i}"))
    write(tmp_path, "e/x.conf", instance(vrid=9, name="VI_9"))
    result = load(tmp_path, "include d/*.conf\ninclude {e,f}/x.conf\n")
    assert list(result.config.vrrp_instances) == ["VI_1", "VI_2", "VI_3", "VI_9"]


def test_missing_include_is_a_message_only(tmp_path: Path) -> None:
    result = load(tmp_path, "include nothere.conf\n" + instance())
    assert any("keepalived.conf:1" in m and "nothere.conf" in m for m in messages(result))
    assert result.exit_status == 0


def test_missing_includea_stops_like_keepalived(tmp_path: Path) -> None:
    result = load(tmp_path, "includea nothere.conf\n" + instance())
    assert any("keepalived.conf:1" in m and "nothere.conf" in m for m in messages(result))
    assert result.exit_status == 6 and not result.ok


def test_include_check_makes_plain_include_strict(tmp_path: Path) -> None:
    result = load(tmp_path, "global_defs {\n include_check\n}\ninclude nothere.conf\n")
    assert result.exit_status == 6


@pytest.mark.parametrize(("before", "after", "status"), [
    ("global_defs {\n", "}\n", 6),
    ("global_defs {\n global_defs {\n", " }\n}\n", 6),  # unknown there: still global_defs
    ("", "", 5),  # the outermost level: an unknown keyword
    ("{\n", "}\n", 5),  # after a stray '{', which opens nothing
    ("global_deefs {\n", "}\n", 5),
    ("global_defs {\n notification_email {\n", " }\n}\n", 0),  # one of the addresses
])
def test_include_check_acts_only_in_global_defs(tmp_path: Path, before: str, after: str,
                                                status: int) -> None:
    """keepalived applies include_check when global_defs's keyword table runs its handler:
    elsewhere the missing include after it is no error (6 would be)."""
    result = load(tmp_path, before + " include_check match\n" + after
                  + "include nothere.conf\n" + instance())
    assert result.exit_status == status, messages(result)


def test_include_loop_detected(tmp_path: Path) -> None:
    write(tmp_path, "b.conf", "include keepalived.conf\n")
    result = load(tmp_path, "include b.conf\n" + instance())
    loop = [m for m in messages(result) if "include loop" in m]
    assert loop and "b.conf:1" in loop[0]
    assert list(result.config.vrrp_instances) == ["VI_1"]


def test_executable_include_skipped(tmp_path: Path) -> None:
    path = write(tmp_path, "x.conf", instance())
    os.chmod(path, 0o755)
    result = load(tmp_path, "include x.conf\n")
    assert not result.config.vrrp_instances
    assert any("non-executable" in m for m in messages(result))


def test_brace_expand() -> None:
    assert list(brace_expand("/a/{b,c/{d,e}}.conf")) == ["/a/b.conf", "/a/c/d.conf",
                                                        "/a/c/e.conf"]
    assert list(brace_expand("plain")) == ["plain"]


# ------------------------------------------------------------------ definitions
def test_definitions_replaced_at_use_time(tmp_path: Path) -> None:
    text = ("$BASE=10.2.${SUB}\n$SUB=0\nglobal_defs {\n router_id ${BASE}.1\n"
            " notification_email_from a$SUB@x\n}\n")
    tokens, _ = lex(tmp_path, text)
    assert ["router_id", "10.2.0.1"] in tokens
    assert ["notification_email_from", "a$SUB@x"] in tokens  # $NAME needs a blank after it


def test_undefined_definition_left_alone(tmp_path: Path) -> None:
    tokens, _ = lex(tmp_path, "notify_master $UNDEFINED /x\n")
    assert tokens == [["notify_master", "$UNDEFINED", "/x"]]


def test_multiline_definition(tmp_path: Path) -> None:
    text = ("$INST= \\\nvrrp_instance VI_${NUM} { \\\n interface eth0 \\\n"
            " virtual_router_id ${NUM} \\\n virtual_ipaddress { \\\n  192.0.2.${NUM} \\\n"
            " } \\\n}\n\n$NUM=1\n$INST\n$NUM=2\n$INST\n")
    result = load(tmp_path, text)
    assert list(result.config.vrrp_instances) == ["VI_1", "VI_2"]
    assert result.config.vrrp_instances["VI_2"].virtual_router_id == 2
    assert result.exit_status == 0, messages(result)


def test_builtin_definitions(tmp_path: Path) -> None:
    # keepalived 2.2.7 strips comments again after substitution, so ${_HASH} ends the line
    text = ("global_defs {\n router_id ${_INSTANCE}${_HASH}x\n"
            " notification_email_from ${_PWD}\n random_seed 7\n}\n"
            "$R=${_RANDOM 5 9}\nglobal_defs {\n smtp_helo_name $R\n}\n")
    result = load(tmp_path, text, config_id="node7")
    g = result.config.global_defs
    assert g.router_id == "node7"
    assert g.notification_email_from == str(tmp_path)
    assert g.smtp_helo_name is not None and 5 <= int(g.smtp_helo_name) <= 9


def test_random_seed_makes_random_repeatable(tmp_path: Path) -> None:
    text = ("global_defs {\n random_seed 12345\n}\n"
            "$R=${_RANDOM 1 1000000}\n$S=${_RANDOM 1 1000000}\n"
            "global_defs {\n smtp_helo_name $R\n router_id $S\n}\n")
    names = set()
    for _ in range(2):
        g = load(tmp_path, text).config.global_defs
        names.add((g.smtp_helo_name, g.router_id))
    assert len(names) == 1
    ((name, router_id),) = names
    assert name is not None and router_id is not None
    assert 1 <= int(name) <= 1_000_000 and 1 <= int(router_id) <= 1_000_000


@pytest.mark.parametrize(("line", "expected"), [
    # the value (V), the character after the brace, then the text from the value's length on
    (" router_id ${_RANDOM 1 9}x", [["router_id", "Vx_RANDOM", "1", "9"], ["}"], ["x"], ["}"]]),
    (" router_id ${_RANDOM 10 99} x",
     [["router_id", "V", "RANDOM", "10", "99"], ["}"], ["x"], ["}"]]),
    (" router_id ${_RANDOM 1 9}", [["router_id", "V"], ["}"]]),  # nothing after it
])
def test_random_with_parameters_leaves_its_text_as_keepalived_does(
        tmp_path: Path, line: str, expected: list[list[str]]) -> None:
    """keepalived 2.2.7 moves only the character after ``${_RANDOM min max}`` down to the
    end of its (shorter) value, so the rest of the parameter text stays in the line: its
    ``}`` closes the block, and what follows is read outside it."""
    tokens, lexer = lex(tmp_path, "global_defs {\n" + line + "\n}\n")
    value = tokens[2][1][:2].rstrip("x_")  # the number drawn: one or two digits here
    assert value.isdigit()
    assert tokens == [["global_defs"], ["{"],
                      *[[t.replace("V", value) for t in row] for row in expected]]
    warned = [d for d in lexer.diagnostics if "reads as" in d.message]
    assert len(warned) == (len(expected) > 2)


def test_random_with_parameters_then_text_exits_as_keepalived(tmp_path: Path) -> None:
    """The unknown keyword that the left-over text makes outranks the missing interface
    (keepalived -t exits 5, not 4), as in the fuzzed configuration that found it."""
    text = ("interface_up_down_delays {\nrandom_seed 12345\n}\n"
            "$R=${_RANDOM 1 1000000} ${_RANDOM 1 1000000} ${_RANDOM 1 1000000}\n"
            "global_defs {\nsmtp_helo_name $R\n}\n")
    result = load(tmp_path, text)
    assert result.exit_status == 5, messages(result)
    assert any("Unknown keyword" in m and "keepalived.conf:6" in m for m in messages(result))


def test_self_referencing_definition_does_not_hang(tmp_path: Path) -> None:
    result = load(tmp_path, "$A=$A\nglobal_defs {\n router_id $A\n}\n")
    assert any("keepalived.conf:3" in m and "substitution" in m for m in messages(result))


def test_growing_definition_stops_at_line_length(tmp_path: Path) -> None:
    result = load(tmp_path, "$A=x$A \nglobal_defs {\n router_id $A\n}\n")
    assert result.config.global_defs.router_id is not None


# ------------------------------------------------------------------ conditionals
def test_conditional_lines(tmp_path: Path) -> None:
    text = "@r1 a one\n@r2 a two\n@^r1 b notone\n@^r2 b nottwo\n@r1\n"
    tokens, _ = lex(tmp_path, text, config_id="r1")
    assert tokens == [["a", "one"], ["b", "nottwo"]]
    tokens, _ = lex(tmp_path, text, config_id=None)
    assert tokens == [["b", "notone"], ["b", "nottwo"]]


def test_conditional_definition(tmp_path: Path) -> None:
    text = "@r1 $PRIO=240\n@r2 $PRIO=200\n" + instance(body="    priority $PRIO\n")
    assert load(tmp_path, text, config_id="r2").config.vrrp_instances["VI_1"].priority == 200


# ------------------------------------------------------------------ ~SEQ and ~LST
def test_seq_forms(tmp_path: Path) -> None:
    tokens, _ = lex(tmp_path, "~SEQ(A, 3) x $A\n~SEQ(B, 5, 2, 9) y $B\n~SEQ(C, 2, 0) z $C\n"
                    "~SEQx(D, 0x9, 0x10, 0x2b) w ${D}\n")
    assert tokens == [["x", "1"], ["x", "2"], ["x", "3"], ["y", "5"], ["y", "7"], ["y", "9"],
                      ["z", "2"], ["z", "1"], ["z", "0"], ["w", "9"], ["w", "19"], ["w", "29"]]


def test_nested_seq(tmp_path: Path) -> None:
    tokens, _ = lex(tmp_path, "~SEQ(A, 1, 2) ~SEQ(B, 1, 2) v ${A}.${B}\n")
    assert tokens == [["v", "1.1"], ["v", "1.2"], ["v", "2.1"], ["v", "2.2"]]


def test_seq_builds_instances(tmp_path: Path) -> None:
    text = ("$I= \\\nvrrp_instance VI_${N} { \\\n interface eth0 \\\n virtual_router_id ${N} \\\n"
            " virtual_ipaddress { \\\n 192.0.2.${N} \\\n } \\\n}\n\n~SEQ(N, 1, 5) $I\n")
    result = load(tmp_path, text)
    assert [vi.virtual_router_id for vi in result.config.vrrp_instances.values()] == [1, 2, 3,
                                                                                      4, 5]


def test_bad_seq_named_at_its_line(tmp_path: Path) -> None:
    result = load(tmp_path, "global_defs {\n}\n~SEQ(I, 1, 0, 3) x\n~SEQ(J 4)\n")
    bad = [m for m in messages(result) if "~SEQ" in m]
    assert any("keepalived.conf:3" in m for m in bad)
    assert any("keepalived.conf:4" in m for m in bad)
    assert result.exit_status == 5


def test_lst(tmp_path: Path) -> None:
    tokens, _ = lex(tmp_path, "~LST({A, B}, {10,1},{20,4}) ip ${A}.${B}\n~LST(C, 1, 2) c $C\n")
    assert tokens == [["ip", "10.1"], ["ip", "20.4"], ["c", "1"], ["c", "2"]]


def test_strtol_like_c() -> None:
    assert strtol(" 0x1f,") == (31, ",")
    assert strtol("017)") == (15, ")")
    assert strtol("-3") == (-3, "")
    assert strtol("abc") == (0, "abc")


# ------------------------------------------------------------------ continuation
def test_continuation_only_inside_definitions(tmp_path: Path) -> None:
    """keepalived joins lines only in $NAME= definitions; elsewhere the '\\' stays."""
    text = instance(body="    priority 100 \\\n    nopreempt\n")
    result = load(tmp_path, text)
    assert any("keepalived.conf:4" in m and "100\\" in m for m in messages(result))
    assert result.exit_status == 5


def test_definition_ended_by_blank_line(tmp_path: Path) -> None:
    tokens, _ = lex(tmp_path, "$D= a \\\n b \\\n\nplain\n$D\n")
    assert tokens == [["plain"], ["a"], ["b"]]


# ------------------------------------------------------------------ odd bytes
def test_long_line_is_cut_like_keepalived(tmp_path: Path) -> None:
    tokens, lexer = lex(tmp_path, "x" * 3000 + "\nlast\n")
    assert [len(t[0]) for t in tokens] == [1023, 1023, 954, 4]
    assert any(d.category == Category.OK and "1023" in d.message for d in lexer.diagnostics)


def test_nul_ends_what_keepalived_sees(tmp_path: Path) -> None:
    path = tmp_path / "keepalived.conf"
    path.write_bytes(b"router_id abc\x00def\nnext\n")
    lexer = Lexer("r1")
    lexer.open_main(str(path))
    assert [line.tokens for line in lexer.lines()] == [["router_id", "abc"], ["next"]]


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(alphabet=st.sampled_from(list('ab $@~{}"\\#!\n(),=_01xSEQLT\t')), max_size=300))
def test_any_text_never_crashes(tmp_path: Path, text: str) -> None:
    result = load(tmp_path, text)
    assert result.exit_status in (0, 2, 4, 5, 6)
    for diag in result.diagnostics:
        assert diag.file and diag.line >= 0


def test_physical_lines_are_fgets_pieces() -> None:
    # fgets(buf, 1024) holds 1023 bytes, the newline included
    assert list(physical_lines(b"a" * 1022 + b"\n")) == [("a" * 1022, 0)]
    assert list(physical_lines(b"a" * 1023 + b"\nb\n")) == [("a" * 1023, 0), ("", 1),
                                                            ("b", 0)]
    assert list(physical_lines(b"a" * 1024 + b"\n")) == [("a" * 1023, 0), ("a", 1)]
    assert list(physical_lines(b"a" * 2046 + b"\r\n")) == [("a" * 1023, 0), ("a" * 1023, 1),
                                                           ("", 2)]
    assert list(physical_lines(b"a" * 1023)) == [("a" * 1023, 0)]  # no newline at the end
    assert list(physical_lines(b"ab\0cd\n")) == [("ab", 0)]


def _lexed(path: Path, text: str) -> list[tuple[list[str], str, int]]:
    path.write_text(text)
    lexer = Lexer("r1")
    assert lexer.open_main(str(path))
    out = [(line.tokens, line.text, line.line) for line in lexer.lines()]
    return out + [([d.message], str(d.category), d.line) for d in lexer.diagnostics]


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.text(alphabet=st.sampled_from(list("ab {}\t\f")), max_size=12),
                max_size=12))
def test_plain_lines_read_as_by_the_full_path(tmp_path: Path, lines: list[str]) -> None:
    # a trailing comment sends every line through decomment() and the whole of
    # read_line(); without it plain lines take the short path: same lines, same reports
    plain = _lexed(tmp_path / "plain.conf", "".join(f"{line}\n" for line in lines))
    full = _lexed(tmp_path / "full.conf", "".join(f"{line} # c\n" for line in lines))
    assert plain == full
