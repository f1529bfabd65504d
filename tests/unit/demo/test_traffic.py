"""The load generators' traffic: which requests come in which order."""

from __future__ import annotations

from collections import Counter

from demo.loadgen.traffic import VIEWING_MIX, SteadyTraffic, Traffic


def kinds(traffic: Traffic, count: int, accept_signups: bool = True) -> list[str]:
    sent = []
    for _ in range(count):
        request = traffic.next_request()
        if request.kind == "usuarios" and accept_signups:
            traffic.user_accepted(len(sent) + 1)
        sent.append(request.kind)
    return sent


def test_traffic_sends_every_sign_up_before_any_command() -> None:
    sent = kinds(Traffic(50, seed=1, mix=VIEWING_MIX), 200)
    assert sent[:50] == ["usuarios"] * 50
    assert "usuarios" not in sent[50:]


def test_steady_traffic_mixes_sign_ups_and_commands_from_the_start() -> None:
    sent = kinds(SteadyTraffic(10_000, 0.2, seed=1, mix=VIEWING_MIX), 4_000)
    for quarter in range(4):
        counts = Counter(sent[quarter * 1_000 : (quarter + 1) * 1_000])
        assert 150 <= counts["usuarios"] <= 250, counts
        assert counts["visualizacao"] >= 350, counts


def test_steady_traffic_sends_commands_only_once_its_people_are_signed_up() -> None:
    sent = kinds(SteadyTraffic(20, 0.5, seed=2, mix=VIEWING_MIX), 400)
    assert sent.count("usuarios") == 20
    assert sent[-100:].count("usuarios") == 0


def test_steady_traffic_signs_someone_up_first_when_nobody_is_accepted_yet() -> None:
    traffic = SteadyTraffic(5, 0.0, seed=3, mix=VIEWING_MIX)
    assert kinds(traffic, 3, accept_signups=False) == ["usuarios"] * 3


def test_steady_traffic_slows_its_sign_ups_once_its_population_is_signed_up() -> None:
    traffic = SteadyTraffic(
        10_000, 0.5, seed=4, mix=VIEWING_MIX, population=200, settled_share=0.02
    )
    sent = kinds(traffic, 6_000)
    settled_at = [i for i, kind in enumerate(sent) if kind == "usuarios"][199] + 1
    settled = Counter(sent[settled_at:])
    assert settled_at < 600, settled_at
    assert 0 < settled["usuarios"] <= 0.04 * len(sent[settled_at:]), settled
