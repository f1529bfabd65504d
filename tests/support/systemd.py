"""Reading the repository's systemd units as systemd would, to run their command lines.

Enough of systemd.unit(5), systemd.service(5) and systemd.exec(5) for our units:
``Key=value`` lines per section (a key may repeat), the specifiers they use
(``%i``, ``%S``, ``%%``), environment files, and ``${VAR}`` / ``$VAR`` in ExecStart.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

Sections = dict[str, dict[str, list[str]]]

_BRACED = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_BARE = re.compile(r"^\$([A-Za-z_][A-Za-z0-9_]*)$")


def parse_unit(path: Path) -> Sections:
    """Every ``Key=value`` of each section, in order, repeated keys kept."""
    sections: Sections = {}
    current: dict[str, list[str]] = {}
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        key, _, value = line.partition("=")
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def specifiers(value: str, instance: str, state_dir: Path) -> str:
    """``value`` with the unit specifiers our units use replaced."""
    table = {"i": instance, "S": str(state_dir), "%": "%"}
    return re.sub(r"%([iS%])", lambda m: table[m.group(1)], value)


def read_env_file(path: Path) -> dict[str, str]:
    """``NAME=value`` lines of an EnvironmentFile (comments and blank lines skipped)."""
    env = {}
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            env[name.strip()] = value.strip().strip('"')
    return env


def environment_lines(values: list[str], instance: str, state_dir: Path) -> dict[str, str]:
    """The variables of ``Environment=`` lines (each ``NAME=value``, quoted or not)."""
    env = {}
    for value in values:
        for assignment in shlex.split(specifiers(value, instance, state_dir)):
            name, _, setting = assignment.partition("=")
            env[name] = setting
    return env


def command_line(exec_start: str, env: dict[str, str]) -> list[str]:
    """ExecStart's words: ``${VAR}`` stays one word, a word that is ``$VAR`` splits on blanks."""
    words: list[str] = []
    for word in shlex.split(exec_start):
        bare = _BARE.match(word)
        if bare:
            words.extend(env.get(bare.group(1), "").split())
        else:
            words.append(_BRACED.sub(lambda m: env.get(m.group(1), ""), word))
    return words
