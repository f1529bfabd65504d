"""The validated commands a client can send: the single source of every field rule.

The HTTP edge parses request bodies into these models (422 on failure, listing
each bad field), the events on ``user_events`` embed them, and the processing
agent validates what it consumes against them again, so a rule is written once.
Field names are the public contract's (Portuguese).
"""

from __future__ import annotations

import base64
import re
import unicodedata
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    field_validator,
    model_validator,
)
from validate_docbr import CPF as CpfChecker

from app.clock import as_utc, today, utc_now

#: Largest user id: integers JavaScript clients hold exactly.
MAX_USER_ID = 2**53 - 1
UserId = Annotated[int, Field(ge=1, le=MAX_USER_ID)]

Plan = Literal["Básico", "Padrão", "Premium"]
PaymentMethod = Literal["Cartão", "Pix", "Boleto"]
PaymentStatus = Literal["aprovado", "pendente", "recusado"]
DEFAULT_SUBSCRIPTION_DAYS = 30

_CPF_SHAPE = re.compile(r"^(\d{3}\.\d{3}\.\d{3}-\d{2}|\d{11})$")
_EMAIL_SHAPE = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")
# A pragmatic BCP 47 subset: language, optional script, optional region.
_LANGUAGE_TAG = re.compile(r"^[a-z]{2,3}(-[A-Z][a-z]{3})?(-([A-Z]{2}|\d{3}))?$")
_cpf_checker = CpfChecker()


def normalize_cpf(value: str) -> str:
    """Check a CPF's shape and check digits; return it as ``ddd.ddd.ddd-dd``."""
    value = value.strip()
    if not _CPF_SHAPE.match(value):
        raise ValueError("CPF deve ter o formato ddd.ddd.ddd-dd ou 11 dígitos")
    digits = re.sub(r"\D", "", value)
    if not _cpf_checker.validate(digits):
        raise ValueError("CPF inválido: dígitos verificadores não conferem")
    return f"{digits[:3]}.{digits[3:6]}.{digits[6:9]}-{digits[9:]}"


def normalize_email(value: str) -> str:
    """Check an e-mail address's shape; return it lower-cased."""
    value = value.strip().lower()
    if not _EMAIL_SHAPE.match(value):
        raise ValueError("e-mail inválido: esperado nome@dominio.tld")
    return value


def check_name(value: str) -> str:
    """A person's name: trimmed, with at least one letter."""
    value = " ".join(value.split())
    if not any(ch.isalpha() for ch in value):
        raise ValueError("nome deve conter letras")
    return value


def check_language_tag(value: str) -> str:
    """A language tag such as ``pt-BR`` or ``en``."""
    if not _LANGUAGE_TAG.match(value):
        raise ValueError("idioma deve ser uma tag de idioma, como pt-BR ou en-US")
    return value


Cpf = Annotated[str, Field(max_length=14), AfterValidator(normalize_cpf)]
Email = Annotated[str, Field(max_length=254), AfterValidator(normalize_email)]
PersonName = Annotated[str, Field(min_length=2, max_length=120), AfterValidator(check_name)]
LanguageTag = Annotated[str, Field(max_length=35), AfterValidator(check_language_tag)]
UtcDateTime = Annotated[datetime, AfterValidator(as_utc)]
CalendarDate = Annotated[date, Field(ge=date(2000, 1, 1), le=date(2100, 12, 31))]
# Money travels as a JSON number with two decimals; it is exact as a Decimal inside.
Money = Annotated[
    Decimal,
    Field(gt=0, max_digits=10, decimal_places=2),
    PlainSerializer(float, return_type=float, when_used="json"),
]


class Command(BaseModel):
    """Base of client commands: unknown fields are errors, not silently dropped."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class NewUser(Command):
    """``POST /usuarios``: a person signing up."""

    nome: PersonName
    email: Email
    cpf: Cpf


class SubscriptionChange(Command):
    """``POST /usuarios/{id}/assinatura``: the user's current plan and its period."""

    plano: Plan
    inicio: CalendarDate = Field(default_factory=today)
    fim: CalendarDate | None = None

    @model_validator(mode="after")
    def _default_and_check_end(self) -> SubscriptionChange:
        if self.fim is None:
            end = self.inicio + timedelta(days=DEFAULT_SUBSCRIPTION_DAYS)
            object.__setattr__(self, "fim", end)
        elif self.fim < self.inicio:
            raise ValueError("fim deve ser igual ou posterior a inicio")
        return self


class Payment(Command):
    """``POST /usuarios/{id}/pagamento``: money received from the user, in BRL."""

    valor: Money
    forma_pagamento: PaymentMethod
    status: PaymentStatus = "aprovado"
    data_pagamento: UtcDateTime = Field(default_factory=utc_now)


class Preferences(Command):
    """``POST /usuarios/{id}/config``: the user's language and notification choice."""

    idioma: LanguageTag = "pt-BR"
    notificacoes: bool = True


# ---------- the catalogue (``conteudos``) ----------

