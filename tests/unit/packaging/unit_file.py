"""Reading packaging/systemd/pykeepalived.service as systemd reads the parts we rely on."""

from __future__ import annotations

import shlex
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
UNIT = ROOT / "packaging" / "systemd" / "pykeepalived.service"


def directives(text: str) -> list[tuple[str, str, str]]:
    """(section, key, value) of every assignment, in order (keys may repeat)."""
    section = ""
    out = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            continue
        key, _, value = line.partition("=")
        out.append((section, key.strip(), value.strip()))
    return out


def values(text: str, section: str, key: str) -> list[str]:
    return [v for s, k, v in directives(text) if (s, k) == (section, key)]


def environment_file(text: str) -> dict[str, str]:
    """KEY=VALUE lines of an EnvironmentFile (systemd.exec(5)): comments, shell-like quotes."""
    env = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        key, _, value = line.partition("=")
        words = shlex.split(value, posix=True)
        env[key.strip()] = " ".join(words)
    return env


def expand_command(line: str, env: dict[str, str]) -> list[str]:
    """systemd.service(5) "Command lines": a word ``$NAME`` becomes the variable's value split
    at whitespace (no words at all when it is unset or empty); ``${NAME}`` one word."""
    argv: list[str] = []
    for word in shlex.split(line):
        if word.startswith("$") and not word.startswith("${"):
            argv.extend(env.get(word[1:], "").split())
        elif word.startswith("${") and word.endswith("}"):
            argv.append(env.get(word[2:-1], ""))
        else:
            argv.append(word)
    return argv
