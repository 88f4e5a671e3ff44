"""SQLite specifics: URLs, the stored timestamp form, pragmas, and failures mapped to 503."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from wedwatch.errors import ConfigError, StoreError, StoreUnavailable
from wedwatch.store import SqliteStore, open_store, open_store_ctx
from wedwatch.store.sqlite import format_timestamp, parse_timestamp, sqlite_path


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("sqlite:///wedwatch.db", "wedwatch.db"),
        ("sqlite:///data/wedwatch.db", "data/wedwatch.db"),
        ("sqlite:////var/lib/wedwatch.db", "/var/lib/wedwatch.db"),
        ("sqlite:///:memory:", ":memory:"),
    ],
)
def test_sqlite_path(url: str, path: str) -> None:
    assert sqlite_path(url) == path


def test_sqlite_path_needs_a_file() -> None:
    with pytest.raises(StoreError, match="needs a path"):
        sqlite_path("sqlite:///")


def test_timestamp_text_is_fixed_utc_and_sorts() -> None:
    local = datetime(2027, 6, 12, 15, 0, tzinfo=timezone(timedelta(hours=2)))
    assert format_timestamp(local) == "2027-06-12T13:00:00.000000Z"
    assert parse_timestamp("2027-06-12T13:00:00.000000Z") == local
    assert format_timestamp(datetime(999, 1, 1, tzinfo=UTC)) == "0999-01-01T00:00:00.000000Z"
    with pytest.raises(ValueError, match="naive"):
        format_timestamp(datetime(2027, 6, 12))


async def test_relative_url_is_relative_to_the_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    async with open_store_ctx("sqlite:///relative.db") as store:
        await store.ping()
    assert (tmp_path / "relative.db").is_file()


async def test_memory_store_works() -> None:
    async with open_store_ctx("sqlite:///:memory:") as store:
        assert await store.record_notification(
            dedup_key="k", group_key="g", receiver="r", status="firing", alert_count=1, payload={}
        )


async def test_pragmas_wal_full_sync_foreign_keys(tmp_path: Path) -> None:
    async with open_store_ctx(f"sqlite:///{tmp_path / 'w.db'}") as store:
        assert isinstance(store, SqliteStore)

        def pragmas(conn: sqlite3.Connection) -> list[object]:
            statements = ("PRAGMA journal_mode", "PRAGMA synchronous", "PRAGMA foreign_keys", "PRAGMA busy_timeout")
            return [next(iter(conn.execute(statement).fetchone().values())) for statement in statements]

        assert store._conn is not None
        assert await store.call(pragmas, store._conn) == ["wal", 2, 1, 10000]


async def test_foreign_keys_are_enforced(tmp_path: Path) -> None:
    async with open_store_ctx(f"sqlite:///{tmp_path / 'w.db'}") as store:
        with pytest.raises(StoreError, match="FOREIGN KEY"):
            await store.enqueue_action(999, "log", "k", {})


async def test_unopenable_file_is_unavailable(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'missing-dir' / 'w.db'}"
    with pytest.raises(StoreUnavailable, match="unable to open database") as info:
        await open_store(url)
    assert url in str(info.value)


async def test_write_lock_held_past_the_timeout_is_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "w.db"
    async with open_store_ctx(f"sqlite:///{path}", timeout=0.2) as store:
        other = sqlite3.connect(path, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            with pytest.raises(StoreUnavailable, match="locked"):
                await store.record_notification(
                    dedup_key="k", group_key="g", receiver="r", status="firing", alert_count=1, payload={}
                )
            # Reads need no write lock (WAL).
            assert await store.list_weddings() == []
            other.execute("ROLLBACK")
            assert await store.record_notification(
                dedup_key="k", group_key="g", receiver="r", status="firing", alert_count=1, payload={}
            )
        finally:
            other.close()


async def test_closed_store_refuses_work(tmp_path: Path) -> None:
    store = await open_store(f"sqlite:///{tmp_path / 'w.db'}")
    await store.close()
    await store.close()  # idempotent
    with pytest.raises(StoreError, match="closed"):
        await store.ping()


async def test_unsupported_url_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="store.url: unsupported URL 'mysql://u:xxxxx@h/db'"):
        await open_store("mysql://u:secret@h/db")