TitleKind = Literal["filme", "série", "documentário"]
AgeRating = Literal["Livre", "10", "12", "14", "16", "18"]
#: ``conteudo_id`` is a PostgreSQL INTEGER.
MAX_TITLE_ID = 2**31 - 1
MAX_PAGE_SIZE = 100


def _without_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


# Typed by hand in URLs and forms: "Filme", "SERIE" and "documentario" are meant too.
_KIND_SPELLINGS = {
    spelling: kind for kind in get_args(TitleKind) for spelling in (kind, _without_accents(kind))
}


def canonical_kind(value: object) -> object:
    """A ``tipo`` in any case, with or without accents, as the contract spells it."""
    if isinstance(value, str):
        return _KIND_SPELLINGS.get(value.strip().lower(), value)
    return value


def check_cursor(value: str) -> str:
    """A page cursor: the decimal ``conteudo_id`` the previous page ended with."""
    if int(value) > MAX_TITLE_ID:
        raise ValueError("cursor fora do intervalo; use o proximo_cursor da página anterior")
    return value


def check_printable(value: str) -> str:
    """Text without control characters or lone surrogates (PostgreSQL refuses both)."""
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in value):
        raise ValueError("não pode conter caracteres de controle ou inválidos")
    return value


#: One line of free text (a search, a place): 1-100 printable characters, trimmed.
ShortText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
    AfterValidator(check_printable),
]
GenreName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=60),
    AfterValidator(check_printable),
]
Cursor = Annotated[str, Field(pattern=r"^[0-9]{1,10}$"), AfterValidator(check_cursor)]


class Query(Command):
    """Base of query-string models: a blank parameter is an absent one."""

    @model_validator(mode="before")
    @classmethod
    def _blank_is_absent(cls, data: object) -> object:
        # An HTML form or a client building URLs sends "q=" for "no filter".
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if not (isinstance(v, str) and not v.strip())}
        return data


class CatalogueQuery(Query):
    """``GET /conteudos``: filters and the position of one page; blank parameters are absent.

    ``tipo`` is matched whatever its case or accents; ``categoria`` exactly;
    ``q`` is a case-insensitive substring of ``titulo``. ``cursor`` is the
    ``proximo_cursor`` of the previous page.
    """

    tipo: Annotated[TitleKind | None, BeforeValidator(canonical_kind)] = None
    categoria: GenreName | None = None
    q: ShortText | None = None
    limit: int = Field(20, ge=1, le=MAX_PAGE_SIZE)
    cursor: Cursor | None = None

    @property
    def after_id(self) -> int:
        """The ``conteudo_id`` the page starts after (0: from the first title)."""
        return int(self.cursor) if self.cursor is not None else 0


# ---------- the viewing side ----------

#: A heartbeat at or past this position (percent) means the title was watched to the end.
COMPLETION_POSITION = 90
#: Longest one viewing can run, in seconds watched (a week of a series binge).
MAX_WATCHED_S = 7 * 24 * 3600
TitleId = Annotated[int, Field(ge=1, le=MAX_TITLE_ID)]
Position = Annotated[Decimal, Field(ge=0, le=100, max_digits=5, decimal_places=2)]


def position_as_number(value: Decimal) -> float:
    """A position in a JSON answer: a number, as clients send it."""
    return float(value)


class Viewing(Command):
    """``POST /historico-visualizacao``: one heartbeat of a player (body or query).

    ``posicao`` is how far in (0-100 %), ``tempo_assistido`` the seconds watched
    so far in this viewing; ``titulo`` and ``tipo`` may be sent, as the
    original's clients did, but the catalogue is what the state refers to.
    """

    user_id: UserId
    conteudo_id: TitleId
    titulo: ShortText | None = None
    tipo: Annotated[TitleKind | None, BeforeValidator(canonical_kind)] = None
    tempo_assistido: int = Field(ge=0, le=MAX_WATCHED_S)
    posicao: Annotated[Position, PlainSerializer(position_as_number, when_used="json")]

    @property
    def concluido(self) -> bool:
        """Whether this heartbeat says the title was watched to the end."""
        return self.posicao >= COMPLETION_POSITION


def history_cursor(moment: datetime, conteudo_id: int) -> str:
    """The opaque cursor of a history page ending at the viewing (``moment``, ``conteudo_id``)."""
    text = f"{as_utc(moment).isoformat()}|{conteudo_id}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def read_history_cursor(value: str) -> tuple[datetime, int]:
    """The (``ultimo_acesso``, ``conteudo_id``) a history cursor stands for."""
    try:
        text = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
        moment, title = text.split("|")
        return as_utc(datetime.fromisoformat(moment)), int(title)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError("cursor inválido; use o proximo_cursor da página anterior") from exc


