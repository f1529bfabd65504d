"""What the stack tool tells the operator: one-line errors and progress messages."""

from __future__ import annotations

import sys

#: Prefix of every message; the tool runs as `python3 -m stack`.
PROG = "stack"


class StackError(Exception):
    """A problem the operator can fix; printed as one line, exit status 1."""


def say(message: str) -> None:
    """Progress message on stderr (stdout carries the one-line-per-service result)."""
    print(f"{PROG}: {message}", file=sys.stderr, flush=True)
