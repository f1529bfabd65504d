"""Where the API process's CPU goes per request: py-spy's samples sorted into the parts of a request.

A sample is charged to the part named by the innermost frame that a rule
recognises (walking from the leaf to the root), so a pydantic frame under
``web.parsing.validate`` is validation, the same frame under a view's ``post``
is building the event, and a socket write under aiohttp's writer is the
response. Samples no rule recognises are ``other``: the event loop itself, the
Kafka connections' reads (one reader per broker for produce answers and
fetches alike), the role's agents fetching and Faust's timers. The shares times the
process's measured CPU per request give the budget; py-spy only sees where
time goes, never how much CPU it was.

Samples in the event loop's ``select`` are left out: py-spy took a third of
its samples there in a worker whose kernel time was 2.4 % of a core while its
user time was 29.6 % (docs/benchmarks.md), so they are a thread py-spy judged
active while it waited in ``epoll_wait``, not CPU the process spent.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

#: The parts of a request, in the order of its path through the process.
PARTS = (
    "http parsing",
    "middleware chain",
    "authentication",
    "validation",
    "building the event",
    "produce call",
    "log line",
    "metrics",
    "response",
    "other",
)

#: (part, substrings of a py-spy frame ``function (file:line)``); the first rule that matches wins.
RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("log line", ("_log_request", "logging/__init__.py", "logging_setup.py", "request_log")),
    ("metrics", ("_observe ", "prometheus_client", "live_figures.py", "http_metrics.py:")),
    (
        "produce call",
        (
            "publish_event",
            "intake_producer.py",
            "confluent_kafka",
            "aiokafka/producer",
            "aiokafka/record",
            "faust/topics.py",
            "faust/transport/producer.py",
            "faust/transport/drivers/aiokafka.py",
            "faust/types/tuples.py",
            "mode/utils/futures.py",
        ),
    ),
    ("response", ("json_response", "web_response.py", "http_writer.py", "accept (")),
    ("authentication", ("authenticate ", "presented_key", "api_keys.py", "rate_limit.py")),
    (
        "validation",
        ("read_command", "read_fields", "read_with_demo", "validate (", "_json_object"),
    ),
    (
        "building the event",
        ("envelope", "correlation.py", "caller_name", "_views.py", "intake.py"),
    ),
    (
        "http parsing",
        (
            "web_protocol.py",
            "http_parser.py",
            "web_request.py",
            "aiohttp/helpers.py",
            "web_urldispatcher.py",
            "aiohttp/streams.py",
            "multidict",
            "yarl",
        ),
    ),
    (
        "middleware chain",
        ("json_errors", "middleware.py", "web_app.py", "web_middlewares.py", "faust/web/"),
    ),
)


def part_of(stack: list[str]) -> str:
    """The part a sample belongs to: the first rule matching its innermost frame that any matches."""
    for frame in reversed(stack):
        for part, needles in RULES:
            if any(needle in frame for needle in needles):
                return part
    return "other"


#: The innermost frame of a thread waiting for its event loop's next event.
WAITING = "select (selectors.py"
#: The root frame of every thread but the main one (the intake's polling thread, Faust's
#: consumer thread).
THREAD_ROOT = "Thread._bootstrap (threading.py"


def shares(collapsed: Path, main_thread: bool | None = None) -> dict[str, float]:
    """Each part's share of the samples in a py-spy ``--format raw`` file (they sum to 1).

    Samples waiting in the event loop's ``select`` are not counted (see the module's docstring).
    ``main_thread``: only the main thread's samples (True), only the other threads' (False:
    their stacks start in ``threading``), or all (None).
    """
    counts: Counter[str] = Counter()
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        if not stack or WAITING in frames[-1]:
            continue
        if main_thread is not None and (THREAD_ROOT in frames[0]) == main_thread:
            continue
        counts[part_of(frames)] += int(count)
    total = sum(counts.values()) or 1
    return {part: counts[part] / total for part in PARTS}


def combined(parts_by_cpu: list[tuple[float, dict[str, float]]]) -> dict[str, float]:
    """One set of shares from several threads': each ``(cpu, shares)`` weighted by its CPU.

    py-spy sees where each Python thread's samples fall, not how much CPU each
    thread spent: it counts a thread waiting inside a C call (the intake's
    polling thread in librdkafka's ``poll``, like the loop in ``select``) as
    busy. So each thread's parts are weighted by the CPU ``/proc`` says it used,
    and librdkafka's own C threads, which py-spy never sees, come in whole.
    """
    total = sum(cpu for cpu, _ in parts_by_cpu) or 1.0
    found = {part: 0.0 for part in PARTS}
    for cpu, part_shares in parts_by_cpu:
        for part, share in part_shares.items():
            found[part] += share * cpu / total
    return found


def budget_table(cpu_us_per_request: float, part_shares: dict[str, float]) -> str:
    """The budget as a Markdown table: each part's µs of CPU per request and share."""
    lines = ["| part | µs per request | share |", "|---|---:|---:|"]
    for part in PARTS:
        share = part_shares.get(part, 0.0)
        lines.append(f"| {part} | {cpu_us_per_request * share:,.0f} | {100 * share:.0f}% |")
    lines.append(f"| **total (measured)** | **{cpu_us_per_request:,.0f}** | 100% |")
    return "\n".join(lines)
