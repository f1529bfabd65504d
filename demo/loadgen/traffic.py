"""Realistic pt_BR API traffic: people sign up, then subscribe, pay, set preferences,
and (with :data:`VIEWING_MIX`) watch titles and open viewing sessions.

Bodies come from the same Faker-based demo data the API uses for empty POSTs
(:mod:`demo.people`), serialised once in advance so that generating load costs
the client almost nothing while it is being measured.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

import orjson

from app.requests.fields import Command
from demo.people import (
    demo_payment,
    demo_preferences,
    demo_session_fields,
    demo_subscription,
    demo_user,
    demo_viewing_fields,
)

#: How often each command follows the sign-ups, per hundred requests: the account side.
COMMAND_WEIGHTS = {"assinatura": 30, "pagamento": 50, "config": 20}
#: The whole platform: heartbeats are most of what players send; sessions are opened now
#: and then (an open without a subscription, or over the plan's screens, ends in error).
VIEWING_MIX = {"assinatura": 15, "pagamento": 15, "config": 10, "visualizacao": 55, "sessao": 5}
#: Commands whose path is fixed and whose body names the user (the others: /usuarios/{id}/...).
_BODY_NAMES_USER = {"visualizacao": "/historico-visualizacao", "sessao": "/sessoes"}
#: Pre-serialised bodies kept per command kind (cycled: every event still gets its own id).
POOL_SIZE = 500


@dataclass(frozen=True, slots=True)
class Request:
    """One POST to send: its kind (for reports), path and JSON body."""

    kind: str
    path: str
    body: bytes


def _bodies(make: Callable[[], Command], count: int) -> list[bytes]:
    return [orjson.dumps(make().model_dump(mode="json")) for _ in range(count)]


class Traffic:
    """Sign-ups for ``users`` people, then commands for the users already accepted.

    A command is only ever sent for a user id whose sign-up was accepted
    (:meth:`user_accepted`), so it reaches Kafka after the user's creation,
    on the same partition, and applies.
    """

    def __init__(
        self, users: int, seed: int | None = None, mix: dict[str, int] = COMMAND_WEIGHTS
    ) -> None:
        self._random = random.Random(seed)
        self._mix = mix
        self._signups = _bodies(demo_user, users)
        self._commands = {
            "assinatura": _bodies(demo_subscription, POOL_SIZE),
            "pagamento": _bodies(demo_payment, POOL_SIZE),
            "config": _bodies(demo_preferences, POOL_SIZE),
        }
        self._fields: dict[str, list[dict[str, object]]] = {
            "visualizacao": [demo_viewing_fields() for _ in range(POOL_SIZE)],
            "sessao": [dict(demo_session_fields()) for _ in range(POOL_SIZE)],
        }
        self._sent = 0
        self.user_ids: list[int] = []

    def user_accepted(self, user_id: int) -> None:
        """Remember a user whose sign-up answered 202: commands may target it now."""
        self.user_ids.append(user_id)

    def next_request(self) -> Request:
        """The next request: the sign-ups first, then commands for accepted users."""
        if self._signups:
            return self._signup()
        if not self.user_ids:  # every sign-up still in flight: one more person
            return Request("usuarios", "/usuarios", _bodies(demo_user, 1)[0])
        return self._any_command()

    def _signup(self) -> Request:
        return Request("usuarios", "/usuarios", self._signups.pop())

    def _any_command(self) -> Request:
        kind = self._random.choices(list(self._mix), list(self._mix.values()))[0]
        return self._command(kind, self._random.choice(self.user_ids))

    def _command(self, kind: str, user_id: int) -> Request:
        self._sent += 1
        if kind in _BODY_NAMES_USER:
            fields = self._fields[kind][self._sent % POOL_SIZE]
            body = orjson.dumps({"user_id": user_id, **fields})
            return Request(kind, _BODY_NAMES_USER[kind], body)
        pool = self._commands[kind]
        return Request(kind, f"/usuarios/{user_id}/{kind}", pool[self._sent % len(pool)])


class SteadyTraffic(Traffic):
    """The same requests as :class:`Traffic`, mixed the same way all along: each one is a
    sign-up with probability ``signup_share`` (while people are left to sign up), else a
    command for a user already accepted. For long runs (``make soak``).

    With ``population``, sign-ups fall to ``settled_share`` once that many people were
    accepted: a platform's people change slowly, so a long run's steady state is a
    settled population, not one that grows by a fifth of every request.
    """

    def __init__(
        self,
        users: int,
        signup_share: float,
        seed: int | None = None,
        mix: dict[str, int] = COMMAND_WEIGHTS,
        population: int | None = None,
        settled_share: float = 0.0,
    ) -> None:
        super().__init__(users, seed, mix)
        self._signup_share = signup_share
        self._population = population
        self._settled_share = settled_share

    def next_request(self) -> Request:
        """A sign-up now and then, commands otherwise."""
        wants_signup = self._random.random() < self._current_signup_share()
        if self.user_ids and not (wants_signup and self._signups):
            # Not the base class's choice: it sends every sign-up left before any command.
            return self._any_command()
        return super().next_request()

    def _current_signup_share(self) -> float:
        settled = self._population is not None and len(self.user_ids) >= self._population
        return self._settled_share if settled else self._signup_share
