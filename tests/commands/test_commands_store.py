"""`wedwatch store prune | stats` (src/wedwatch/commands/store.py) on both back ends: the JSON shapes,
--at and --dry-run, a pass skipped while another process prunes, exit codes."""

from __future__ import annotations

import asyncio
import json
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from wedwatch.cli import main
from wedwatch.store import load_migrations, open_store_ctx
from wedwatch.store.pruning import LEASE
from wedwatch.store.retention import KIND_NAMES, PRUNED_TABLES

AT = "2028-06-01T12:00:00Z"
AT_TIME = datetime(2028, 6, 1, 12, tzinfo=UTC)


@pytest.fixture
def config(store_url: str, tmp_path: Path) -> Path:
    path = tmp_path / "wedwatch.yml"
    path.write_text(f"store:\n  url: {store_url}\n  timeout_seconds: 3\n")
    return path


def _seed(url: str) -> None:
    """Notifications 31 and 29 days before AT, a resolved and a firing incident 401 days before."""

    async def fill() -> None:
        async with open_store_ctx(url) as store:
            for key, age in (("old", 31), ("new", 29)):
                await store.record_notification(
                    dedup_key=key, group_key="g", receiver="r", status="firing", alert_count=1, payload={},
                    received_at=AT_TIME - timedelta(days=age),
                )  # fmt: skip
            for fingerprint, status in (("gone", "resolved"), ("stays", "firing")):
                await store.upsert_incident(
                    fingerprint=fingerprint, starts_at=AT_TIME - timedelta(days=402), alertname="A", status=status,
                    severity="low", labels={}, annotations={}, seen_at=AT_TIME - timedelta(days=401),
                )  # fmt: skip

    asyncio.run(fill())


def _json(args: list[str], capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    assert main(args) == 0
    document: dict[str, object] = json.loads(capsys.readouterr().out)
    return document


def test_stats_json_is_exactly_tables_rows_bytes(config: Path, store_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    _seed(store_url)
    document = _json(["store", "stats", "--config.file", str(config), "--json"], capsys)
    assert list(document) == ["tables"]
    tables = document["tables"]
    assert isinstance(tables, dict)
    assert set(PRUNED_TABLES) | {"weddings", "schema_migrations", "store_leases"} <= set(tables)
    for name, entry in tables.items():
        assert list(entry) == ["rows", "bytes"], name
        assert isinstance(entry["rows"], int) and isinstance(entry["bytes"], int) and entry["bytes"] > 0, name
    assert tables["notifications"]["rows"] == 2 and tables["performance_alerts"]["rows"] == 2


def test_stats_table(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["store", "stats", "--config.file", str(config)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["table", "rows", "bytes", "size"]
    migrations = str(len(load_migrations("sqlite")))
    assert any(line.split()[:2] == ["schema_migrations", migrations] for line in lines)
    assert lines[-1].startswith("database: ")


def test_dry_run_counts_what_prune_at_then_removes(config: Path, store_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    _seed(store_url)
    base = ["store", "prune", "--config.file", str(config), "--at", AT, "--json"]
    dry = _json([*base, "--dry-run"], capsys)
    stats = _json(["store", "stats", "--config.file", str(config), "--json"], capsys)["tables"]
    assert isinstance(stats, dict) and stats["notifications"]["rows"] == 2  # nothing removed
    real = _json(base, capsys)
    assert dry["dry_run"] is True and real["dry_run"] is False
    assert dry["at"] == real["at"] == AT
    assert dry["tables"] == real["tables"]
    assert real["tables"]["notifications"] == {"rows": 1}  # type: ignore[index]
    assert real["tables"]["performance_alerts"] == {"rows": 1}  # type: ignore[index]
    kinds = real["kinds"]
    assert isinstance(kinds, dict) and list(kinds) == list(KIND_NAMES)
    assert kinds["notifications"] == {"retention_days": 30.0, "cutoff": "2028-05-02T12:00:00Z", "rows": 1}
    stats = _json(["store", "stats", "--config.file", str(config), "--json"], capsys)["tables"]
    assert isinstance(stats, dict) and stats["notifications"]["rows"] == 1 and stats["performance_alerts"]["rows"] == 1


def test_prune_table(config: Path, store_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    _seed(store_url)
    assert main(["store", "prune", "--config.file", str(config), "--at", AT]) == 0
    out = capsys.readouterr().out
    assert f"at {AT} (removed)" in out.splitlines()[0]
    rows = {line.split()[0]: line.split() for line in out.splitlines()[2 : 2 + len(KIND_NAMES)]}
    assert rows["notifications"] == ["notifications", "30d", "2028-05-02T12:00:00Z", "1"]
    assert rows["incidents"][-1] == "1"
    assert "total: 2 rows" in out


def test_prune_skips_while_another_process_prunes(config: Path, store_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    _seed(store_url)

    async def hold() -> None:
        async with open_store_ctx(store_url) as store:
            assert await store.acquire_lease(LEASE, "receiver-1", seconds=60)

    asyncio.run(hold())
    assert main(["store", "prune", "--config.file", str(config), "--at", AT, "--json"]) == 0
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert report["skipped"] is True and report["holder"] == "receiver-1"
    assert all(entry["rows"] == 0 for entry in report["tables"].values())
    assert "skipped: receiver-1 is pruning" in captured.err


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("sub", ["prune", "stats"])
def test_a_dead_database_exits_1_with_its_reason(tmp_path: Path, sub: str, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "wedwatch.yml"
    path.write_text(f"store:\n  url: postgresql://wedwatch@127.0.0.1:{_closed_port()}/w\n  timeout_seconds: 2\n")
    assert main(["store", sub, "--config.file", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("wedwatch store: store postgresql://wedwatch@127.0.0.1:") and "unavailable" in err


def test_an_unopenable_sqlite_file_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "wedwatch.yml"
    path.write_text(f"store:\n  url: sqlite:///{tmp_path / 'missing-dir' / 'w.db'}\n")
    assert main(["store", "stats", "--config.file", str(path)]) == 1
    assert "unavailable" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["store"], "a subcommand is required: prune or stats"),
        (["store", "vacuum"], "invalid choice: 'vacuum'"),
        (["store", "prune", "--at", "tomorrow"], "--at: not an ISO 8601 time: 'tomorrow'"),
        (["store", "prune", "--json", "--config.file", "missing.yml"], "missing.yml"),
    ],
)
def test_usage_errors_exit_2(
    args: list[str], message: str, config: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WEDWATCH_CONFIG", str(config))
    monkeypatch.chdir(config.parent)
    assert main(args) == 2
    assert message in capsys.readouterr().err
