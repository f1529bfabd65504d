"""demo.people: realistic people and commands for POSTs sent without a body."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest
from faker.generator import random as faker_random
from validate_docbr import CPF

from demo.people import demo_user


@pytest.fixture(autouse=True)
def _global_random_kept() -> Iterator[None]:
    """The global generators as they were: later tests in this process draw as before."""
    states = random.getstate(), faker_random.getstate()
    yield
    random.setstate(states[0])
    faker_random.setstate(states[1])


def _with_global_seed(seed: int) -> tuple[str, str]:
    random.seed(seed)  # as pytest-randomly seeds every xdist worker alike
    faker_random.seed(seed)
    person = demo_user()
    return person.cpf, person.email


def test_processes_seeded_alike_still_draw_different_people() -> None:
    first_cpf, first_email = _with_global_seed(1234)
    second_cpf, second_email = _with_global_seed(1234)
    assert first_cpf != second_cpf
    assert first_email != second_email


def test_a_demo_user_has_a_valid_cpf() -> None:
    assert CPF().validate(demo_user().cpf)
