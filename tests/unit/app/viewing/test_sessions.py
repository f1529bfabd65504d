"""The session rules: screens per plan, expiry, pruning, and the same outcome on a replay."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from app.accounts.commands import Subscription
from app.viewing.session_commands import SessionActivity, SessionEnded, SessionOpened, session_id_of
from app.viewing.sessions import (
    KEPT_AFTER_END,
    NO_SUBSCRIPTION,
    Outcome,
    UserSessions,
    apply,
    entitlement,
)

USER = 42
IDLE = timedelta(minutes=30)
T0 = datetime(2030, 5, 10, 12, 0, tzinfo=UTC)
IN_FORCE = {"inicio": date(2030, 5, 1), "fim": date(2030, 5, 31)}


def plans(plano: str | None = "Padrão", **period: date) -> dict[int, Subscription | None]:
    """The ``subscriptions`` PostgreSQL gives for :data:`USER` (``plano=None``: none)."""
    if plano is None:
        return {USER: None}
    return {USER: Subscription(plano, **{**IN_FORCE, **period})}


def opening(at: datetime, dispositivo: str = "Web") -> SessionOpened:
    correlation_id = str(uuid.uuid4())
    return SessionOpened(
        correlation_id=correlation_id,
        user_id=USER,
        session_id=session_id_of(USER, correlation_id),
        dispositivo=dispositivo,
        localizacao="Recife, PE",
        timestamp=at,
    )


def activity(session_id: str, at: datetime) -> SessionActivity:
    return SessionActivity(
        correlation_id=str(uuid.uuid4()), user_id=USER, session_id=session_id, timestamp=at
    )


def ending(session_id: str, at: datetime) -> SessionEnded:
    return SessionEnded(
        correlation_id=str(uuid.uuid4()), user_id=USER, session_id=session_id, timestamp=at
    )


def run(
    commands: list[SessionOpened | SessionActivity | SessionEnded],
    subscriptions: dict[int, Subscription | None] | None = None,
    state: UserSessions | None = None,
) -> tuple[UserSessions, list[Outcome]]:
    """The state after ``commands`` in order, and each one's outcome."""
    state = state or UserSessions()
    subscriptions = plans() if subscriptions is None else subscriptions
    outcomes = []
    for command in commands:
        state, outcome = apply(state, command, subscriptions, IDLE)
        outcomes.append(outcome)
    return state, outcomes


@pytest.mark.parametrize(("plano", "limit"), [("Básico", 1), ("Padrão", 2), ("Premium", 4)])
def test_each_plan_allows_its_screens_and_refuses_one_more_saying_why(
    plano: str, limit: int
) -> None:
    commands = [opening(T0 + timedelta(seconds=i)) for i in range(limit + 1)]

    state, outcomes = run(commands, plans(plano))

    assert [o.status for o in outcomes] == ["success"] * limit + ["error"]
    screens = "1 tela simultânea" if limit == 1 else f"{limit} telas simultâneas"
    assert outcomes[-1].message == f"Limite de {screens} do plano {plano} atingido"
    assert state.active_count() == limit


def test_ending_a_session_frees_its_screen() -> None:
    first = opening(T0)
    later = T0 + timedelta(minutes=1)

    _, outcomes = run(
        [first, opening(later), ending(first.session_id, later), opening(later)], plans("Básico")
    )

    assert [o.status for o in outcomes] == ["success", "error", "success", "success"]


def test_an_idle_session_frees_its_screen_once_the_timeout_has_passed() -> None:
    _, outcomes = run(
        [opening(T0), opening(T0 + IDLE), opening(T0 + IDLE + timedelta(seconds=1))],
        plans("Básico"),
    )

    assert [o.status for o in outcomes] == ["success", "error", "success"]


def test_activity_keeps_a_session_alive_past_the_timeout() -> None:
    first = opening(T0)
    kept_alive = T0 + IDLE - timedelta(seconds=1)

    state, outcomes = run(
        [first, activity(first.session_id, kept_alive), opening(T0 + IDLE + timedelta(seconds=1))],
        plans("Básico"),
    )

    assert [o.status for o in outcomes] == ["success", "success", "error"]
    assert state.sessoes[first.session_id].ultima_atividade == kept_alive


@pytest.mark.parametrize(
    ("subscriptions", "message"),
    [
        ({}, f"Usuário {USER} não encontrado"),
        (plans(None), NO_SUBSCRIPTION.message),
        (plans("Premium", fim=date(2030, 5, 9)), NO_SUBSCRIPTION.message),
        (plans("Premium", inicio=date(2030, 5, 11)), NO_SUBSCRIPTION.message),
        (plans("Ouro"), NO_SUBSCRIPTION.message),
    ],
    ids=["unknown user", "no subscription", "ended", "not started", "unknown plan"],
)
def test_an_opening_needs_an_existing_user_with_a_subscription_in_force(
    subscriptions: dict[int, Subscription | None], message: str
) -> None:
    assert entitlement(USER, subscriptions, T0.date()) == Outcome("error", message)
    state, outcomes = run([opening(T0)], subscriptions)
    assert outcomes == [Outcome("error", message)]
    assert state.sessoes == {}


def test_a_subscription_in_force_gives_its_plan() -> None:
    assert entitlement(USER, plans("Premium"), T0.date()) == "Premium"


