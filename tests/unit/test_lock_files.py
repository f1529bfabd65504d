"""The locks pin every dependency with hashes and agree with the files people edit.

``make lock`` compiles requirements.lock from requirements.txt and
requirements-dev.lock from both requirement files; ``make venv`` and the image
install only from the locks. A pin changed in a requirements file without
``make lock`` would be silently ignored: these checks catch it offline.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
_ENTRY = re.compile(
    r"^([A-Za-z0-9][A-Za-z0-9_.-]*)==([^\s\\;]+)(.*?)(?=^\S|\Z)", re.MULTILINE | re.DOTALL
)


def locked(name: str) -> dict[str, tuple[str, list[str]]]:
    """Each pinned package of a lock: its version and its hashes."""
    text = (ROOT / name).read_text()
    return {
        canonicalize_name(package): (version, re.findall(r"--hash=sha256:([0-9a-f]{64})", rest))
        for package, version, rest in _ENTRY.findall(text)
    }


def requested(name: str) -> dict[str, str]:
    """The packages a requirements file names, with the exact version it pins."""
    pins = {}
    for line in (ROOT / name).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            requirement = Requirement(line)
            (specifier,) = requirement.specifier
            pins[canonicalize_name(requirement.name)] = specifier.version
    return pins


@pytest.mark.parametrize("lock", ["requirements.lock", "requirements-dev.lock"])
def test_every_locked_package_has_an_exact_version_and_hashes(lock: str) -> None:
    packages = locked(lock)
    assert len(packages) > 40
    for package, (version, hashes) in packages.items():
        assert hashes, f"{lock}: {package}=={version} has no hash"
    # Nothing unpinned slips through: every requirement line of the file was read.
    lines = [ln for ln in (ROOT / lock).read_text().splitlines() if re.match(r"^[A-Za-z0-9]", ln)]
    assert len(lines) == len(packages)


@pytest.mark.parametrize(
    ("lock", "sources"),
    [
        ("requirements.lock", ["requirements.txt"]),
        ("requirements-dev.lock", ["requirements.txt", "requirements-dev.txt"]),
    ],
)
def test_each_lock_holds_the_versions_its_requirement_files_pin(
    lock: str, sources: list[str]
) -> None:
    packages = locked(lock)
    for source in sources:
        for package, version in requested(source).items():
            assert package in packages, f"{package} is in {source} but not in {lock}: make lock"
            assert packages[package][0] == version, f"{package}: {source} != {lock}: make lock"


def test_the_tools_lock_keeps_every_runtime_pin() -> None:
    runtime, tools = locked("requirements.lock"), locked("requirements-dev.lock")
    assert {package: tools[package][0] for package in runtime} == {
        package: version for package, (version, _) in runtime.items()
    }
