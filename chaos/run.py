"""``python -m chaos.run`` (``make chaos``): load through the API while faults are injected.

Scenarios (``--scenarios 1,2,...``, default all):

1. the worker killed with SIGKILL mid-load, restarted (same data dir, same instance id);
2. PostgreSQL stopped for ``--pg-outage`` seconds under load, then started;
3. Elasticsearch stopped (or frozen with ``--es-fault freeze``) under load, then back:
   every document exactly once, the fallback file empty;
4. the Kafka broker restarted under load: quick 503s meanwhile, nothing accepted lost;
5. a second worker joins, then the first is killed: >= 99 % of final-status reads
   through the survivor answer 200 within 1 s;
6. poison events written straight to ``user_events``: each a dead letter with its reason;
7. the HTTP API fuzzed by Schemathesis from ``/openapi.json``: no 5xx, no crash;
8. three brokers, one SIGKILLed under load, restarted: no request refused
   (a cluster of its own is started beside a one-broker stack, :mod:`chaos.cluster`);
9. three workers, two SIGKILLed at once, restarted: recovery until all final and lag 0;
10. Elasticsearch's flood-stage watermark passed: documents wait in the fallback
    file, then land once;
11. every sign-up sent twice with one ``Idempotency-Key``: one ``user_id``.

``python -m chaos.soak`` (``make soak``) is the long run: memory, lag and latency.

Each scenario runs on topics and a consumer group of its own, then is audited
(:mod:`chaos.audit`). The table is printed; the exit status is 1 if anything
was lost or doubled, a status stayed pending, or a scenario's own check failed.
The services must be up (``make up``); every fault is undone before the run ends.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path

from chaos.scenarios import SCENARIOS
from chaos.stage import WORK_DIR, Options, Row, describe


def _say(message: str) -> None:
    print(f"[chaos] {message}", file=sys.stderr, flush=True)


def table(rows: list[Row]) -> str:
    """The summary table, one line per scenario, then each row's notes and failures."""
    head = ["scenario", "accepted", "effects", "lost", "doubled", "final statuses", "recovery s"]
    lines = []
    for row in rows:
        v = row.verdict
        recovery = "-" if row.recovery_s is None else f"{row.recovery_s:.1f}"
        lines.append(
            [
                row.scenario,
                str(v.accepted),
                str(v.effects),
                str(v.lost_count),
                str(v.doubled_count),
                f"{v.final}/{v.accepted}",
                recovery,
            ]
        )
    widths = [max(len(r[i]) for r in [head, *lines]) for i in range(len(head))]
    out = [" | ".join(c.ljust(w) for c, w in zip(head, widths, strict=True))]
    out.append("-+-".join("-" * w for w in widths))
    out += [" | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in lines]
    out.append("")
    for row in rows:
        v = row.verdict
        facts = [
            f"ES docs {v.es_documents}/{v.es_expected}",
            f"statuses {dict(v.statuses)}",
            f"no-202 events kept by Kafka {v.ghosts} (applied {v.ghosts_applied})",
            *row.notes,
        ]
        out.append(f"{row.scenario}: " + "; ".join(facts))
        for name, ok in row.checks.items():
            out.append(f"    [{'ok' if ok else 'FAILED'}] {name}")
        for cid, why in v.lost[:5]:
            out.append(f"    LOST {cid}: {why}")
        for what, why in v.doubled[:5]:
            out.append(f"    DOUBLED {what}: {why}")
    return "\n".join(out)


def parse_options(argv: list[str]) -> tuple[Options, list[int], Path | None]:
    """Options, the scenario numbers and the JSON output path, from the command line."""
    parser = argparse.ArgumentParser(prog="python -m chaos.run", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--n", type=int, default=int(os.environ.get("N", "2000")), help="requests per scenario"
    )
    parser.add_argument("--scenarios", default=",".join(map(str, SCENARIOS)))
    parser.add_argument("--pg-outage", type=float, default=20.0, help="seconds PostgreSQL is down")
    parser.add_argument("--es-fault", choices=("stop", "freeze"), default="stop")
    parser.add_argument("--es-outage", type=float, default=5.0, help="seconds ES stays down")
    parser.add_argument("--fuzz-examples", type=int, default=20, help="Schemathesis max examples")
    parser.add_argument("--keep", action="store_true", help="keep topics, rows and documents")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    args = parser.parse_args(argv)
    numbers = [int(s) for s in args.scenarios.split(",") if s.strip()]
    unknown = [n for n in numbers if n not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenarios {unknown}; choose among {sorted(SCENARIOS)}")
    options = Options(
        n=args.n,
        pg_outage_s=args.pg_outage,
        es_fault=args.es_fault,
        es_outage_s=args.es_outage,
        fuzz_examples=args.fuzz_examples,
        keep=args.keep,
    )
    return options, numbers, args.json


async def run(options: Options, numbers: list[int]) -> list[Row]:
    """Run the scenarios one after another."""
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    rows = []
    for number in numbers:
        summary = (SCENARIOS[number].__doc__ or "?").strip().splitlines()[0]
        _say(f"scenario {number}: {summary} (n={options.n})")
        began = time.monotonic()
        row = await SCENARIOS[number](options)
        _say(
            f"scenario {number}: {'passed' if row.passed else 'FAILED'} in "
            f"{time.monotonic() - began:.0f}s"
        )
        rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> int:
    """Run, print the table, exit 1 on any loss, double, pending status or failed check."""
    options, numbers, json_path = parse_options(sys.argv[1:] if argv is None else argv)
    rows = asyncio.run(run(options, numbers))
    print(table(rows))
    if json_path is not None:
        json_path.write_text(json.dumps([describe(r) for r in rows], indent=2))
    return 0 if all(r.passed for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
