"""Today's readers apply every version of every event ever written (tests/fixtures/events)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from jsonschema import Draft202012Validator

from agents.trending_agent import _activity
from app.accounts.commands import decode_user_event
from app.event_schemas import DOCS_DIR, TOPICS
from app.guard.dead_letters import DeadLetter
from app.kafka.trending_board import TrendingBoard
from app.requests.envelope import SCHEMA_VERSION
from app.requests.outcomes import Outcome, StatusRecord
from app.settings import get_settings
from app.viewing.session_commands import decode_session_event
from app.viewing.viewing_events import Refresh, decode_recommendation_request, decode_viewing

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "events"
USER = 4242


def fixture_files() -> list[Path]:
    return sorted(FIXTURES.glob("v*/*/*.json"))


def version_of(path: Path) -> int:
    return int(path.parent.parent.name.removeprefix("v"))


def read_trending_top(raw: bytes) -> list[dict[str, Any]]:
    value = orjson.loads(raw)
    board = TrendingBoard(get_settings().kafka_bootstrap_servers, "trending_tops")
    board.keep(f"{value['janela']}|{value['particao']}", value)
    return board.top(value["janela"], 10)


#: Each topic's reader, as today's agents (or the board) call it; what it gives is checked below.
READERS: dict[str, Callable[[bytes], Any]] = {
    "user_events": decode_user_event,
    "viewing_events": decode_viewing,
    "session_events": decode_session_event,
    "recommendation_requests": decode_recommendation_request,
    "response_events": lambda raw: StatusRecord.from_response(orjson.loads(raw)),
    "dead_letters": DeadLetter.model_validate_json,
    "title_activity": _activity,
    "trending_tops": read_trending_top,
}


def test_every_event_type_has_a_fixture_of_every_version() -> None:
    present = {(version_of(p), p.parent.name, p.stem) for p in fixture_files()}
    for version in range(1, SCHEMA_VERSION + 1):
        for topic in TOPICS:
            for message in topic.messages:
                assert (version, topic.name, message.name) in present, (version, message.name)


@pytest.mark.parametrize("path", fixture_files(), ids=lambda p: f"{p.parent.parent.name}-{p.stem}")
def test_an_event_of_any_version_fits_its_published_schema(path: Path) -> None:
    fixture = json.loads(path.read_text())
    schema_file = DOCS_DIR / f"v{version_of(path)}" / fixture["topic"] / f"{path.stem}.json"
    Draft202012Validator(json.loads(schema_file.read_text())).validate(fixture["value"])


@pytest.mark.parametrize("path", fixture_files(), ids=lambda p: f"{p.parent.parent.name}-{p.stem}")
def test_todays_reader_applies_an_event_of_any_version(path: Path) -> None:
    fixture = json.loads(path.read_text())
    read = READERS[fixture["topic"]](orjson.dumps(fixture["value"]))
    assert read is not None and read != []
    if hasattr(read, "schema_version"):
        assert read.schema_version == version_of(path)
    name = path.stem
    if fixture["topic"] in {"user_events", "viewing_events", "session_events"} or name == (
        "gerar_recomendacoes"
    ):
        assert (read.event_type, read.user_id) == (name, USER)
    elif name == "refresh":
        assert isinstance(read, Refresh) and read.user_id == USER
    elif name == "response":
        assert (read.status, read.user_id, read.replays) == ("success", USER, 0)
        assert Outcome.model_validate(fixture["value"]).schema_version == version_of(path)
    elif name == "dead_letter":
        assert (read.topic, read.offset, read.replays) == ("user_events", 17, 0)
        assert read.payload_is_whole
    elif name == "title_activity":
        assert (read.info.conteudo_id, read.user_id) == (1042, USER)
    elif name == "trending_top":
        assert [(t["conteudo_id"], t["espectadores"]) for t in read] == [(1042, 3), (1007, 1)]
