"""Adminer (a service of ``make up``) opens on the stack's PostgreSQL, logged in over HTTP.

The test makes a table of its own with psycopg2 and looks for it in Adminer's
table list, so it does not depend on the application's schema.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import httpx
import psycopg2
import pytest

from tests.support.adminer import ADMINER_URL, STACK_DB, form_with, forms, listed_tables

pytestmark = pytest.mark.integration

PG_PORT = int(os.environ.get("POSTGRES_PORT", "5432"))
PG_USER = os.environ.get("POSTGRES_USER", "user")
PG_PASSWORD = os.environ.get("POSTGRES_PASSWORD", "password")


@pytest.fixture
def own_table() -> Iterator[str]:
    """A uniquely named table in the stack's database (the one Adminer opens on), dropped afterwards."""
    name = f"adminer_probe_{uuid.uuid4().hex[:12]}"
    dsn = {"host": "127.0.0.1", "port": PG_PORT, "user": PG_USER, "password": PG_PASSWORD}
    conn = psycopg2.connect(**dsn, dbname=STACK_DB, connect_timeout=10)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(f"CREATE TABLE {name} (id int PRIMARY KEY)")
        yield name
    finally:
        with conn, conn.cursor() as cur:
            cur.execute(f"DROP TABLE IF EXISTS {name}")
        conn.close()


@pytest.fixture
def adminer() -> Iterator[httpx.Client]:
    """A cookie-keeping client of the stack's Adminer that follows redirects."""
    with httpx.Client(base_url=ADMINER_URL, follow_redirects=True, timeout=15) as client:
        yield client


def log_in(client: httpx.Client, password: str) -> httpx.Response:
    """Fill Adminer's login form as served (only the password typed) and send it."""
    page = client.get("/")
    assert page.status_code == 200
    fields = form_with(page.text, "auth[password]")
    return client.post(str(page.url), data={**fields, "auth[password]": password})


def test_login_form_opens_on_the_stacks_postgres_server_user_and_database(
    adminer: httpx.Client,
) -> None:
    page = adminer.get("/")

    fields = form_with(page.text, "auth[password]")
    assert fields["auth[driver]"] == "pgsql"
    assert fields["auth[server]"] == f"127.0.0.1:{PG_PORT}"
    assert fields["auth[username]"] == PG_USER
    assert fields["auth[db]"] == STACK_DB
    assert fields["auth[password]"] == ""


def test_logging_in_with_the_project_password_lists_a_new_table(
    adminer: httpx.Client, own_table: str
) -> None:
    landing = log_in(adminer, PG_PASSWORD)

    assert landing.status_code == 200
    assert own_table in listed_tables(landing.text)
    logout = form_with(landing.text, "logout")
    assert logout["token"], "Adminer's forms carry a CSRF token once logged in"
    after = adminer.post(str(landing.url), data=logout)
    assert "Logout successful" in after.text
    assert any("auth[password]" in form for form in forms(after.text)), "login form again"


def test_a_wrong_password_is_refused(adminer: httpx.Client, own_table: str) -> None:
    answer = log_in(adminer, "not-the-password")

    assert answer.status_code == 403
    assert own_table not in listed_tables(answer.text)
    assert "password authentication failed" in answer.text
