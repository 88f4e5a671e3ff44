"""Fixtures shared by every test directory: the store, on SQLite and on PostgreSQL; promtool and amtool.

PostgreSQL comes from WEDWATCH_TEST_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/test).
A test that needs it errors out loudly when the server does not answer; it is skipped only when
WEDWATCH_TEST_POSTGRES=skip is set on purpose. Each test gets a fresh schema, dropped afterwards.

promtool and amtool come from Debian's `prometheus` and `prometheus-alertmanager` packages
(scripts/run-tests installs them); a test that needs one fails when it is missing, so that a CI
image without them cannot pass silently, unless WEDWATCH_TEST_SKIP_PROMTOOL=1 skips it on purpose.

Modules of this directory (ports, scrape, checkout, grafana_queries, tcp_proxy) are helpers that
tests in every directory import by name: pytest puts tests/ on sys.path for this conftest.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql
from tcp_proxy import TcpProxy

from wedwatch.store import Store, open_store_ctx
from wedwatch.store.sqlite import sqlite_path
from wedwatch.urls import redact_url

POSTGRES_URL_ENV = "WEDWATCH_TEST_POSTGRES_URL"
POSTGRES_SWITCH_ENV = "WEDWATCH_TEST_POSTGRES"
SKIP_PROMTOOL_ENV = "WEDWATCH_TEST_SKIP_PROMTOOL"
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


@contextmanager
def _fresh_schema(postgres_url: str) -> Iterator[str]:
    """A URL whose connections live in a new, empty schema of their own, dropped on leaving."""
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


@pytest.fixture
def postgres_schema_url(postgres_url: str) -> Iterator[str]:
    """A URL whose connections live in a new, empty schema of their own; dropped after the test."""
    with _fresh_schema(postgres_url) as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database on each back end in turn: a SQLite file, then a PostgreSQL schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'wedwatch.db'}"
    url: str = request.getfixturevalue("postgres_schema_url")
    return url


@pytest.fixture
def second_url(store_url: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Another empty database on the same back end as `store_url`: a reference to compare with."""
    if store_url.startswith("sqlite:"):
        yield f"sqlite:///{tmp_path / 'second.db'}"
        return
    with _fresh_schema(request.getfixturevalue("postgres_url")) as url:
        yield url


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[Store]:
    """An open, migrated store on each back end in turn."""
    async with open_store_ctx(store_url) as opened:
        yield opened


CountRows = Callable[[str], Awaitable[int]]

# sqlite3 cannot bind identifiers, and SQL is never assembled from strings: one literal each.
_SQLITE_COUNT = {
    "weddings": "SELECT count(*) FROM weddings",
    "wedding_performance_metrics": "SELECT count(*) FROM wedding_performance_metrics",
    "critical_path_metrics": "SELECT count(*) FROM critical_path_metrics",
    "notifications": "SELECT count(*) FROM notifications",
    "performance_alerts": "SELECT count(*) FROM performance_alerts",
    "action_outbox": "SELECT count(*) FROM action_outbox",
    "degradation_responses": "SELECT count(*) FROM degradation_responses",
    "optimization_results": "SELECT count(*) FROM optimization_results",
    "scaling_prediction_sets": "SELECT count(*) FROM scaling_prediction_sets",
    "schema_migrations": "SELECT count(*) FROM schema_migrations",
}


@pytest.fixture
def count_rows(store_url: str) -> CountRows:
    """An async function counting a table's rows in the test's database, bypassing the store."""

    async def count(table: str) -> int:
        if store_url.startswith("sqlite:"):
            conn = sqlite3.connect(sqlite_path(store_url))
            try:
                (n,) = conn.execute(_SQLITE_COUNT[table]).fetchone()
            finally:
                conn.close()
            return int(n)
        async with await psycopg.AsyncConnection.connect(store_url) as aconn:
            cur = await aconn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))
            row = await cur.fetchone()
            assert row is not None
            return int(row[0])

    return count


@pytest.fixture
async def proxy(postgres_schema_url: str) -> AsyncIterator[TcpProxy]:
    """A cuttable TCP path to the test's PostgreSQL; request it before the services that use it."""
    parts = urlsplit(postgres_schema_url)
    cut = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    await cut.start()
    yield cut
    await cut.stop()


def _binary(name: str, package: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    if os.environ.get(SKIP_PROMTOOL_ENV) == "1":
        pytest.skip(f"{name} not installed and {SKIP_PROMTOOL_ENV}=1")
    pytest.fail(
        f"{name} is not on PATH: apt-get install -y {package} (scripts/run-tests does),"
        f" or set {SKIP_PROMTOOL_ENV}=1 to skip this test"
    )


@pytest.fixture(scope="session")
def promtool() -> str:
    """Path of promtool; fails the test when it is missing (unless skipping on purpose)."""
    return _binary("promtool", "prometheus")


@pytest.fixture(scope="session")
def amtool() -> str:
    """Path of amtool; fails the test when it is missing (unless skipping on purpose)."""
    return _binary("amtool", "prometheus-alertmanager")
