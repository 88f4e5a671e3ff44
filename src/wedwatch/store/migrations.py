"""Numbered schema migrations per dialect (`sql/migrations/<dialect>/NNNN_name.sql`).

All pending migrations run in one transaction together with their `schema_migrations` rows,
after taking the dialect's migration lock (`lock_migrations`: an advisory lock on PostgreSQL;
on SQLite the `BEGIN IMMEDIATE` write lock), so two processes starting at once take turns and
the second finds nothing left to do. A failing migration leaves the schema as it was.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib import resources

from wedwatch.errors import StoreError
from wedwatch.store.queries import DIALECTS
from wedwatch.store.transaction import TransactionalStore, utc_now

__all__ = ["Migration", "load_migrations", "apply_migrations"]

log = logging.getLogger(__name__)

_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    """One migration script: its version (the file's number), name and SQL."""

    version: int
    name: str
    sql: str


@cache
def load_migrations(dialect: str) -> tuple[Migration, ...]:
    """The dialect's migrations in version order; a misnamed or duplicate file is an error."""
    if dialect not in DIALECTS:
        raise StoreError(f"unknown SQL dialect {dialect!r}")
    folder = resources.files("wedwatch.store").joinpath("sql", "migrations", dialect)
    found: dict[int, Migration] = {}
    for entry in folder.iterdir():
        if not entry.name.endswith(".sql"):
            continue
        match = _FILE.match(entry.name)
        if match is None:
            raise StoreError(f"migration file {dialect}/{entry.name} is not named NNNN_name.sql")
        version = int(match.group(1))
        if version in found:
            raise StoreError(f"two {dialect} migrations have version {version}")
        found[version] = Migration(version, match.group(2), entry.read_text(encoding="utf-8"))
    return tuple(found[v] for v in sorted(found))


async def apply_migrations(store: TransactionalStore, *, now: datetime | None = None) -> list[int]:
    """Apply the store's pending migrations in order; the versions applied ([] when none)."""
    migrations = load_migrations(store.dialect)
    applied: list[int] = []
    async with store.transaction() as tx:
        await tx.execute("lock_migrations")
        await tx.execute("create_schema_migrations")
        done = {row["version"] for row in await tx.fetchall("applied_migrations")}
        for migration in migrations:
            if migration.version in done:
                continue
            await tx.run_script(migration.sql)
            await tx.execute(
                "record_migration",
                {"version": migration.version, "name": migration.name, "applied_at": utc_now(now)},
            )
            applied.append(migration.version)
    if applied:
        log.info("store %s: applied migrations %s", store.url, ", ".join(map(str, applied)))
    return applied
