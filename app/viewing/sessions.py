"""One user's viewing sessions, as the session table keeps them, and the rules that change them.

Pure: every rule takes the instant it applies at, which is the timestamp of
the event being applied (so an event handled again after a crash is judged
exactly as the first time, and a lagging agent judges each request at the
moment it was made) or, for a read, the present.

* A session is active until it is ended (``encerrada``), or until it has seen
  no activity for the idle timeout (``inatividade``: it ended at its last
  activity plus the timeout). Expiry is computed on every read and every
  count, and written down the next time the user's sessions change.
* Opening one needs a subscription in force and a free screen: the plan's
  :data:`STREAM_LIMITS` caps the sessions active at the same instant.
* Activity at or before a session's end moves its last activity forward (the
  maximum of the times); activity after the end is refused.
* Ending keeps the first end (a session that expired stays expired).
* What ended, and every refusal, is forgotten a day later (:data:`KEPT_AFTER_END`).

Replays: an opening's outcome is remembered by session id (a success as the
session itself, a refusal with its message), so an opening handled again is
neither counted twice nor answered differently; activity and ending are
idempotent by themselves.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Annotated, Literal, NamedTuple, TypeAlias

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer

from app.accounts.commands import Subscription
from app.clock import as_utc, iso_utc
from app.viewing.session_commands import Device, SessionActivity, SessionEvent, SessionOpened

EndReason = Literal["encerrada", "inatividade"]
#: Sessions a plan lets a user have active at the same time.
STREAM_LIMITS: Mapping[str, int] = {"Básico": 1, "Padrão": 2, "Premium": 4}
#: How long an ended session (and a refused opening) stays in the user's value.
KEPT_AFTER_END = timedelta(days=1)

#: An instant, in UTC; written as :func:`app.clock.iso_utc` writes it.
Instant = Annotated[
    datetime,
    AfterValidator(as_utc),
    PlainSerializer(iso_utc, return_type=str, when_used="json"),
    Field(json_schema_extra={"format": "date-time"}),
]


class Outcome(NamedTuple):
    """The status and message a command's requester reads at ``/status``."""

    status: Literal["success", "error"]
    message: str


OPENED = Outcome("success", "Sessão iniciada")
ACTIVITY_RECORDED = Outcome("success", "Atividade registrada")
ENDED = Outcome("success", "Sessão encerrada")
NOT_FOUND = Outcome("error", "Sessão não encontrada")
ALREADY_ENDED = Outcome("error", "Sessão já encerrada")
NO_SUBSCRIPTION = Outcome("error", "Usuário sem assinatura ativa")


def unknown_user(user_id: int) -> Outcome:
    """The refusal of a session for a user that does not exist."""
    return Outcome("error", f"Usuário {user_id} não encontrado")


def limit_reached(plan: str, limit: int) -> Outcome:
    """The refusal of a session beyond the plan's screens."""
    screens = "1 tela simultânea" if limit == 1 else f"{limit} telas simultâneas"
    return Outcome("error", f"Limite de {screens} do plano {plan} atingido")


def entitlement(
    user_id: int, subscriptions: Mapping[int, Subscription | None], on: date
) -> str | Outcome:
    """The plan whose screens bound a session the user opens ``on``, or the refusal.

    ``subscriptions`` holds every existing user asked for (see
    :meth:`app.storage.users.UserQueries.subscriptions`): a user missing from it does
    not exist; a user without one, or whose subscription is not in force
    ``on`` that day, may open none.
    """
    if user_id not in subscriptions:
        return unknown_user(user_id)
    subscription = subscriptions[user_id]
    if subscription is None or subscription.plano not in STREAM_LIMITS:
        return NO_SUBSCRIPTION
    if not subscription.inicio <= on <= subscription.fim:
        return NO_SUBSCRIPTION
    return subscription.plano


class Session(BaseModel):
    """One session as stored: where it plays, and when it started, was last used, ended."""

    model_config = ConfigDict(frozen=True)

    dispositivo: Device
    localizacao: str
    iniciada_em: Instant
    ultima_atividade: Instant
    encerrada_em: Instant | None = None
    motivo_encerramento: EndReason | None = None

    @property
    def is_active(self) -> bool:
        """Whether it has not ended (as of the instant it was last brought to, see :meth:`as_of`)."""
        return self.encerrada_em is None

    def as_of(self, at: datetime, idle: timedelta) -> Session:
        """This session at ``at``: ended by inactivity if idle for longer than ``idle`` by then."""
        expiry = self.ultima_atividade + idle
        if not self.is_active or at <= expiry:
            return self
        return self.model_copy(
            update={"encerrada_em": expiry, "motivo_encerramento": "inatividade"}
        )

    def kept_after(self, horizon: datetime) -> bool:
        """Whether it is still worth keeping at ``horizon``: active, or ended since."""
        return self.encerrada_em is None or self.encerrada_em >= horizon

    def touched(self, at: datetime) -> Session:
        """This session used at ``at`` (an earlier ``at`` changes nothing)."""
        return self.model_copy(update={"ultima_atividade": max(self.ultima_atividade, at)})

    def ended(self, at: datetime) -> Session:
        """This session ended at ``at``, unless it had ended already."""
        if not self.is_active:
            return self
        return self.model_copy(update={"encerrada_em": at, "motivo_encerramento": "encerrada"})


