"""Seeded mutations of keepalived.conf texts.

The seeds are every sample Debian ships (/usr/share/doc/keepalived/samples), every recorded
case of tests/unit/config/corpus.py and every configuration written out as a string in the
repository's tests (a string constant with a brace and a top-level keyword at the start of a
line). :func:`mutate` applies a few edits chosen by a ``random.Random``: token deletions,
duplications and swaps, number changes and out-of-range values, unknown and misplaced
keywords, damaged braces and quotes, includes of missing files, conditional lines and
definitions, changed addresses and interfaces, cut files. The same seed and the same tree
give the same corpus (:func:`corpus`).
"""

from __future__ import annotations

import ast
import glob
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
SAMPLES = "/usr/share/doc/keepalived/samples/keepalived.conf.*"
TOP_KEYWORDS = ("global_defs", "vrrp_instance", "virtual_server", "vrrp_script",
                "vrrp_sync_group", "static_ipaddress", "static_routes", "virtual_server_group",
                "track_file", "vrrp_track_file", "garp_group", "bfd_instance", "include")
_TOP_RE = re.compile(r"^\s*(" + "|".join(TOP_KEYWORDS) + r")\b", re.MULTILINE)
_NUMBER_RE = re.compile(r"^-?\d+(\.\d+)?$")
_IPV4_RE = re.compile(r"^\d+\.\d+\.\d+\.\d+(/\d+)?$")
_IPV6_RE = re.compile(r"^[0-9a-fA-F:]*:[0-9a-fA-F:.]*(/\d+)?$")
MISSING_DIR = "/nonexistent-pykeepalived-fuzz"


@dataclass(frozen=True)
class Seed:
    name: str
    text: str


@cache
def seeds() -> tuple[Seed, ...]:
    """Every seed configuration, in a stable order."""
    out: list[Seed] = []
    for sample in sorted(glob.glob(SAMPLES)):
        try:
            out.append(Seed(Path(sample).name, Path(sample).read_text(errors="replace")))
        except OSError:
            continue
    from tests.unit.config.corpus import CORPUS

    for name in sorted(CORPUS):
        out.append(Seed(f"corpus:{name}", CORPUS[name][1]))
    seen = {s.text for s in out}
    for path in sorted((ROOT / "tests").rglob("*.py")):
        if path.name == "corpus.py":
            continue
        for n, text in enumerate(_config_strings(path)):
            if text not in seen:
                seen.add(text)
                out.append(Seed(f"{path.relative_to(ROOT)}#{n}", text))
    return tuple(out)


def seed_pools() -> tuple[tuple[Seed, ...], ...]:
    """The seeds in three pools drawn from alike: Debian's samples, the recorded corpus,
    the other tests' configurations (the corpus alone outnumbers the samples ten to one)."""
    every = seeds()
    samples = tuple(s for s in every if s.name.startswith("keepalived.conf."))
    recorded = tuple(s for s in every if s.name.startswith("corpus:"))
    others = tuple(s for s in every if s not in samples and s not in recorded)
    return tuple(pool for pool in (samples, recorded, others) if pool)


def _config_strings(path: Path) -> list[str]:
    """String constants of ``path`` that look like a configuration."""
    try:
        tree = ast.parse(path.read_text())
    except (SyntaxError, UnicodeDecodeError, OSError):
        return []
    found = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Constant) and isinstance(node.value, str)
                and "{" in node.value and "}" in node.value and _TOP_RE.search(node.value)
                and "{{" not in node.value):
            found.append(node.value)
    return found


@cache
def known_keywords() -> tuple[str, ...]:
    """Every keyword of pykeepalived's keyword tables (to put keywords where they are not
    expected)."""
    from pykeepalived.config.keywords import top_table

    names: set[str] = set()
    todo = [top_table()]
    seen: set[int] = set()
    while todo:
        table = todo.pop()
        if id(table) in seen:
            continue
        seen.add(id(table))
        for name, kw in table.keywords.items():
            names.add(name)
            if kw.sub is not None:
                todo.append(kw.sub)
    return tuple(sorted(names))


# --- the edits -----------------------------------------------------------------------------

Lines = list[list[str]]  # the text as lines of tokens (indentation is not kept)


def _tokens(text: str) -> Lines:
    return [line.split() for line in text.splitlines()]


