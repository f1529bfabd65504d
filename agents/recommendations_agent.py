"""Agent: ``recommendation_requests`` -> each user's recommendations, kept current.

A user's list is recomputed when they start or finish a title (the viewing
agent asks) or when a client asks (``gerar_recomendacoes``, answered with an
outcome), never by a batch job. Each batch reads what the lists are made of,
for all its users at once: their viewing states and the co-viewing
neighbours of their titles from PostgreSQL, trending in the longest window
from this worker's board, then ranks with :func:`app.viewing.recommending.recommend`
and stores each list in the recommendations table. A user who does not exist
(an erased one: the accounts agent asks after an erasure) has their list
deleted, a tombstone in the table's changelog (``docs/privacy.md``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from faust.types import EventT

from app.application import platform
from app.clock import iso_now
from app.guard import (
    Message,
    acting_on,
    decode_batch,
    guarded_agent,
    outcome_message,
    publish_all,
    send_dead_letters,
)
from app.kafka.topics import user_key
from app.viewing.recommending import (
    NEIGHBOURS_KEPT,
    Ranked,
    TrendingSnapshot,
    ViewedTitle,
    recommend,
    seed_titles,
)
from app.viewing.titles import TitleInfo
from app.viewing.viewing_events import RecommendationsRequested, decode_recommendation_request
from tables.recommendations_table import recommendations

services = platform()

STAGE = "recommendations"
#: Trending for taste is read in the longest window: a day says more than an hour.
TRENDING_WINDOW = max(services.settings.trending_windows, key=lambda window: window.size_s).name
board = services.trending_board()


@dataclass(frozen=True, slots=True)
class Inputs:
    """What the batch's lists are made of."""

    histories: dict[int, list[ViewedTitle]]
    neighbours: dict[int, list[Ranked]]
    trending: TrendingSnapshot
    catalogue: dict[int, TitleInfo]
    viewers: dict[int, int]


async def recommend_titles(batch: Sequence[EventT]) -> None:
    """Consumes recommendation requests; produces the users' lists and the clients' outcomes."""
    decoded = decode_batch(batch, decode_recommendation_request, STAGE)
    latest = {request.user_id: event for event, request in decoded.valid}
    existing = await services.database.existing_users(sorted(latest))
    inputs = await _inputs(sorted(existing))
    made_at = iso_now()
    for user_id in existing:
        with acting_on(latest[user_id]):  # the list lives in the user's partition
            recommendations[user_key(user_id)] = _list_of(user_id, inputs, made_at)
    for user_id in latest.keys() - existing:
        with acting_on(latest[user_id]):
            _forget(user_id)
    outcomes = [
        _outcome(request, request.user_id in existing)
        for _, request in decoded.valid
        if isinstance(request, RecommendationsRequested)
    ]
    await publish_all(services.topics.response_events, decoded.responses + outcomes)
    await send_dead_letters(services.topics.dead_letters, decoded.letters)


guarded_agent(
    services.topics.recommendation_requests, recommend_titles, stage=STAGE, writes=recommendations
)


async def _inputs(users: list[int]) -> Inputs:
    histories: dict[int, list[ViewedTitle]] = defaultdict(list)
    for user_id, *state in await services.database.tastes(users):
        histories[user_id].append(ViewedTitle(*state))
    # Only the seeds' neighbours count, and each seed's strongest: the work per list stays
    # bounded however long a history grows.
    seeds = sorted({title for history in histories.values() for title in seed_titles(history)})
    neighbours: dict[int, list[Ranked]] = defaultdict(list)
    for title, neighbour, together in await services.database.co_viewing(seeds, NEIGHBOURS_KEPT):
        neighbours[title].append((neighbour, together))
    trending, trending_titles = board.snapshot(TRENDING_WINDOW, services.settings.trending_top)
    candidates = {n for ranked in neighbours.values() for n, _ in ranked} | set(trending_titles)
    rows = await services.database.title_infos(sorted(candidates | set(seeds)))
    catalogue = {row[0]: TitleInfo(*row[:4]) for row in rows}
    viewers = {row[0]: row[4] for row in rows}
    return Inputs(histories, neighbours, trending, catalogue, viewers)


def _forget(user_id: int) -> None:
    """Delete the list of a user who no longer exists (compaction then drops it from Kafka)."""
    key = user_key(user_id)
    if key in recommendations:
        del recommendations[key]


def _list_of(user_id: int, inputs: Inputs, made_at: str) -> dict[str, object]:
    ranked = recommend(
        inputs.histories.get(user_id, []),
        inputs.neighbours,
        inputs.trending,
        inputs.catalogue,
        viewers=inputs.viewers,
    )
    return {"itens": [asdict(item) for item in ranked], "data_geracao": made_at}


def _outcome(request: RecommendationsRequested, exists: bool) -> Message:
    if exists:
        return outcome_message(request, "success", "Recomendações geradas com sucesso")
    return outcome_message(request, "error", f"Usuário {request.user_id} não encontrado")