def test_a_replayed_opening_is_neither_counted_twice_nor_answered_differently() -> None:
    first, second = opening(T0), opening(T0 + timedelta(seconds=1))
    commands = [first, second, ending(first.session_id, T0 + timedelta(seconds=2))]
    state, outcomes = run(commands, plans("Básico"))

    # Handled again after a crash: the openings alone (their screen still taken),
    # then the whole batch (a screen free by now).
    for replay in (commands[:2], commands):
        replayed, again = run(replay, plans("Básico"), state)
        assert again == outcomes[: len(replay)]
        assert replayed == state
    assert set(state.recusadas) == {second.session_id}


def test_a_replayed_opening_keeps_its_outcome_even_if_the_plan_changed_meanwhile() -> None:
    first = opening(T0)
    state, outcomes = run([first], plans("Premium"))

    _, again = run([first], {}, state)

    assert again == outcomes == [Outcome("success", "Sessão iniciada")]


def test_replayed_activity_and_ending_change_nothing() -> None:
    first = opening(T0)
    touch = activity(first.session_id, T0 + timedelta(minutes=5))
    end = ending(first.session_id, T0 + timedelta(minutes=10))
    state, outcomes = run([first, touch, end])

    replayed, again = run([touch, end], state=state)

    assert replayed == state
    assert again == outcomes[1:]
    session = state.sessoes[first.session_id]
    assert (session.ultima_atividade, session.encerrada_em) == (touch.timestamp, end.timestamp)
    assert session.motivo_encerramento == "encerrada"


def test_activity_is_the_latest_time_seen_even_out_of_order() -> None:
    first = opening(T0)
    late, early = T0 + timedelta(minutes=9), T0 + timedelta(minutes=3)

    state, _ = run([first, activity(first.session_id, late), activity(first.session_id, early)])

    assert state.sessoes[first.session_id].ultima_atividade == late


def test_ending_keeps_the_first_end_and_an_expiry_stays_an_expiry() -> None:
    first, idle_one = opening(T0), opening(T0)
    end_at = T0 + timedelta(minutes=1)
    much_later = T0 + IDLE + timedelta(minutes=5)

    state, outcomes = run(
        [
            first,
            idle_one,
            ending(first.session_id, end_at),
            ending(first.session_id, much_later),
            ending(idle_one.session_id, much_later),
        ],
        plans("Premium"),
    )

    assert {o.status for o in outcomes} == {"success"}
    assert state.sessoes[first.session_id].encerrada_em == end_at
    expired = state.sessoes[idle_one.session_id]
    assert (expired.encerrada_em, expired.motivo_encerramento) == (T0 + IDLE, "inatividade")


def test_activity_after_the_end_is_refused_and_before_it_is_recorded() -> None:
    first = opening(T0)
    end_at = T0 + timedelta(minutes=10)

    _, outcomes = run(
        [
            first,
            ending(first.session_id, end_at),
            activity(first.session_id, end_at - timedelta(seconds=1)),
            activity(first.session_id, end_at + timedelta(seconds=1)),
            activity(first.session_id, T0 + IDLE * 3),
        ]
    )

    assert [o.message for o in outcomes[2:]] == [
        "Atividade registrada",
        "Sessão já encerrada",
        "Sessão já encerrada",
    ]


def test_commands_on_an_unknown_session_are_errors() -> None:
    stray = session_id_of(USER, str(uuid.uuid4()))

    state, outcomes = run([activity(stray, T0), ending(stray, T0)])

    assert outcomes == [Outcome("error", "Sessão não encontrada")] * 2
    assert state.is_empty


def test_a_refused_session_cannot_be_used_or_ended() -> None:
    refused = opening(T0)

    _, outcomes = run(
        [refused, activity(refused.session_id, T0), ending(refused.session_id, T0)], plans(None)
    )

    assert [o.message for o in outcomes[1:]] == ["Sessão não encontrada"] * 2


def test_what_ended_and_every_refusal_are_pruned_a_day_later() -> None:
    ended, expired, refused = opening(T0), opening(T0), opening(T0)
    state, _ = run([ended, expired, refused, ending(ended.session_id, T0)], plans("Padrão"))
    assert set(state.recusadas) == {refused.session_id}

    next_day = T0 + IDLE + KEPT_AFTER_END + timedelta(seconds=1)
    active = opening(next_day)
    pruned, _ = run([active], plans("Padrão"), state)

    assert set(pruned.sessoes) == {active.session_id}
    assert pruned.recusadas == {}


def test_the_listing_computes_expiry_at_read_time_newest_first() -> None:
    older, newer = opening(T0, "Android"), opening(T0 + timedelta(minutes=20), "Console")
    state, _ = run([older, newer], plans("Padrão"))
    now = T0 + IDLE + timedelta(minutes=1)

    everything = state.listing(now, IDLE, active_only=False)
    active = state.listing(now, IDLE, active_only=True)

    assert [(v.session_id, v.ativa) for v in everything] == [
        (newer.session_id, True),
        (older.session_id, False),
    ]
    assert everything[1].encerrada_em == T0 + IDLE
    assert everything[1].motivo_encerramento == "inatividade"
    assert [v.session_id for v in active] == [newer.session_id]
    assert state.sessoes[older.session_id].encerrada_em is None  # a read writes nothing


def test_the_stored_value_round_trips_through_json() -> None:
    first = opening(T0)
    state, _ = run([first, opening(T0), ending(first.session_id, T0)], plans("Básico"))

    stored = state.model_dump(mode="json")

    assert stored["sessoes"][first.session_id]["iniciada_em"] == "2030-05-10T12:00:00.000000Z"
    assert UserSessions.model_validate(stored) == state
