"""Settings: the worker role decides the consumer group and the stages loaded."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from app.application import ROLE_MODULES
from app.settings import Settings


def _settings(**env: str) -> Settings:
    return Settings(**env)  # type: ignore[arg-type]  # aliases, as in the environment


def test_the_all_in_one_worker_uses_app_id_as_its_group() -> None:
    assert _settings(APP_ID="platform").group_id == "platform"


@pytest.mark.parametrize("role", ["api", "processing", "logging"])
def test_each_role_is_a_consumer_group_of_its_own(role: str) -> None:
    assert _settings(APP_ID="platform", WORKER_ROLE=role).group_id == f"platform-{role}"


def test_an_unknown_role_is_refused() -> None:
    with pytest.raises(ValidationError, match="WORKER_ROLE"):
        _settings(WORKER_ROLE="everything")


def test_every_role_loads_health_and_metrics_and_only_its_own_agents() -> None:
    for role, modules in ROLE_MODULES.items():
        assert {"web", "web.health"} & set(modules), role
        assert ("web" in modules) == (role in {"all", "api"}), role
    assert ROLE_MODULES["processing"][:2] == ["agents.accounts_agent", "agents.viewing_agent"]
    assert ROLE_MODULES["logging"][0] == "agents.event_log_agent"
    assert {"tables", "agents.status_agent", "agents.trending_agent"} <= set(ROLE_MODULES["api"])
    # Reads of the session and recommendation tables are routed to their owner: an api worker.
    assert {"agents.sessions_agent", "agents.recommendations_agent"} <= set(ROLE_MODULES["api"])


def test_topics_keep_one_copy_unless_told_otherwise() -> None:
    settings = _settings()
    assert settings.topic_replication_factor == 1
    assert settings.topic_config == {"min.insync.replicas": "1"}


def test_three_copies_need_two_in_sync_by_default() -> None:
    settings = _settings(TOPIC_REPLICATION_FACTOR="3")
    assert settings.topic_config == {"min.insync.replicas": "2"}


def test_min_insync_replicas_can_be_set_explicitly() -> None:
    settings = _settings(TOPIC_REPLICATION_FACTOR="3", TOPIC_MIN_INSYNC_REPLICAS="3")
    assert settings.min_insync_replicas == 3


def test_more_replicas_in_sync_than_copies_is_refused() -> None:
    with pytest.raises(ValidationError, match="TOPIC_MIN_INSYNC_REPLICAS=3 exceeds"):
        _settings(TOPIC_REPLICATION_FACTOR="2", TOPIC_MIN_INSYNC_REPLICAS="3")


def test_the_project_root_env_file_is_read_by_default() -> None:
    root = Path(__file__).resolve().parents[3]
    assert Settings.model_config.get("env_file") == root / ".env"


def test_a_dotenv_file_sets_what_the_environment_does_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TOPIC_PARTITIONS", raising=False)
    monkeypatch.delenv("LOG_FORMAT", raising=False)
    dotenv = tmp_path / ".env"
    dotenv.write_text("TOPIC_PARTITIONS=3\nLOG_FORMAT=json\nCOMPOSE_PROJECT_NAME=ignored\n")
    settings = Settings(_env_file=dotenv)  # type: ignore[call-arg]
    assert (settings.topic_partitions, settings.log_format) == (3, "json")


def test_a_variable_in_the_environment_wins_over_the_dotenv_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("TOPIC_PARTITIONS=3\n")
    monkeypatch.setenv("TOPIC_PARTITIONS", "12")
    assert Settings(_env_file=dotenv).topic_partitions == 12  # type: ignore[call-arg]


def test_a_metrics_token_file_that_does_not_exist_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="METRICS_TOKEN_FILE"):
        _settings(METRICS_TOKEN_FILE=str(tmp_path / "missing"))


def test_each_store_is_pruned_by_the_role_that_writes_it() -> None:
    assert "agents.ledger_retention" in ROLE_MODULES["processing"]
    assert "agents.log_retention" in ROLE_MODULES["logging"]
    assert "agents" in ROLE_MODULES["all"]  # the whole package: both timers with it
    assert not {"agents", "agents.ledger_retention", "agents.log_retention"} & set(
        ROLE_MODULES["api"]
    )


def test_the_ledger_outlives_what_kafka_can_deliver_again() -> None:
    defaults = _settings()
    assert defaults.event_lifetime_s == (168 + 24) * 3600
    assert defaults.ledger_retention_s == (168 + 24 + 24) * 3600  # 9 days


def test_write_buffers_larger_than_the_cache_they_are_charged_to_are_refused() -> None:
    with pytest.raises(ValidationError, match="ROCKSDB_WRITE_BUFFER_MB"):
        _settings(ROCKSDB_BLOCK_CACHE_MB="16", ROCKSDB_WRITE_BUFFER_MB="32")


def test_an_index_period_must_divide_a_day() -> None:
    with pytest.raises(ValidationError, match="LOG_INDEX_HOURS"):
        _settings(LOG_INDEX_HOURS="5")
