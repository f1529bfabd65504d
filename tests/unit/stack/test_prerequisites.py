"""Prerequisite checks: Java's version, missing tools, the workers' jemalloc."""

from __future__ import annotations

from pathlib import Path

import pytest

from stack import prerequisites
from stack.messages import StackError
from stack.prerequisites import parse_java_major, require_tool

JAVA = Path("/usr/bin/java")


@pytest.mark.parametrize(
    ("output", "major"),
    [
        ('openjdk version "17.0.15" 2025-04-15\nOpenJDK Runtime Environment', 17),
        ('openjdk version "25" 2025-09-16', 25),
        ('java version "1.8.0_412"', 8),
    ],
)
def test_the_feature_version_is_read_from_java_version_output(output: str, major: int) -> None:
    assert parse_java_major(output, JAVA) == major


def test_unreadable_java_output_is_one_clear_error() -> None:
    with pytest.raises(StackError, match="cannot read the version of /usr/bin/java"):
        parse_java_major("Error: could not open libjvm", JAVA)


def test_a_missing_tool_names_what_to_install() -> None:
    with pytest.raises(StackError, match=r"`no-such-tool-x` not found on PATH: install it \(apt"):
        require_tool("no-such-tool-x", "apt-get install -y x")


def _record_installs(monkeypatch: pytest.MonkeyPatch, preloaded: str) -> list[list[str]]:
    installs: list[list[str]] = []
    monkeypatch.setattr(prerequisites, "jemalloc_preloaded", lambda: preloaded)
    monkeypatch.setattr(
        prerequisites, "apt_install", lambda packages, log, manual: installs.append(list(packages))
    )
    return installs


def test_jemalloc_is_installed_from_debian_when_the_launcher_finds_none(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    installs = _record_installs(monkeypatch, "")
    prerequisites.ensure_jemalloc(tmp_path / "apt.log")
    assert installs == [["libjemalloc2"]]


def test_jemalloc_already_there_is_left_alone(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    installs = _record_installs(monkeypatch, "/usr/lib64/libjemalloc.so.2")
    prerequisites.ensure_jemalloc(tmp_path / "apt.log")
    assert installs == []


@pytest.mark.parametrize(
    ("accepts", "expected"),
    [(True, (f"-XX:TrimNativeHeapInterval={prerequisites.NATIVE_TRIM_MS}",)), (False, ())],
)
def test_the_jvms_trim_their_native_heap_only_when_the_runtime_knows_the_option(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, accepts: bool, expected: tuple[str, ...]
) -> None:
    java = tmp_path / "bin" / "java"
    java.parent.mkdir()
    # A runtime that refuses an option it does not know, as java does (exit 1).
    java.write_text(f'#!/bin/sh\ncase "$1" in -XX:TrimNative*) exit {0 if accepts else 1};; esac\n')
    java.chmod(0o755)
    monkeypatch.setattr(prerequisites, "find_java_home", lambda: tmp_path)
    prerequisites.native_trim_options.cache_clear()
    try:
        assert prerequisites.native_trim_options() == expected
    finally:
        prerequisites.native_trim_options.cache_clear()