class HistoryQuery(Query):
    """``GET /historico-visualizacao/{user_id}``: filters and one page, newest first.

    ``cursor`` is the ``proximo_cursor`` of the previous page.
    """

    tipo: Annotated[TitleKind | None, BeforeValidator(canonical_kind)] = None
    concluido: bool | None = None
    limit: int = Field(10, ge=1, le=MAX_PAGE_SIZE)
    cursor: Annotated[str, Field(max_length=100)] | None = None

    @field_validator("cursor")
    @classmethod
    def _readable_cursor(cls, value: str | None) -> str | None:
        if value is not None:
            read_history_cursor(value)
        return value

    @property
    def after(self) -> tuple[datetime, int] | None:
        """The viewing the page starts after (None: from the newest)."""
        return None if self.cursor is None else read_history_cursor(self.cursor)


class TrendingQuery(Query):
    """``GET /em-alta``: which window, which breakdown, how many titles."""

    janela: str = Field("1h", max_length=10, description="Uma janela de TRENDING_WINDOWS")
    tipo: Annotated[TitleKind | None, BeforeValidator(canonical_kind)] = None
    categoria: GenreName | None = None
    limit: int = Field(10, ge=1, le=MAX_PAGE_SIZE)


class RecommendationsRequest(Command):
    """``POST /recomendacoes/gerar``: whose recommendations to recompute (body or query)."""

    user_id: UserId


# ---------- operator views: the log explorer and the Kafka view ----------

#: Elasticsearch answers no page reaching past this many hits (``max_result_window``).
MAX_LOG_WINDOW = 10_000
_UUID_TEXT = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"

Keyword = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=256),
    AfterValidator(check_printable),
]


class LogQuery(Query):
    """``GET /logs``: the log explorer's filters and page; blank parameters are absent.

    Every filter is an exact match (``correlation_id``, ``user_id``,
    ``event_type``, ``topic``, ``requested_by``: the API key's name), ``desde``
    and ``ate`` bound the event's time (ISO 8601; without a zone, UTC).
    """

    correlation_id: Annotated[str, Field(pattern=_UUID_TEXT)] | None = None
    user_id: UserId | None = None
    event_type: Keyword | None = None
    topic: Keyword | None = None
    requested_by: Keyword | None = None
    desde: UtcDateTime | None = None
    ate: UtcDateTime | None = None
    pagina: int = Field(1, ge=1)
    limit: int = Field(20, ge=1, le=MAX_PAGE_SIZE)

    @model_validator(mode="after")
    def _check_range_and_window(self) -> LogQuery:
        if self.desde is not None and self.ate is not None and self.ate < self.desde:
            raise ValueError("ate deve ser igual ou posterior a desde")
        if self.pagina * self.limit > MAX_LOG_WINDOW:
            raise ValueError(f"só os {MAX_LOG_WINDOW} eventos mais recentes são paginados")
        return self

    @property
    def offset(self) -> int:
        """How many hits come before this page."""
        return (self.pagina - 1) * self.limit


class TopicMessagesQuery(Query):
    """``GET /api/kafka/topics/{topic}/messages``: how many of the newest messages."""

    limit: int = Field(20, ge=1, le=MAX_PAGE_SIZE)


# ---------- viewing sessions (``/sessoes``) ----------

Device = Literal["Android", "iOS", "Web", "Smart TV", "Console"]
#: ``{user_id}-{uuid}``: the user id first, so that every command on a session
#: can be keyed and routed by its user; the UUID in canonical (lower-case) form.
SESSION_ID_PATTERN = (
    r"^([1-9][0-9]{0,15})-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
)
_SESSION_ID = re.compile(SESSION_ID_PATTERN)
MAX_SESSION_ID_LENGTH = len(str(MAX_USER_ID)) + 1 + 36
#: Filled in with demo values by the API when a request leaves them out.
DEMO_SESSION_FIELDS = ("dispositivo", "localizacao")


def session_user_id(session_id: str) -> int:
    """The user a session id belongs to; ``ValueError`` if it is not a session id."""
    match = _SESSION_ID.fullmatch(session_id)
    if match is None or int(match.group(1)) > MAX_USER_ID:
        raise ValueError("session_id deve ter a forma {user_id}-{uuid}")
    return int(match.group(1))


def check_session_id(value: str) -> str:
    """A well-formed session id (see :func:`session_user_id`)."""
    session_user_id(value)
    return value


SessionId = Annotated[
    str,
    Field(max_length=MAX_SESSION_ID_LENGTH, pattern=SESSION_ID_PATTERN),
    AfterValidator(check_session_id),
]


def _demo_fields_optional(schema: dict[str, Any]) -> None:
    # The API fills them in, so a client may leave them out (the spec says so).
    schema["required"] = [name for name in schema["required"] if name not in DEMO_SESSION_FIELDS]


class NewSession(Command):
    """``POST /sessoes``: a viewing session to open for ``user_id`` on ``dispositivo``.

    ``dispositivo`` and ``localizacao`` get demo values when the request leaves them out.
    """

    model_config = ConfigDict(json_schema_extra=_demo_fields_optional)

    user_id: UserId
    dispositivo: Device
    localizacao: ShortText


class SessionQuery(Command):
    """``GET /sessoes/usuario/{user_id}``: only the active sessions (default), or all kept."""

    ativas_apenas: bool = True
