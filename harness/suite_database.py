"""``python -m harness.suite_database NAME``: renew the database ``make test`` runs the suite on.

Run with the stack's own settings (it connects to the stack's database to drop and
create ``NAME``); the suite then runs with ``POSTGRES_DB=NAME``.
"""

from __future__ import annotations

import asyncio
import sys

from harness.services import renew_database


def main(argv: list[str]) -> int:
    """Renew the database named by the only argument."""
    if len(argv) != 1 or not argv[0].isidentifier():
        print("usage: python -m harness.suite_database NAME (letters, digits, _)", file=sys.stderr)
        return 2
    asyncio.run(renew_database(argv[0]))
    print(f"database {argv[0]}: renewed and migrated for the test suite")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
