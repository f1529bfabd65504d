"""The words of an erasure's final status: what each store removed (``docs/privacy.md``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def erasure_message(result: Mapping[str, Any], documents: int, titles: int = 0) -> str:
    """The status message of an applied erasure, store by store.

    ``result`` is ``erase_user``'s answer (``removed``: rows per table; empty
    when the erasure was applied before and this is its replay); ``documents``
    is how many event-log documents were deleted now; ``titles``, on how many
    titles the trending table was asked to forget the viewer.
    """
    removed = result.get("removed") or {}
    if result.get("replayed"):
        postgres = "PostgreSQL: já apagado por esta mesma requisição"
    else:
        postgres = (
            "PostgreSQL: perfil apagado ({usuarios}), assinatura ({assinaturas}), "
            "preferências ({preferencias}), histórico de visualização ({visualizacoes}) "
            "apagados; {pagamentos_desidentificados} pagamento(s) mantidos desidentificados"
        ).format_map(_Counts(removed))
    key = "chave do titular destruída" if removed.get("chave") else "chave do titular inexistente"
    return (
        f"Dados pessoais do usuário apagados. Chave: {key} (cópias cifradas em Kafka ilegíveis). "
        f"{postgres}. Log de eventos (Elasticsearch): {documents} documento(s) apagados. "
        "Tabelas (RocksDB e changelogs): sessões e recomendações apagadas (tombstones); "
        f"espectador esquecido no trending de {titles} título(s)."
    )


class _Counts(dict[str, Any]):
    """Row counts; a table ``erase_user`` did not report reads as 0."""

    def __missing__(self, key: str) -> int:
        return 0
