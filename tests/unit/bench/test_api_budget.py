"""The API budget: py-spy's samples sorted into the parts of a request."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.api_budget import PARTS, budget_table, combined, part_of, shares

LOOP = "run_forever (asyncio/base_events.py:608);_run_once (asyncio/base_events.py:1922)"
SELECT = f"{LOOP};select (selectors.py:468)"
VIEW = f"{LOOP};post (web/accounts_views.py:40)"


def test_a_sample_goes_to_the_innermost_frame_a_rule_recognises() -> None:
    produce = [VIEW, "publish_event (web/intake.py:120)", "send (aiokafka/producer/producer.py:1)"]
    assert part_of(produce) == "produce call"
    polling = ["_bootstrap (threading.py:1)", "_poll (app/kafka/intake_producer.py:130)"]
    assert part_of(polling) == "produce call"
    assert part_of([VIEW, "model_dump (pydantic/main.py:1)"]) == "building the event"
    assert part_of([LOOP]) == "other"


def test_samples_waiting_in_select_are_not_charged_to_any_part(tmp_path: Path) -> None:
    collapsed = tmp_path / "profile.txt"
    collapsed.write_text(
        f"{SELECT} 50\n"
        f"{VIEW};validate (web/intake.py:200) 30\n"
        f"{VIEW};json_response (web/responses.py:9) 10\n"
        f"{LOOP};_read_ready (asyncio/selector_events.py:1) 10\n"
    )
    found = shares(collapsed)
    assert found["validation"] == pytest.approx(0.6)
    assert found["response"] == pytest.approx(0.2)
    assert found["other"] == pytest.approx(0.2)
    assert sum(found.values()) == pytest.approx(1.0)


def test_the_table_gives_each_part_its_share_of_the_measured_cpu() -> None:
    table = budget_table(1000.0, {part: 0.0 for part in PARTS} | {"validation": 0.25})
    assert "| validation | 250 | 25% |" in table
    assert "| **total (measured)** | **1,000** | 100% |" in table


def test_each_threads_parts_are_weighted_by_the_cpu_it_used_not_by_its_samples() -> None:
    main = {"validation": 0.5, "response": 0.5}
    polling = {"produce call": 1.0}  # sampled often, waiting in poll; little CPU
    found = combined([(0.9, main), (0.05, polling), (0.05, {"produce call": 1.0})])
    assert found["validation"] == pytest.approx(0.45)
    assert found["response"] == pytest.approx(0.45)
    assert found["produce call"] == pytest.approx(0.1)
    assert sum(found.values()) == pytest.approx(1.0)


def test_the_main_threads_samples_and_the_other_threads_are_told_apart(tmp_path: Path) -> None:
    collapsed = tmp_path / "profile.txt"
    thread = "Thread._bootstrap (threading.py:1002);IntakeProducer._poll (app/kafka/intake_producer.py:162)"
    collapsed.write_text(f"{VIEW};validate (web/intake.py:200) 30\n{thread} 90\n")
    assert shares(collapsed, main_thread=True)["validation"] == pytest.approx(1.0)
    assert shares(collapsed, main_thread=False)["produce call"] == pytest.approx(1.0)
    assert shares(collapsed)["produce call"] == pytest.approx(0.75)
