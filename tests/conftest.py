"""Fixtures shared by every test directory: the store, on SQLite and on PostgreSQL.

PostgreSQL comes from WEDWATCH_TEST_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/test).
A test that needs it errors out loudly when the server does not answer; it is skipped only when
WEDWATCH_TEST_POSTGRES=skip is set on purpose. Each test gets a fresh schema, dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql

from wedwatch.config.loader import redact_url
from wedwatch.store import Store, open_store_ctx

POSTGRES_URL_ENV = "WEDWATCH_TEST_POSTGRES_URL"
POSTGRES_SWITCH_ENV = "WEDWATCH_TEST_POSTGRES"
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


def with_search_path(url: str, schema: str) -> str:
    """`url` with libpq options that make `schema` the only schema on its search path."""
    parts = urlsplit(url)
    query = [*parse_qsl(parts.query), ("options", f"-csearch_path={schema}")]
    return urlunsplit(parts._replace(query=urlencode(query)))


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The test server's URL, checked once per session; fails (never skips) when it is down."""
    if os.environ.get(POSTGRES_SWITCH_ENV) == "skip":
        pytest.skip(f"{POSTGRES_SWITCH_ENV}=skip: PostgreSQL tests not run")
    url = os.environ.get(POSTGRES_URL_ENV, DEFAULT_POSTGRES_URL)
    try:
        with psycopg.connect(url, connect_timeout=5, autocommit=True) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        pytest.fail(
            f"PostgreSQL at {redact_url(url)} does not answer: {exc}. Start it, point "
            f"{POSTGRES_URL_ENV} at a server, or set {POSTGRES_SWITCH_ENV}=skip to run without it.",
            pytrace=False,
        )
    return url


@pytest.fixture
def postgres_schema_url(postgres_url: str) -> Iterator[str]:
    """A URL whose connections live in a new, empty schema of their own; dropped after the test."""
    schema = f"wedwatch_test_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    try:
        yield with_search_path(postgres_url, schema)
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            # A store a test forgot to close must not hang the whole run.
            conn.execute("SET lock_timeout = '10s'")
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database on each back end in turn: a SQLite file, then a PostgreSQL schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'wedwatch.db'}"
    url: str = request.getfixturevalue("postgres_schema_url")
    return url


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[Store]:
    """An open, migrated store on each back end in turn."""
    async with open_store_ctx(store_url) as opened:
        yield opened