class Refusal(BaseModel):
    """An opening refused: when, and the message its requester got."""

    model_config = ConfigDict(frozen=True)

    em: Instant
    mensagem: str


class ListedSession(BaseModel):
    """One session as ``GET /sessoes/usuario/{user_id}`` shows it."""

    session_id: str
    dispositivo: Device
    localizacao: str
    iniciada_em: Instant
    ultima_atividade: Instant
    encerrada_em: Instant | None
    ativa: bool
    motivo_encerramento: EndReason | None


class SessionListing(BaseModel):
    """``GET /sessoes/usuario/{user_id}``: the user's sessions, the latest opened first."""

    user_id: int
    sessoes: list[ListedSession]


#: A rule's result: the user's sessions afterwards, and the command's outcome.
Change: TypeAlias = "tuple[UserSessions, Outcome]"


class UserSessions(BaseModel):
    """The value the session table keeps under a user's key."""

    model_config = ConfigDict(frozen=True)

    sessoes: dict[str, Session] = Field(default_factory=dict)
    recusadas: dict[str, Refusal] = Field(default_factory=dict)

    @property
    def is_empty(self) -> bool:
        """Whether nothing is left to keep."""
        return not self.sessoes and not self.recusadas

    def as_of(self, at: datetime, idle: timedelta) -> UserSessions:
        """These sessions at ``at``: expiries written down, what ended a day before dropped."""
        horizon = at - KEPT_AFTER_END
        current = ((sid, session.as_of(at, idle)) for sid, session in self.sessoes.items())
        return UserSessions(
            sessoes={sid: session for sid, session in current if session.kept_after(horizon)},
            recusadas={
                sid: refusal for sid, refusal in self.recusadas.items() if refusal.em >= horizon
            },
        )

    def active_count(self) -> int:
        """How many sessions are active (as of the instant they were brought to)."""
        return sum(session.is_active for session in self.sessoes.values())

    def open(self, event: SessionOpened, plan: str | Outcome, idle: timedelta) -> Change:
        """Open ``event``'s session if ``plan`` (or the refusal standing for it) allows.

        An opening seen before gets its first outcome again, changing nothing.
        """
        session_id, at = event.session_id, event.timestamp
        if session_id in self.sessoes:
            return self, OPENED
        if (refusal := self.recusadas.get(session_id)) is not None:
            return self, Outcome("error", refusal.mensagem)
        state = self.as_of(at, idle)
        refused = plan if isinstance(plan, Outcome) else state._over_limit(plan)
        if refused is not None:
            return state._refusing(session_id, Refusal(em=at, mensagem=refused.message)), refused
        session = Session(
            dispositivo=event.dispositivo,
            localizacao=event.localizacao,
            iniciada_em=at,
            ultima_atividade=at,
        )
        return state._with(session_id, session), OPENED

    def touch(self, session_id: str, at: datetime, idle: timedelta) -> Change:
        """Record activity on the session at ``at``, if it had not ended before then."""
        state = self.as_of(at, idle)
        session = state.sessoes.get(session_id)
        if session is None:
            return state, NOT_FOUND
        if session.encerrada_em is not None and at > session.encerrada_em:
            return state, ALREADY_ENDED
        return state._with(session_id, session.touched(at)), ACTIVITY_RECORDED

    def end(self, session_id: str, at: datetime, idle: timedelta) -> Change:
        """End the session at ``at``; one that had ended keeps its first end."""
        state = self.as_of(at, idle)
        session = state.sessoes.get(session_id)
        if session is None:
            return state, NOT_FOUND
        return state._with(session_id, session.ended(at)), ENDED

    def listing(self, now: datetime, idle: timedelta, active_only: bool) -> list[ListedSession]:
        """The sessions as they stand ``now`` (only the active ones if asked), newest first."""
        views = [
            ListedSession(
                session_id=session_id,
                ativa=session.is_active,
                **session.model_dump(),
            )
            for session_id, session in self.as_of(now, idle).sessoes.items()
            if session.is_active or not active_only
        ]
        return sorted(views, key=lambda view: view.iniciada_em, reverse=True)

    def _over_limit(self, plan: str) -> Outcome | None:
        limit = STREAM_LIMITS[plan]
        return limit_reached(plan, limit) if self.active_count() >= limit else None

    def _with(self, session_id: str, session: Session) -> UserSessions:
        return self.model_copy(update={"sessoes": {**self.sessoes, session_id: session}})

    def _refusing(self, session_id: str, refusal: Refusal) -> UserSessions:
        return self.model_copy(update={"recusadas": {**self.recusadas, session_id: refusal}})


def apply(
    state: UserSessions,
    command: SessionEvent,
    subscriptions: Mapping[int, Subscription | None],
    idle: timedelta,
) -> Change:
    """``command`` applied to its user's ``state`` (``subscriptions`` for an opening)."""
    if isinstance(command, SessionOpened):
        on = command.timestamp.date()
        return state.open(command, entitlement(command.user_id, subscriptions, on), idle)
    if isinstance(command, SessionActivity):
        return state.touch(command.session_id, command.timestamp, idle)
    return state.end(command.session_id, command.timestamp, idle)
