"""bench.api_floor: a server answering the load generator's traffic as the API does."""

from __future__ import annotations

import itertools

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bench.api_floor import answer_for, make_server


def test_a_sign_up_is_answered_with_the_next_user_id() -> None:
    user_ids = itertools.count(7)
    first = answer_for("/usuarios", user_ids)
    second = answer_for("/usuarios/", user_ids)
    assert (first["usuario"], second["usuario"]) == ({"user_id": 7}, {"user_id": 8})
    assert first["correlation_id"] != second["correlation_id"]


def test_a_command_is_answered_with_a_correlation_id_only() -> None:
    answer = answer_for("/usuarios/7/pagamentos", itertools.count(1))
    assert set(answer) == {"correlation_id", "status"}


async def test_the_bare_floor_accepts_any_json_post_with_202() -> None:
    async with TestClient(TestServer(make_server("bare", "unused"))) as client:
        signed_up = await client.post("/usuarios", data=b'{"nome": "Ana"}')
        paid = await client.post("/usuarios/1/pagamentos", data=b'{"valor": 10}')
        assert (signed_up.status, paid.status) == (202, 202)
        assert (await signed_up.json())["usuario"] == {"user_id": 1}
        assert (await client.get("/health")).status == 200


def test_an_unknown_floor_is_refused() -> None:
    with pytest.raises(ValueError, match="bare, kafka"):
        make_server("faster", "unused")