def _text(lines: Lines) -> str:
    return "".join(" ".join(words) + "\n" for words in lines)


def _pick_token(rng: random.Random, lines: Lines,
                where: Callable[[str], bool] = lambda w: True) -> tuple[int, int] | None:
    spots = [(i, j) for i, words in enumerate(lines) for j, w in enumerate(words) if where(w)]
    return rng.choice(spots) if spots else None


def _delete_token(rng: random.Random, lines: Lines) -> str:
    spot = _pick_token(rng, lines)
    if spot is None:
        return "nothing to delete"
    i, j = spot
    word = lines[i].pop(j)
    return f"line {i + 1}: deleted {word!r}"


def _duplicate_token(rng: random.Random, lines: Lines) -> str:
    spot = _pick_token(rng, lines)
    if spot is None:
        return "nothing to duplicate"
    i, j = spot
    lines[i].insert(j, lines[i][j])
    return f"line {i + 1}: duplicated {lines[i][j]!r}"


def _swap_tokens(rng: random.Random, lines: Lines) -> str:
    spots = [(i, j) for i, words in enumerate(lines) for j in range(len(words) - 1)]
    if not spots:
        return _swap_lines(rng, lines)
    i, j = rng.choice(spots)
    lines[i][j], lines[i][j + 1] = lines[i][j + 1], lines[i][j]
    return f"line {i + 1}: swapped {lines[i][j + 1]!r} and {lines[i][j]!r}"


NUMBERS = ("0", "1", "-1", "2", "3", "5", "10", "100", "254", "255", "256", "1000", "4095",
           "4096", "65535", "65536", "2147483647", "2147483648", "4294967295", "4294967296",
           "99999999999999999999", "0.5", "1.5", "0.001", "0.01", "-0.5", "1e3", "0x10",
           "010", "+5", "12abc", "abc", "nan", "inf", "")


def _change_number(rng: random.Random, lines: Lines) -> str:
    spot = _pick_token(rng, lines, lambda w: bool(_NUMBER_RE.match(w)))
    if spot is None:
        return _replace_value(rng, lines)
    i, j = spot
    old = lines[i][j]
    n = int(old.split(".")[0])
    choices = [*NUMBERS, str(n + 1), str(n - 1), str(n * 10), str(-n)]
    new = rng.choice(choices)
    if new:
        lines[i][j] = new
    else:
        lines[i].pop(j)
    return f"line {i + 1}: number {old!r} -> {new!r}"


WORDS = ("MASTER", "BACKUP", "FAULT", "yes", "no", "true", "false", "on", "off", "eth0",
         "eth1", "eth9", "lo", "none", "all", "*", "-", "AH", "PASS", "NAT", "DR", "TUN",
         "TCP", "UDP", "SCTP", "rr", "wlc", "sh", "/bin/true", "/nonexistent/script",
         "root", "nobody", "nouser", "x" * 300, "é", "a\\", "$UNDEFINED", "${X}", "~SEQ(1)")


def _replace_value(rng: random.Random, lines: Lines) -> str:
    spot = _pick_token(rng, lines, lambda w: w not in "{}")
    if spot is None:
        return "nothing to replace"
    i, j = spot
    old = lines[i][j]
    lines[i][j] = rng.choice(WORDS)
    return f"line {i + 1}: {old!r} -> {lines[i][j]!r}"


ADDRESSES = ("192.0.2.1", "192.0.2.255", "0.0.0.0", "255.255.255.255", "224.0.0.18",
             "127.0.0.1", "192.0.2.1/33", "192.0.2.1/0", "192.0.2.300", "192.0.2",
             "2001:db8::1", "2001:db8::1/129", "fe80::1", "ff02::12", "::", "::1",
             "2001:db8:::1", "192.0.2.1-10", "192.0.2.1/24", "2001:db8::1/64")


def _change_address(rng: random.Random, lines: Lines) -> str:
    spot = _pick_token(rng, lines, lambda w: bool(_IPV4_RE.match(w) or _IPV6_RE.match(w)))
    if spot is None:
        return _replace_value(rng, lines)
    i, j = spot
    old = lines[i][j]
    lines[i][j] = rng.choice(ADDRESSES)
    return f"line {i + 1}: address {old!r} -> {lines[i][j]!r}"


