"""PostgreSQL specifics: connection failures are StoreUnavailable and never show a password."""

from __future__ import annotations

import asyncio
import logging

import pytest

from wedwatch.errors import StoreError, StoreUnavailable
from wedwatch.store import PostgresStore, open_store, open_store_ctx


@pytest.mark.parametrize("scheme", ["postgresql", "postgres"])
async def test_unreachable_server_is_unavailable_and_redacted(scheme: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    url = f"{scheme}://wedwatch:s3cret-pw@127.0.0.1:1/wedwatch"
    with pytest.raises(StoreUnavailable) as info:
        await open_store(url, timeout=2)
    message = str(info.value)
    assert f"store {scheme}://wedwatch:xxxxx@127.0.0.1:1/wedwatch unavailable" in message
    assert "s3cret-pw" not in message
    assert "s3cret-pw" not in caplog.text


@pytest.mark.postgres
async def test_exhausted_pool_is_unavailable(postgres_schema_url: str) -> None:
    async with open_store_ctx(postgres_schema_url, pool_max_size=1, timeout=0.3) as store:
        holding = asyncio.Event()
        release = asyncio.Event()

        async def hold() -> None:
            async with store.transaction():
                holding.set()
                await release.wait()

        holder = asyncio.create_task(hold())
        await holding.wait()
        try:
            with pytest.raises(StoreUnavailable, match="unavailable"):
                await store.ping()
        finally:
            release.set()
            await holder
        await store.ping()


@pytest.mark.postgres
async def test_closed_store_refuses_work(postgres_schema_url: str) -> None:
    store = await open_store(postgres_schema_url)
    assert isinstance(store, PostgresStore)
    await store.close()
    await store.close()
    with pytest.raises(StoreError, match="closed"):
        await store.ping()


@pytest.mark.postgres
async def test_constraint_violations_are_store_errors_not_unavailable(postgres_schema_url: str) -> None:
    async with open_store_ctx(postgres_schema_url) as store:
        with pytest.raises(StoreError, match="ForeignKeyViolation") as info:
            await store.enqueue_action(999, "log", "k", {})
        assert not isinstance(info.value, StoreUnavailable)
