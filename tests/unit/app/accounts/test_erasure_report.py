"""app.accounts.erasure_report: an erasure's final status names what each store removed."""

from __future__ import annotations

from app.accounts.erasure_report import erasure_message

REMOVED = {
    "chave": 1,
    "usuarios": 1,
    "assinaturas": 1,
    "preferencias": 0,
    "visualizacoes": 3,
    "pagamentos_desidentificados": 2,
}


def test_an_applied_erasure_reports_every_store() -> None:
    message = erasure_message({"outcome": "applied", "replayed": False, "removed": REMOVED}, 5, 3)
    assert "chave do titular destruída" in message
    assert "perfil apagado (1)" in message
    assert "assinatura (1)" in message
    assert "preferências (0)" in message
    assert "histórico de visualização (3)" in message
    assert "2 pagamento(s) mantidos desidentificados" in message
    assert "Elasticsearch): 5 documento(s) apagados" in message
    assert "sessões e recomendações apagadas (tombstones)" in message
    assert "esquecido no trending de 3 título(s)" in message


def test_a_replayed_erasure_says_postgresql_was_already_erased() -> None:
    message = erasure_message({"outcome": "applied", "replayed": True, "removed": {}}, 0)
    assert "já apagado por esta mesma requisição" in message
    assert "chave do titular inexistente" in message
    assert "0 documento(s) apagados" in message


def test_a_store_erase_user_did_not_report_reads_as_zero() -> None:
    message = erasure_message({"outcome": "applied", "removed": {"chave": 1}}, 0)
    assert "perfil apagado (0)" in message
    assert "0 pagamento(s) mantidos desidentificados" in message