def _change_interface(rng: random.Random, lines: Lines) -> str:
    spot = _pick_token(rng, lines, lambda w: w in ("eth0", "eth1", "lo") or w.startswith("eth"))
    if spot is None:
        return _replace_value(rng, lines)
    i, j = spot
    old = lines[i][j]
    lines[i][j] = rng.choice(("eth0", "eth1", "eth9", "lo", "eth0.100", "a" * 16, "br0"))
    return f"line {i + 1}: interface {old!r} -> {lines[i][j]!r}"


def _unknown_keyword(rng: random.Random, lines: Lines) -> str:
    i = rng.randrange(len(lines) + 1)
    word = rng.choice(("fuzz_unknown", "prioritty", "virtual_ipaddres", "vrrp_instanc",
                       "global_def", "interfac"))
    lines.insert(i, [word, *rng.choice(([], ["1"], ["{", "}"], ["eth0"]))])
    return f"line {i + 1}: inserted unknown keyword {word!r}"


def _misspell_keyword(rng: random.Random, lines: Lines) -> str:
    spot = _pick_token(rng, lines, lambda w: "_" in w and w.isidentifier())
    if spot is None:
        return _unknown_keyword(rng, lines)
    i, j = spot
    old = lines[i][j]
    k = rng.randrange(len(old))
    lines[i][j] = old[:k] + old[k + 1:] if rng.random() < 0.5 else old[:k] + old[k] + old[k:]
    return f"line {i + 1}: keyword {old!r} -> {lines[i][j]!r}"


def _misplace_keyword(rng: random.Random, lines: Lines) -> str:
    i = rng.randrange(len(lines) + 1)
    word = rng.choice(known_keywords())
    value = rng.choice(([], ["1"], ["eth0"], ["192.0.2.9"], ["{", "}"], ["yes"], ["VI_1"]))
    lines.insert(i, [word, *value])
    return f"line {i + 1}: inserted keyword {' '.join([word, *value])!r}"


def _replace_keyword(rng: random.Random, lines: Lines) -> str:
    kws = set(known_keywords())
    spot = _pick_token(rng, lines, lambda w: w in kws)
    if spot is None:
        return _misplace_keyword(rng, lines)
    i, j = spot
    old = lines[i][j]
    lines[i][j] = rng.choice(known_keywords())
    return f"line {i + 1}: keyword {old!r} -> {lines[i][j]!r}"


def _brace_damage(rng: random.Random, lines: Lines) -> str:
    kind = rng.randrange(4)
    spot = _pick_token(rng, lines, lambda w: w in ("{", "}") or w.endswith("{"))
    if kind == 0 and spot is not None:
        i, j = spot
        word = lines[i][j]
        lines[i][j] = word[:-1]
        if not lines[i][j]:
            lines[i].pop(j)
        return f"line {i + 1}: removed a brace from {word!r}"
    i = rng.randrange(len(lines) + 1)
    brace = "{" if kind in (1, 3) else "}"
    if kind == 3 and lines and i < len(lines):
        lines[i].append(brace)
        return f"line {i + 1}: appended '{{'"
    lines.insert(i, [brace])
    return f"line {i + 1}: inserted {brace!r}"


def _quote_damage(rng: random.Random, lines: Lines) -> str:
    spot = _pick_token(rng, lines, lambda w: w not in "{}")
    if spot is None:
        return "nothing to quote"
    i, j = spot
    old = lines[i][j]
    k = rng.randrange(len(old) + 1)
    lines[i][j] = old[:k] + '"' + old[k:]
    return f"line {i + 1}: quote inserted into {old!r}"


def _include_missing(rng: random.Random, lines: Lines) -> str:
    i = rng.randrange(len(lines) + 1)
    word = rng.choice(("include", "include", "includea", "includem", "includer"))
    target = rng.choice((f"{MISSING_DIR}/missing.conf", f"{MISSING_DIR}/*.conf",
                         f"{MISSING_DIR}/{{a,b}}.conf", "missing-relative.conf"))
    lines.insert(i, [word, target])
    return f"line {i + 1}: {word} {target}"


def _conditional(rng: random.Random, lines: Lines) -> str:
    if not lines:
        return "nothing to make conditional"
    i = rng.randrange(len(lines))
    prefix = rng.choice(("@nohost", "@^nohost", "@", "@^"))
    lines[i].insert(0, prefix)
    return f"line {i + 1}: prefixed {prefix!r}"


def _definition(rng: random.Random, lines: Lines) -> str:
    spot = _pick_token(rng, lines, lambda w: w not in "{}")
    if spot is None:
        return "nothing to define"
    i, j = spot
    old = lines[i][j]
    form = rng.randrange(3)
    if form == 0:
        lines.insert(0, [f"$FUZZ={old}"])
        lines[i + 1][j] = "$FUZZ"
        return f"line {i + 2}: {old!r} through $FUZZ"
    if form == 1:
        lines[i][j] = "${FUZZ_UNDEFINED}"
        return f"line {i + 1}: {old!r} -> undefined parameter"
    lines.insert(i, [f"$FUZZ={old}", "\\"])
    return f"line {i + 1}: unterminated multi-line definition"


def _delete_line(rng: random.Random, lines: Lines) -> str:
    if not lines:
        return "nothing to delete"
    i = rng.randrange(len(lines))
    words = lines.pop(i)
    return f"line {i + 1}: deleted {' '.join(words)!r}"


def _duplicate_line(rng: random.Random, lines: Lines) -> str:
    if not lines:
        return "nothing to duplicate"
    i = rng.randrange(len(lines))
    lines.insert(i, list(lines[i]))
    return f"line {i + 1}: duplicated {' '.join(lines[i])!r}"


def _swap_lines(rng: random.Random, lines: Lines) -> str:
    if len(lines) < 2:
        return "nothing to swap"
    i = rng.randrange(len(lines) - 1)
    lines[i], lines[i + 1] = lines[i + 1], lines[i]
    return f"line {i + 1}: swapped with the next line"


def _cut(rng: random.Random, lines: Lines) -> str:
    if not lines:
        return "nothing to cut"
    i = rng.randrange(len(lines))
    del lines[i:]
    return f"cut after line {i}"


def _comment(rng: random.Random, lines: Lines) -> str:
    if not lines:
        return "nothing to comment"
    i = rng.randrange(len(lines))
    lines[i].insert(rng.randrange(len(lines[i]) + 1), rng.choice(("#", "!", "\\#")))
    return f"line {i + 1}: comment mark inserted"


EDITS: dict[str, Callable[[random.Random, Lines], str]] = {
    "delete_token": _delete_token,
    "duplicate_token": _duplicate_token,
    "swap_tokens": _swap_tokens,
    "change_number": _change_number,
    "replace_value": _replace_value,
    "change_address": _change_address,
    "change_interface": _change_interface,
    "unknown_keyword": _unknown_keyword,
    "misspell_keyword": _misspell_keyword,
    "misplace_keyword": _misplace_keyword,
    "replace_keyword": _replace_keyword,
    "brace_damage": _brace_damage,
    "quote_damage": _quote_damage,
    "include_missing": _include_missing,
    "conditional": _conditional,
    "definition": _definition,
    "delete_line": _delete_line,
    "duplicate_line": _duplicate_line,
    "swap_lines": _swap_lines,
    "cut": _cut,
    "comment": _comment,
}
EDIT_NAMES = tuple(EDITS)


def mutate(text: str, edits: list[tuple[str, int]]) -> tuple[str, list[str]]:
    """``text`` with ``edits`` applied: (edit name, seed of its choices) each; returns the
    new text and what each edit did."""
    lines = _tokens(text)
    done = []
    for name, seed in edits:
        done.append(f"{name}: {EDITS[name](random.Random(seed), lines)}")
    return _text(lines), done


@dataclass(frozen=True)
class Mutant:
    """One configuration of a corpus: which seed, which edits, the text."""

    index: int
    seed: str
    edits: tuple[str, ...]
    text: str


def corpus(count: int, seed: int = 2022) -> list[Mutant]:
    """``count`` mutated configurations, the same for the same ``seed`` and tree."""
    rng = random.Random(seed)
    pools = seed_pools()
    out = []
    for index in range(count):
        base = rng.choice(rng.choice(pools))
        edits = [(rng.choice(EDIT_NAMES), rng.randrange(1 << 30))
                 for _ in range(rng.choice((1, 1, 1, 2, 3)))]
        text, done = mutate(base.text, edits)
        out.append(Mutant(index, base.name, tuple(done), text))
    return out
